"""A frame's poll reads its answer from the cache, and no database, until something in it
changes: any change to the frame, its items, their creations or jobs reaches the next poll, in
every web process, and an unpaired frame's token is refused at its next poll."""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.devices import services as devices
from studio.models import Creation, Device
from tests.conftest import require, run_job
from tests.studio.test_abuse_limits import redis_is_running
from tests.studio.test_share_views import REDIS_URL, run_web_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def frame(user, finished_creation):
    registration = devices.device_register(name="Hall", screen_width=1280, screen_height=720)
    device = devices.device_pair(user=user, code=registration.device.pairing_code)
    devices.playlist_set(device=device, creations=[finished_creation])
    return device, registration.token


def poll(token, etag=None):
    headers = {"Authorization": f"Bearer {token}", **({"If-None-Match": etag} if etag else {})}
    return Client().get(reverse("studio:frame-playlist"), headers=headers)


def titles(response) -> list[str]:
    return [item["title"] for item in response.json()["items"]]


def test_a_poll_reads_no_database_once_the_answer_is_kept(frame):
    _device, token = frame
    first = poll(token)
    assert first.status_code == 200 and titles(first) == ["Chelsea"]
    with CaptureQueriesContext(connection) as queries:
        second = poll(token)
        unchanged = poll(token, etag=first["ETag"])
    assert queries.captured_queries == []
    assert second.content == first.content and second["ETag"] == first["ETag"]
    assert second["Content-Type"] == "application/json" and unchanged.status_code == 304


def test_an_unpaired_frame_is_refused_at_its_next_poll(frame, owner_client):
    device, token = frame
    assert poll(token).status_code == 200  # kept
    owner_client.post(reverse("studio:frame-unpair", args=[device.pk]))
    assert poll(token).status_code == 401


def test_an_unknown_token_is_never_kept(frame):
    assert poll("not-a-token").status_code == 401
    with CaptureQueriesContext(connection) as queries:
        assert poll("not-a-token").status_code == 401
    assert queries.captured_queries  # looked up again, every time


def _add_second(device, user, make_creation):
    second = make_creation(user, title="Nabi")
    assert run_job(second.job_id).state == "succeeded"
    devices.playlist_set(device=device, creations=list(Creation.objects.filter(owner=user).select_related("job")))


def _rename(device):
    creation = Creation.objects.get(pk=device.playlist.get().creation_id)
    creation.title = "Nabi"
    creation.save()


def _rename_frame(device):
    frame = Device.objects.get(pk=device.pk)  # as the admin's form saves it: the model, no service
    frame.name = "Kitchen"
    frame.save()


CHANGES = {
    "the owner ticks another video": lambda device, user, make_creation: _add_second(device, user, make_creation),
    "an item is taken off": lambda device, user, make_creation: devices.playlist_item_remove(item=device.playlist.get()),
    "the frame's settings": lambda device, user, make_creation: devices.device_update(
        device=device, name="Hall", screen_width=1280, screen_height=720, loop=True, seconds_per_video=5),
    "a creation's new title": lambda device, user, make_creation: _rename(device),
    "the creation is deleted": lambda device, user, make_creation: Creation.objects.get(pk=device.playlist.get().creation_id).delete(),
    "the frame renamed in the admin": lambda device, user, make_creation: _rename_frame(device),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_reaches_the_next_poll(change, frame, user, make_creation, django_capture_on_commit_callbacks):
    device, token = frame
    before = poll(token)
    assert poll(token).content == before.content  # kept
    with django_capture_on_commit_callbacks(execute=True):
        CHANGES[change](device, user, make_creation)
    after = poll(token, etag=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert {
        "the owner ticks another video": ["Chelsea", "Nabi"], "an item is taken off": [], "a creation's new title": ["Nabi"],
        "the creation is deleted": [],
    }.get(change, ["Chelsea"]) == titles(poll(token))


@pytest.mark.django_db(transaction=True)
def test_with_the_per_process_cache_a_change_made_in_another_process_reaches_this_one(frame):
    device, token = frame
    assert poll(token).json()["name"] == "Hall"  # now kept in this process's memory
    Device.objects.filter(pk=device.pk).update(name="Kitchen")  # behind the signals' back
    assert poll(token).json()["name"] == "Hall"
    result = run_web_process(f"""
        from studio.devices.services import playlist_forget
        playlist_forget("{device.token_hash}")  # what the other process's save did
    """)
    assert result.returncode == 0, result.stderr
    assert poll(token).json()["name"] == "Kitchen"


def test_on_redis_the_answer_is_shared_and_an_unpaired_frame_refused(settings, frame, owner_client):
    require(redis_is_running(), "Redis is not running on 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    device, token = frame
    first = poll(token)
    with CaptureQueriesContext(connection) as queries:
        assert poll(token).content == first.content
    assert queries.captured_queries == []
    owner_client.post(reverse("studio:frame-unpair", args=[device.pk]))
    assert poll(token).status_code == 401
