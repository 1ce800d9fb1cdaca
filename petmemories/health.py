"""Liveness and readiness probes for load balancers and orchestrators."""
import os
import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection


@never_cache
def healthz(request):
    """The process is up and answering."""
    return HttpResponse("ok", content_type="text/plain")


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker():
    if settings.GENERATION_TASK_BACKEND == "dramatiq":
        import redis

        redis.Redis.from_url(settings.DRAMATIQ_BROKER_URL, socket_connect_timeout=3, socket_timeout=3).ping()
        return
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    with Connection(settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        if "data_folder_in" in options:  # the filesystem broker "connects" to anything
            folder = options["data_folder_in"]
            if not os.access(folder, os.W_OK):
                raise OSError(f"broker folder {folder} is missing or not writable")


def _storage():
    name = default_storage.save(".readyz/probe.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise OSError("storage returned other bytes than were written")
    finally:
        default_storage.delete(name)


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


@never_cache
def readyz(request):
    """200 when the database, the broker and the storage all answer; 503 and which failed otherwise."""
    report, ok = {}, True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
            report[name] = {"ok": True}
        except Exception as error:  # a probe reports every failure, whatever it is
            ok = False
            report[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        report[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return JsonResponse({"ok": ok, "checks": report}, status=200 if ok else 503)
