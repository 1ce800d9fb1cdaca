"""The command-line tools: animate, engines, ensure_admin, requeue_jobs."""
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from generation import media
from tests.conftest import CAT_PHOTO, ROOT


def run_manage(*args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_animate_writes_a_decodable_mp4_with_the_asked_size_and_length(tmp_path, capsys):
    out = tmp_path / "chelsea.mp4"
    call_command("animate", str(CAT_PHOTO), "-o", str(out), "--seconds", "2", "--fps", "12", "--aspect", "4:3", "--height", "240")
    info = media.probe_video(out)
    assert (info.width, info.height, info.frame_count, info.duration) == (320, 240, 24, 2.0)
    assert "Wrote" in capsys.readouterr().out


def test_animate_writes_a_gif_when_the_output_ends_in_gif(tmp_path):
    out = tmp_path / "chelsea.gif"
    call_command("animate", str(CAT_PHOTO), "-o", str(out), "--seconds", "2", "--fps", "24", "--height", "240", "--no-loop")
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == 24  # the GIF's own 12 fps


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--fps", "500"], "Frame rate must be between"),
        (["--aspect", "2:1"], "Aspect ratio must be one of"),
        (["--engine", "nope"], "no engine called 'nope'"),
    ],
)
def test_animate_refuses_bad_knobs_with_the_reason(tmp_path, args, reason):
    with pytest.raises(CommandError, match=reason):
        call_command("animate", str(CAT_PHOTO), "-o", str(tmp_path / "x.mp4"), *args)


def test_animate_refuses_a_file_that_is_not_a_photo(tmp_path):
    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("hello")
    with pytest.raises(CommandError, match="isn't a photo we can read"):
        call_command("animate", str(not_a_photo), "-o", str(tmp_path / "x.mp4"))


def test_animate_exits_non_zero_with_a_one_line_reason(tmp_path):
    result = run_manage("animate", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "x.mp4"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"CommandError: No such file: {tmp_path / 'missing.jpg'}"]


@pytest.mark.django_db
def test_engines_lists_each_engine_and_whether_it_is_ready(capsys):
    call_command("engines")
    line = capsys.readouterr().out.splitlines()[0]
    assert line.split()[:3] == ["living-photo", "cpu", "ready"]


@pytest.mark.django_db
def test_ensure_admin_creates_one_admin_and_is_safe_to_run_again(capsys, django_user_model, monkeypatch):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    first = capsys.readouterr().out
    admin = django_user_model.objects.get(is_superuser=True)
    password = first.split("password: ")[1].strip()
    assert admin.check_password(password)
    call_command("ensure_admin")
    assert "already exists" in capsys.readouterr().out
    assert django_user_model.objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_ensure_admin_takes_email_and_password_from_the_environment(monkeypatch, django_user_model):
    monkeypatch.setenv("ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-chosen-pass-phrase")
    call_command("ensure_admin")
    assert django_user_model.objects.get(email="boss@example.com").check_password("a-chosen-pass-phrase")


@pytest.mark.django_db
def test_load_demo_fills_an_empty_shop_once_and_keeps_staff_edits(capsys):
    from shop.models import Frame, FrameVariant

    call_command("load_demo")
    assert Frame.objects.filter(is_active=True).count() == 4
    assert FrameVariant.objects.filter(is_active=True, stock__gt=0).count() == 7
    FrameVariant.objects.filter(sku="MINI-8-SNOW").update(price_usd="59.00")
    call_command("load_demo")
    assert str(FrameVariant.objects.get(sku="MINI-8-SNOW").price_usd) == "59.00"
    assert "not loaded" in capsys.readouterr().out


@pytest.mark.django_db
def test_queues_reports_waiting_jobs_per_queue(make_creation, user, capsys):
    from generation.models import Job

    make_creation(user)
    Job.objects.update(priority=True)
    make_creation(user)
    call_command("queues", "--timeout", "0.2")
    lines = capsys.readouterr().out.splitlines()
    cpu = next(line for line in lines if line.startswith("cpu"))
    assert cpu.split()[1:4] == ["2", "1", "0"] and "living-photo" in cpu


def test_a_command_that_sends_no_task_starts_without_celery():
    # `manage.py animate` and the other commands load every app; Celery (and the broker's
    # client) load only where a task is sent or a worker runs.
    code = (
        "import sys, django; django.setup(); import generation.management.commands.animate; "
        "print(sorted(name for name in ('celery', 'kombu') if name in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.local"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("command", [
    ["animate", "tests/cat.jpg", "--seconds", "2", "--fps", "12", "--height", "128"],
    ["restore", "tests/cat.jpg"],
])
def test_the_engine_commands_set_up_only_the_generation_app(command, tmp_path):
    # manage.py narrows INSTALLED_APPS for the commands that run one engine on one file: it
    # runs here as the script it is, and the modules loaded when it exits hold none of the
    # site's other apps, allauth or the admin, while the command still did its work.
    out = tmp_path / ("out.mp4" if command[0] == "animate" else "out.png")
    modules = tmp_path / "modules.json"
    code = (
        "import atexit, json, runpy, sys; "
        f"atexit.register(lambda: open({str(modules)!r}, 'w').write(json.dumps(sorted(sys.modules)))); "
        f"sys.argv = ['manage.py', *{command!r}, '-o', {str(out)!r}]; "
        "runpy.run_path('manage.py', run_name='__main__')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.local"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = set(json.loads(modules.read_text()))
    assert {"generation.models", "generation.engines.living_photo"} <= loaded
    assert not {name for name in loaded if name.split(".")[0] in {"accounts", "studio", "shop", "memorials", "partners", "allauth"}}
    assert not any(name.startswith("django.contrib.admin") for name in loaded)
    assert out.stat().st_size > 1000
