"""What `make run` does for a newcomer: an admin account without leaking a chosen password, and
a site and worker that Ctrl-C stops."""
import pytest
from django.core.management import call_command


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
