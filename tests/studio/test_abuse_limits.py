"""Abuse limits: caps on each account's videos, rate limits on anonymous writes counted per
client address in the shared cache, the login throttle, and unpaired frames that expire."""
import io
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generation.models import Job
from generation.services import TooManyJobs, job_fail
from shop.models import LaunchMode
from studio.models import Creation, Device, ShareReport
from studio.ratelimit import rate_limit_allow
from tests.conftest import ROOT, require

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/5"


def upload(client, photo_bytes):
    photo = io.BytesIO(photo_bytes)
    photo.name = "cat.jpg"
    return client.post(reverse("studio:creation-new"), {"photo": photo, "aspect_ratio": "1:1", "engine": "living-photo"})


@pytest.fixture
def caps(settings):
    settings.GENERATION_MAX_IN_FLIGHT_PER_ACCOUNT = 2
    settings.GENERATION_MAX_PER_DAY_PER_ACCOUNT = 3
    return settings


# --- Videos per account ---------------------------------------------------------------------


def test_an_account_with_its_videos_in_the_making_is_refused_another_and_nothing_is_stored(caps, owner_client, user, photo_bytes, media_root):
    LaunchMode.objects.update_or_create(pk=1, defaults={"is_on": True})  # free videos reserve no credit, and are capped all the same
    for _ in range(2):
        assert upload(owner_client, photo_bytes).status_code == 302
    photos_before = sorted(media_root.rglob("*.jpg"))
    response = upload(owner_client, photo_bytes)
    assert response.status_code == 400
    assert "You already have 2 videos in the making. Wait for one to finish, then try again." in response.content.decode()
    assert Creation.objects.count() == Job.objects.count() == 2
    assert sorted(media_root.rglob("*.jpg")) == photos_before


def test_a_finished_video_frees_its_place_until_the_day_s_cap(caps, make_creation, user):
    for _ in range(3):
        creation = make_creation(user)
        job_fail(job_id=creation.job_id, reason="Out of memory.")
    with pytest.raises(TooManyJobs, match="You have made 3 videos today, as many as one account may. You can make more tomorrow."):
        make_creation(user)
    Job.objects.update(created_at=timezone.now() - timedelta(days=1))  # yesterday's count no more
    make_creation(user)


def test_premium_is_capped_too(caps, make_creation, make_premium, user):
    make_premium(user)
    make_creation(user)
    make_creation(user)
    with pytest.raises(TooManyJobs):
        make_creation(user)


def test_trying_a_failed_video_again_over_the_cap_says_why(caps, make_creation, owner_client, user):
    failed = make_creation(user)
    job_fail(job_id=failed.job_id, reason="Out of memory.")
    make_creation(user)
    make_creation(user)
    response = owner_client.post(reverse("studio:creation-retry", args=[failed.pk]), follow=True)
    assert "You already have 2 videos in the making." in response.content.decode()
    failed.refresh_from_db()
    assert failed.job.state == Job.State.FAILED and Job.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_uploads_at_once_cannot_both_take_the_last_place(caps, make_creation, user):
    """The first upload's transaction is still open when the second counts: without the lock
    on the owner's row the second would not see the first's job and pass."""
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    caps.GENERATION_MAX_IN_FLIGHT_PER_ACCOUNT = 1
    first_made, outcomes = threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                make_creation(user)
                first_made.set()
                time.sleep(1)  # the second upload arrives meanwhile
            outcomes.append("first made")
        finally:
            close_old_connections()

    def second():
        first_made.wait(10)
        try:
            make_creation(user)
            outcomes.append("second made")
        except TooManyJobs:
            outcomes.append("second refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert sorted(outcomes) == ["first made", "second refused"]
    assert Job.objects.count() == 1


# --- Anonymous writes, per client address ---------------------------------------------------


def register(client=None, **meta):
    return (client or Client()).post("/api/frames/register", "{}", content_type="application/json", **meta)


def test_frame_registrations_are_limited_per_address_with_a_clear_error(settings):
    settings.FRAMES_REGISTER_PER_ADDRESS_PER_HOUR = 3
    assert [register(REMOTE_ADDR="203.0.113.7").status_code for _ in range(3)] == [201] * 3
    refused = register(REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert refused.json() == {"error": "Too many frames registered from this address: at most 3 an hour. Try again later."}
    assert register(REMOTE_ADDR="198.51.100.2").status_code == 201  # another household is not held up
    assert Device.objects.count() == 4


def test_a_forwarded_address_is_believed_only_from_the_configured_proxy(settings):
    settings.FRAMES_REGISTER_PER_ADDRESS_PER_HOUR = 1
    # No proxy configured: a client cannot dodge the limit by writing a header.
    assert register(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 201
    assert register(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429

    # Behind one proxy of ours, the client is the last address it appended; what the client
    # wrote to the left of it is ignored.
    settings.TRUSTED_CLIENT_IP_HEADER, settings.TRUSTED_PROXY_COUNT = "X-FORWARDED-FOR", 1
    assert register(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7").status_code == 201
    assert register(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.7").status_code == 429
    assert register(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 201


def test_an_ipv6_household_counts_as_one_address(settings):
    settings.FRAMES_REGISTER_PER_ADDRESS_PER_HOUR = 1
    assert register(REMOTE_ADDR="2001:db8:1:2::10").status_code == 201
    assert register(REMOTE_ADDR="2001:db8:1:2:ffff::1").status_code == 429  # same /64


def test_anonymous_reports_are_limited_per_address_however_many_sessions(settings, owner_client, finished_creation):
    settings.SHARE_REPORTS_PER_ADDRESS_PER_HOUR = 2
    owner_client.post(reverse("studio:creation-share", args=[finished_creation.pk]), {"shared": "on"})
    finished_creation.refresh_from_db()
    url = reverse("studio:share-report", args=[finished_creation.share_token])
    for _ in range(2):
        assert Client(REMOTE_ADDR="203.0.113.7").post(url, {"reason": "offensive"}).status_code == 302
    refused = Client(REMOTE_ADDR="203.0.113.7").post(url, {"reason": "offensive"})
    assert refused.status_code == 429
    assert "Too many reports have come from your network in the last hour. Please try again later." in refused.content.decode()
    assert ShareReport.objects.count() == 2


def test_frames_nobody_paired_expire_and_the_others_stay(settings, user):
    from shop.models import Order

    settings.FRAMES_UNPAIRED_EXPIRE_HOURS = 24
    long_ago = timezone.now() - timedelta(hours=25)
    abandoned = Device.objects.get(pk=register().json()["device_id"])
    recent = Device.objects.get(pk=register().json()["device_id"])
    paired = Device.objects.create(owner=user, paired_at=long_ago)
    order = Order.objects.create(
        customer=user, email=user.email, currency="KRW", subtotal=89000, total=89000, status="paid",
        is_gift=True, gift_recipient_email="grandma@example.com",
    )
    gift = Device.objects.create(order=order)  # waits for the recipient to accept it
    Device.objects.filter(pk__in=[abandoned.pk, paired.pk, gift.pk]).update(registered_at=long_ago)

    out = io.StringIO()
    call_command("expire_frames", stdout=out)
    assert "Deleted 1 unpaired frame(s)." in out.getvalue()
    assert set(Device.objects.values_list("pk", flat=True)) == {recent.pk, paired.pk, gift.pk}


def test_the_beat_process_expires_unpaired_frames_every_hour(settings):
    from petmemories.celery import app  # as the workers and beat load it (celery -A petmemories)

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["expire-unpaired-frames"]
    assert entry["task"] in app.tasks and entry["schedule"] == 3600


# --- Login and the shared cache -------------------------------------------------------------


def test_failed_logins_are_throttled(settings, client, user):
    del settings.ACCOUNT_RATE_LIMITS  # allauth's own limits, as in production: 5 failures per account in 5 minutes
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
        assert "Too many failed login attempts" not in response.content.decode()
    response = client.post(reverse("account_login"), {"login": user.email, "password": "a-long-pass-phrase"})
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session


def redis_is_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def test_a_rate_limit_counts_across_processes_on_redis(settings):
    """Two processes, one count: another process spends the allowance, this one is refused."""
    require(redis_is_running(), "Redis is not running on 127.0.0.1:6379")
    who = f"test-{uuid.uuid4().hex}"  # a count of this run only: the database is not flushed
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    spend = f"from studio.ratelimit import rate_limit_allow; print([rate_limit_allow(scope='frames', who='{who}', limit=3, seconds=60) for _ in range(3)])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.test", "CACHE_URL": REDIS_URL}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", spend], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "[True, True, True]", result.stdout + result.stderr
    assert not rate_limit_allow(scope="frames", who=who, limit=3, seconds=60)
    assert rate_limit_allow(scope="frames", who=f"{who}-elsewhere", limit=3, seconds=60)

