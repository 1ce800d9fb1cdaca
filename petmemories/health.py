"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz`` is public and touches nothing. ``/readyz`` checks the database, the broker and the
storage, so it answers only the operator: a request from READYZ_ALLOWED_NETWORKS that did not
come through the public proxy, or one with ``Authorization: Bearer <READYZ_TOKEN>``. It names
each check and whether it passed; what went wrong is logged, never shown.
"""
import hmac
import ipaddress
import logging
import os
import time

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from kombu import Connection

logger = logging.getLogger(__name__)

# Headers a reverse proxy adds: a request carrying one came from outside, whatever the proxy's
# own address (often loopback or private) says.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


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
    # Probes come every few seconds: writing an object each time would fill (and bill) a
    # bucket. Write, read back and delete once per READYZ_STORAGE_WRITE_SECONDS (per cache);
    # in between, listing the top folder shows the storage still answers.
    if not cache.add("readyz:storage-written", True, timeout=settings.READYZ_STORAGE_WRITE_SECONDS):
        default_storage.listdir("")
        return
    try:
        name = default_storage.save(".readyz/probe.txt", ContentFile(b"ok"))
        try:
            with default_storage.open(name) as handle:
                if handle.read() != b"ok":
                    raise OSError("storage returned other bytes than were written")
        finally:
            default_storage.delete(name)
    except Exception:
        cache.delete("readyz:storage-written")  # try writing again on the next probe
        raise


CHECKS = {"database": _database, "broker": _broker, "storage": _storage}


def _from_operator(request) -> bool:
    token = settings.READYZ_TOKEN
    if token and hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        return True
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.5 from a dual-stack socket
    return any(address in ipaddress.ip_network(network) for network in settings.READYZ_ALLOWED_NETWORKS)


@never_cache
def readyz(request):
    """200 when the database, the broker and the storage all answer; 503 and which failed
    otherwise; 403 for anyone but the operator."""
    if not _from_operator(request):
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    report, ok = {}, True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
            report[name] = {"ok": True}
        except Exception:  # a probe reports every failure, whatever it is; the log says what
            logger.exception("Readiness check %r failed", name)
            ok = False
            report[name] = {"ok": False}
        report[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return JsonResponse({"ok": ok, "checks": report}, status=200 if ok else 503)
