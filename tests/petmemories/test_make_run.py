"""What `make run` does for a newcomer: an admin account without leaking a chosen password, and
a site and worker that Ctrl-C stops."""
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import ROOT, wait_for


@pytest.mark.django_db
def test_ensure_admin_never_prints_a_password_the_operator_chose(capsys, monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-chosen-pass-phrase")
    call_command("ensure_admin")
    out = capsys.readouterr().out
    assert "a-chosen-pass-phrase" not in out
    assert "boss@example.com  password: the one you set in ADMIN_PASSWORD" in out
    assert django_user_model.objects.get(email="boss@example.com").check_password("a-chosen-pass-phrase")


@pytest.mark.django_db
def test_ensure_admin_prints_a_password_it_generated(capsys, monkeypatch, django_user_model):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    generated = capsys.readouterr().out.split("password: ")[1].strip()
    assert django_user_model.objects.get(is_superuser=True).check_password(generated)


@pytest.mark.worker
def test_ctrl_c_stops_the_site_and_its_worker_without_a_kill(tmp_path):
    """`make run` is honcho over Procfile.dev; Ctrl-C sends SIGINT to honcho, which sends SIGTERM
    to each process and SIGKILL to any still running 5 s later."""
    env = {
        **os.environ, "VAR_DIR": str(tmp_path), "PORT": str(free_port()), "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    # `make run` runs on the embedded defaults (SQLite, the filesystem broker), not on CI's
    # PostgreSQL and Redis, which the variables CI sets would point it at.
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(name, None)
    log_path = tmp_path / "honcho.log"
    with log_path.open("w") as log:
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "--procfile", "Procfile.dev", "start"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_for(lambda: "ready." in log_path.read_text() and "Quit the server" in log_path.read_text(), timeout=90, what="the site and worker")
            os.killpg(honcho.pid, signal.SIGINT)
            honcho.wait(timeout=10)
        finally:
            if honcho.poll() is None:
                os.killpg(honcho.pid, signal.SIGKILL)
                # honcho starts each process in a group of its own: stop those too, by their ids.
                for pid in re.findall(r"started with pid (\d+)", log_path.read_text()):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(int(pid), signal.SIGKILL)
    output = log_path.read_text()
    assert "SIGKILL" not in output, output[-2000:]
    for pid in re.findall(r"sending SIGTERM to \S+ \(pid (\d+)\)", output):
        with pytest.raises(ProcessLookupError):  # nothing of the worker or site is left behind
            os.killpg(int(pid), 0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
