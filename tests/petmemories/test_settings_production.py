"""Production settings start only with what a deployment needs, and Celery never falls back to
a developer's settings."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "DJANGO_SETTINGS_MODULE": "petmemories.settings.production",
    "DJANGO_SECRET_KEY": "x" * 30 + "-Production-Secret-Key-With-Enough-Entropy-123",
    "DJANGO_ALLOWED_HOSTS": "petmemories.example",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example:587",
    "DATABASE_URL": "postgres://petmemories@db.internal:5432/petmemories",
    "SITE_URL": "https://petmemories.example",
    "CACHE_URL": "redis://cache.internal:6379/1",
}


def manage(*args, env, tmp_path):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**env, "VAR_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_checks(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_renders_from_the_cached_template_loader_and_keeps_its_database_connections(tmp_path):
    probe = (
        "from django.conf import settings; from django.template import engines; "
        "print(type(engines['django'].engine.template_loaders[0]).__module__, settings.DATABASES['default']['CONN_MAX_AGE'], "
        "settings.DATABASES['default']['CONN_HEALTH_CHECKS'], settings.SHARE_PAGE_MAX_AGE)"
    )
    result = manage("shell", "--no-imports", "-c", probe, env=PRODUCTION, tmp_path=tmp_path)
    assert result.stdout.split() == ["django.template.loaders.cached", "60", "True", "60"], result.stdout + result.stderr


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "DATABASE_URL", "SITE_URL", "CACHE_URL"])
def test_production_refuses_to_start_without(name, tmp_path):
    env = {key: value for key, value in PRODUCTION.items() if key != name}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0 and f"Set the {name} environment variable" in result.stderr


@pytest.mark.parametrize("url", ["locmemcache://", "dummycache://", "filecache:///tmp/petmemories-cache"])
def test_production_refuses_a_cache_its_processes_do_not_share(url, tmp_path):
    result = manage("check", env={**PRODUCTION, "CACHE_URL": url}, tmp_path=tmp_path)
    assert result.returncode != 0 and "CACHE_URL must name a Redis server" in result.stderr


@pytest.mark.parametrize("command, message", [
    (["-m", "celery", "-A", "petmemories", "worker", "--queues", "cpu"], "Set DJANGO_SETTINGS_MODULE before starting Celery"),
    (["-c", "import generation.workers.dramatiq_worker"], "Set DJANGO_SETTINGS_MODULE before starting a Dramatiq worker"),
])
def test_a_worker_without_settings_refuses_to_start_rather_than_use_a_laptop_s(command, message, tmp_path):
    env = {key: value for key, value in PRODUCTION.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env={**env, "VAR_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0 and message in result.stderr
