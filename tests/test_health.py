import pytest
from django.urls import reverse

from petmemories.celery import app as celery_app


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


@pytest.mark.django_db
def test_readyz_reports_database_broker_and_storage(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert {name: check["ok"] for name, check in report["checks"].items()} == {"database": True, "broker": True, "storage": True}


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False and checks["broker"]["error"]
    assert checks["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_503_when_the_storage_cannot_be_written(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": blocker}}}
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["ok"] is False


def test_the_celery_app_is_configured_from_django_settings(settings):
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.worker_prefetch_multiplier == 1
