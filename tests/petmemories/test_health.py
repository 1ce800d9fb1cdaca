import logging

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

from core.celery import app as celery_app


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_healthz_answers_anyone_and_readyz_only_the_operator(client, settings):
    settings.READYZ_TOKEN = "a-long-operator-token"
    outsider = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/healthz", **outsider).status_code == 200
    assert client.get(reverse("readyz"), **outsider).status_code == 403
    assert client.get(reverse("readyz"), HTTP_AUTHORIZATION="Bearer a-wrong-token", **outsider).status_code == 403
    # From loopback, but through the public proxy: an outsider too.
    assert client.get(reverse("readyz"), HTTP_X_FORWARDED_FOR="203.0.113.5", HTTP_X_FORWARDED_PROTO="https").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("request_from", [
    {"REMOTE_ADDR": "127.0.0.1"}, {"REMOTE_ADDR": "10.4.0.7"}, {"REMOTE_ADDR": "::ffff:192.168.1.20"},
    {"REMOTE_ADDR": "203.0.113.5", "HTTP_AUTHORIZATION": "Bearer a-long-operator-token"},
])
def test_readyz_answers_the_operator_s_network_or_token(client, settings, request_from):
    settings.READYZ_TOKEN = "a-long-operator-token"
    assert client.get(reverse("readyz"), **request_from).status_code == 200


@pytest.mark.django_db
def test_without_a_token_set_no_bearer_gets_in(client, settings):
    settings.READYZ_TOKEN = ""
    assert client.get(reverse("readyz"), REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer ").status_code == 403


@pytest.mark.django_db
def test_readyz_reports_database_broker_and_storage(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert {name: check["ok"] for name, check in report["checks"].items()} == {"database": True, "broker": True, "storage": True}


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_does_not_answer_and_logs_why_without_saying_it(client, settings, caplog):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    with caplog.at_level(logging.ERROR, logger="petmemories.health"):
        response = client.get(reverse("readyz"))
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False and set(checks["broker"]) == {"ok", "ms"}  # no exception text
    assert "127.0.0.1:9" not in response.content.decode() and "Error" not in response.content.decode()
    assert checks["database"]["ok"] is True
    [record] = [record for record in caplog.records if record.name == "petmemories.health"]
    assert "'broker'" in record.getMessage() and record.exc_info is not None


@pytest.mark.django_db
def test_readyz_is_503_when_the_storage_cannot_be_written_or_read(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": blocker}}}
    for _ in range(2):  # the first probe tries to write, the next ones too until a write works
        response = client.get(reverse("readyz"))
        assert response.status_code == 503 and response.json()["checks"]["storage"]["ok"] is False


@pytest.mark.django_db
def test_readyz_writes_to_the_storage_at_most_once_per_interval(client, settings, monkeypatch, media_root):
    settings.READYZ_STORAGE_WRITE_SECONDS = 300
    saved = []
    real_save = FileSystemStorage.save
    monkeypatch.setattr(FileSystemStorage, "save", lambda storage, name, *args, **kwargs: saved.append(name) or real_save(storage, name, *args, **kwargs))
    for _ in range(5):
        assert client.get(reverse("readyz")).status_code == 200
    assert len(saved) == 1
    assert not list(media_root.rglob("*.txt"))  # and the probe is not left behind
    # The storage breaking after that write still shows on the next probe.
    media_root.rename(media_root.with_name("moved"))
    assert client.get(reverse("readyz")).json()["checks"]["storage"]["ok"] is False


def test_the_celery_app_is_configured_from_django_settings(settings):
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.worker_prefetch_multiplier == 1
