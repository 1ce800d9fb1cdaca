# `make run` and `make test` are all a newcomer needs; see README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test test-ci setup migrate clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "PetMemories needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Two stamps: `make run` needs only the runtime, `make test` adds the test tools.
$(VENV)/.installed-run: $(BIN)/python requirements.txt constraints.txt
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed-run requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $@

setup: $(VENV)/.installed-run

migrate: setup
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py ensure_admin
	@echo "PetMemories: http://127.0.0.1:$(PORT)/  (admin at /admin/, Ctrl-C stops the site and its worker)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.dev start

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What CI runs on top of `make test`: the same suites against PostgreSQL and Redis with a
# real worker process, plus the browser journey. Needs those services (see .ci/run).
test-ci: $(VENV)/.installed-test
	$(BIN)/python -m pytest --ci $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
