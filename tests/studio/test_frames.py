"""Digital frames: register, pair with the code on screen, poll a playlist (304 while it is
unchanged), download checked videos, unpair — with the reference client as a real frame."""
import hashlib
import json
import re
import subprocess
import sys
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generation.media import probe_video
from studio.devices import services as devices
from studio.models import Device
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def register(client=None, **body) -> dict:
    response = (client or Client()).post("/api/frames/register", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def poll(token, etag=None, client=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return (client or Client()).get("/api/frames/playlist", **headers)


def pair(owner_client, code, name="Living room"):
    return owner_client.post(reverse("studio:frame-pair"), {"code": code, "name": name})


def choose(owner_client, device_id, creations, **settings):
    form = {"name": "Living room", "screen_width": 1920, "screen_height": 1080, "loop": "on", "seconds_per_video": 30, **settings}
    return owner_client.post(reverse("studio:frame-detail", args=[device_id]), {**form, "creations": [c.pk for c in creations]})


def test_a_frame_registers_and_shows_a_code_until_it_is_paired(client):
    answer = register(name="Kitchen", screen_width=1280, screen_height=800)
    assert set(answer) >= {"device_id", "token", "pairing_code"} and len(answer["pairing_code"]) == 6
    device = Device.objects.get(pk=answer["device_id"])
    assert device.token_hash == hashlib.sha256(answer["token"].encode()).hexdigest()  # only the hash is kept
    assert answer["token"] not in json.dumps(list(Device.objects.values()), default=str)
    playlist = poll(answer["token"]).json()
    assert playlist["paired"] is False and playlist["pairing_code"] == answer["pairing_code"] and playlist["items"] == []


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", json.dumps({"screen_width": 10}).encode()])
def test_a_bad_registration_is_refused_with_the_reason(client, body):
    response = client.post("/api/frames/register", body, content_type="application/json")
    assert response.status_code == 400 and "error" in response.json()
    assert not Device.objects.exists()


def test_the_owner_pairs_chooses_videos_and_the_frame_gets_them(owner_client, finished_creation):
    answer = register()
    response = pair(owner_client, answer["pairing_code"].lower())  # codes are not case-sensitive
    device = Device.objects.get()
    assert response.url == device.get_absolute_url() and device.owner == finished_creation.owner and device.name == "Living room"
    assert choose(owner_client, device.pk, [finished_creation]).status_code == 302

    response = poll(answer["token"])
    playlist = response.json()
    assert playlist["paired"] and playlist["pairing_code"] is None and playlist["settings"]["seconds_per_video"] == 30
    [item] = playlist["items"]
    job = finished_creation.job
    assert (item["id"], item["width"], item["height"], item["fit"]) == (str(finished_creation.pk), job.video.width, job.video.height, "contain")
    video = Client().get(item["url"].removeprefix("http://testserver"))
    data = b"".join(video.streaming_content) if video.streaming else video.content
    assert hashlib.sha256(data).hexdigest() == item["sha256"] and len(data) == item["bytes"]

    # Unchanged: a 304 with the same ETag. Changed: a new playlist.
    etag = response["ETag"]
    assert poll(answer["token"], etag).status_code == 304
    choose(owner_client, device.pk, [])
    changed = poll(answer["token"], etag)
    assert changed.status_code == 200 and changed.json()["items"] == [] and changed["ETag"] != etag


def test_a_frame_is_offered_videos_only_not_a_job_that_made_images(owner_client, user, finished_creation, settings):
    from generation.photos import photo_normalize
    from studio.devices.selectors import playlist_choices_for
    from studio.services import creation_create
    from tests.conftest import CAT_PHOTO, run_job

    settings.GENERATION_EXTRA_ENGINES = ["tests.engines.CollageEngine"]
    with CAT_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    collage = creation_create(owner=user, photos=[photo] * 3, aspect_ratio="1:1", engine="test-collage", params={"height": 240})
    assert run_job(collage.job_id).state == "succeeded"
    pair(owner_client, register()["pairing_code"])
    device = Device.objects.get()
    assert list(playlist_choices_for(device=device)) == [finished_creation]
    page = owner_client.get(device.get_absolute_url()).content.decode()
    assert str(finished_creation.pk) in page and str(collage.pk) not in page


def test_unpairing_stops_the_token_and_the_links_at_once(owner_client, finished_creation):
    answer = register()
    pair(owner_client, answer["pairing_code"])
    device = Device.objects.get()
    choose(owner_client, device.pk, [finished_creation])
    link = poll(answer["token"]).json()["items"][0]["url"].removeprefix("http://testserver")
    owner_client.post(reverse("studio:frame-unpair", args=[device.pk]))
    assert poll(answer["token"]).status_code == 401
    assert Client().get(link).status_code == 404


def test_a_frame_never_reads_another_s_playlist(owner_client, finished_creation, other_user):
    mine, theirs = register(), register()
    pair(owner_client, mine["pairing_code"])
    choose(owner_client, Device.objects.get(pk=mine["device_id"]).pk, [finished_creation])
    stranger = Client()
    stranger.force_login(other_user)
    pair(stranger, theirs["pairing_code"])
    assert poll(theirs["token"]).json()["items"] == []
    assert poll("made-up-token").status_code == 401 and poll("").status_code == 401
    # Nor can a stranger put someone else's video on their frame, or open the owner's frame page.
    choose(stranger, theirs["device_id"], [finished_creation])
    assert poll(theirs["token"]).json()["items"] == []
    assert stranger.get(reverse("studio:frame-detail", args=[mine["device_id"]])).status_code == 404


def test_a_tampered_or_expired_link_is_404(owner_client, finished_creation, monkeypatch):
    answer = register()
    pair(owner_client, answer["pairing_code"])
    choose(owner_client, answer["device_id"], [finished_creation])
    link = poll(answer["token"]).json()["items"][0]["url"].removeprefix("http://testserver")
    assert Client().get(link[:-5] + "xxxx/").status_code == 404
    later = devices._window() + 2
    monkeypatch.setattr(devices, "_window", lambda now=None: later)
    assert Client().get(link).status_code == 404


def test_an_expired_code_is_refused_and_the_frame_gets_a_new_one(owner_client):
    answer = register()
    Device.objects.update(pairing_expires_at=timezone.now() - timedelta(seconds=1))
    response = pair(owner_client, answer["pairing_code"])
    assert response.status_code == 400 and "expired" in response.content.decode()
    fresh = poll(answer["token"]).json()["pairing_code"]
    assert fresh != answer["pairing_code"]
    assert pair(owner_client, fresh).status_code == 302


def test_guessing_codes_is_stopped_after_ten_tries(owner_client):
    answer = register()
    for _ in range(10):
        assert "No frame is showing that code" in pair(owner_client, "ZZZZZZ").content.decode()
    assert "Too many tries" in pair(owner_client, answer["pairing_code"]).content.decode()
    assert not Device.objects.get().is_paired


def test_a_frame_name_on_two_lines_is_refused_by_the_pages_and_the_api(owner_client):
    answer = register()
    refused = pair(owner_client, answer["pairing_code"], name="Living\nroom")
    assert refused.status_code == 400 and "Write it on one line" in refused.content.decode()
    assert not Device.objects.get().is_paired
    pair(owner_client, answer["pairing_code"])
    device = Device.objects.get()
    assert choose(owner_client, device.pk, [], name="Hall\tway").status_code == 400
    assert Device.objects.get().name == "Living room"
    response = Client().post("/api/frames/register", json.dumps({"name": "Hall\r\nway"}), content_type="application/json")
    assert response.status_code == 400 and "one line" in response.json()["error"] and Device.objects.count() == 1
    with pytest.raises(ValidationError):
        devices.device_update(device=device, name="Hall\nway", screen_width=1920, screen_height=1080, loop=True, seconds_per_video=30)


@pytest.fixture
def gift(user, finished_creation, django_capture_on_commit_callbacks):
    """A paid gift order's frame, preloaded with the buyer's video; returns the frame's own
    registration, its device and the path of the link emailed to the recipient."""
    from shop.models import Order

    order = Order.objects.create(
        customer=user, email=user.email, currency="KRW", subtotal=89000, total=89000, status="paid", paid_at=timezone.now(),
        is_gift=True, gift_recipient_name="Grandma Lee", gift_recipient_email="grandma@example.com",
    )
    order.items.create(description="PetMemories Mini 8.0″ Snow", sku="MINI-8-SNOW", unit_price=89000, quantity=1)
    order.preload.set([finished_creation])
    frame = register()
    with django_capture_on_commit_callbacks(execute=True):
        [device] = devices.devices_provision_for_order(order=order, pairing_codes=[frame["pairing_code"]])
    assert device.owner is None and mail.outbox[0].to == ["grandma@example.com"]
    link = next(line for line in mail.outbox[0].body.splitlines() if "/frames/accept/" in line).strip()
    return frame, device, urlsplit(link).path


def test_a_gift_frame_is_paired_to_the_recipient_who_accepts_it(gift, user, other_user, finished_creation):
    frame, _, link = gift
    recipient = Client()
    recipient.force_login(other_user)
    assert recipient.post(link).status_code == 302
    device = Device.objects.get()
    assert device.owner == other_user
    assert [item["id"] for item in poll(frame["token"]).json()["items"]] == [str(finished_creation.pk)]
    # The link works once, for one person.
    thief = Client()
    thief.force_login(user)
    thief.post(link)
    assert Device.objects.get().owner == other_user


def test_opening_the_gift_link_only_asks_and_the_button_accepts(gift, other_user, finished_creation):
    _, _, link = gift
    recipient = Client()
    recipient.force_login(other_user)
    page = recipient.get(link, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Grandma Lee" in page and str(finished_creation) in page and 'method="post"' in page and "Accept the gift" in page
    assert Device.objects.get().owner is None  # a mail scanner or a prefetch opening the link accepts nothing

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(other_user)
    assert strict.post(link).status_code == 403  # the button needs the page's CSRF token
    assert Device.objects.get().owner is None
    recipient.post(link)
    assert Device.objects.get().owner == other_user


def test_saving_a_gift_frame_s_page_keeps_the_videos_on_it(gift, other_user, finished_creation, make_creation):
    from tests.conftest import run_job

    frame, device, link = gift
    recipient = Client()
    recipient.force_login(other_user)
    recipient.post(link)
    mine = make_creation(other_user, title="Coco")
    run_job(mine.job_id)
    page = recipient.get(reverse("studio:frame-detail", args=[device.pk])).content.decode()
    assert re.search(rf'value="{finished_creation.pk}"[^>]* checked', page)  # the gift is on the form, ticked

    # Renamed, nothing else touched: the preloaded video is still on the frame.
    choose(recipient, device.pk, [finished_creation], name="Grandma's kitchen")
    assert [item["id"] for item in poll(frame["token"]).json()["items"]] == [str(finished_creation.pk)]
    # One of the owner's own videos is added after it; unticking the gift takes it off for good.
    choose(recipient, device.pk, [finished_creation, mine])
    assert [item["id"] for item in poll(frame["token"]).json()["items"]] == [str(finished_creation.pk), str(mine.pk)]
    choose(recipient, device.pk, [mine])
    choose(recipient, device.pk, [finished_creation, mine])
    assert [item["id"] for item in poll(frame["token"]).json()["items"]] == [str(mine.pk)]


@pytest.mark.django_db(transaction=True)
def test_the_reference_client_registers_pairs_polls_downloads_and_notices_unpairing(live_server, tmp_path, make_creation, user, django_user_model):
    from tests.conftest import run_job

    creation = make_creation(user)
    run_job(creation.job_id)
    state, downloads = tmp_path / "frame.json", tmp_path / "videos"

    def client(*args):
        return subprocess.run(
            [sys.executable, str(ROOT / "tools" / "frame_client.py"), "--server", live_server.url, "--state", str(state), *args],
            capture_output=True, text=True, timeout=60,
        )

    registered = client("register", "--name", "Hall", "--width", "1280", "--height", "720")
    assert registered.returncode == 0, registered.stderr
    code = json.loads(registered.stdout)["pairing_code"]
    waiting = json.loads(client("poll", "--downloads", str(downloads), "--once").stdout)
    assert waiting == {"status": 200, "paired": False, "pairing_code": code, "items": [], "fetched": []}

    owner = Client()
    owner.force_login(user)
    pair(owner, code)
    device = Device.objects.get()
    choose(owner, device.pk, [creation], screen_width=1280, screen_height=720)
    first = json.loads(client("poll", "--downloads", str(downloads), "--once").stdout)
    assert first["status"] == 200 and first["fetched"] == [f"{creation.pk}.mp4"]
    info = probe_video(downloads / f"{creation.pk}.mp4")
    creation.job.refresh_from_db()
    assert (info.codec, info.frame_count) == ("h264", creation.job.video.frame_count)
    again = json.loads(client("poll", "--downloads", str(downloads), "--once").stdout)
    assert again["status"] == 304 and again["fetched"] == []

    owner.post(reverse("studio:frame-unpair", args=[device.pk]))
    revoked = client("poll", "--downloads", str(downloads), "--once")
    assert revoked.returncode == 3 and json.loads(revoked.stdout)["status"] == 401


def test_staff_make_a_paid_order_s_frames_in_the_admin_paired_to_the_buyer(admin_client, user, finished_creation):
    from shop.models import Order

    order = Order.objects.create(customer=user, email=user.email, currency="USD", subtotal=138, total=138, status="paid", paid_at=timezone.now())
    order.items.create(description="PetMemories Mini 8.0″ Snow", sku="MINI-8-SNOW", unit_price=69, quantity=2)
    order.preload.set([finished_creation])
    frames = [register(), register()]  # switched on in the warehouse, each showing its code
    make = {"action": "make_frames", "_selected_action": [order.pk], "confirm": "1", f"order-{order.pk}-codes": " ".join(f["pairing_code"] for f in frames)}
    response = admin_client.post(reverse("admin:shop_order_changelist"), make, follow=True)
    assert "frames made, paired to owner@example.com" in response.content.decode()
    assert Device.objects.filter(order=order, owner=user).count() == 2
    assert all(poll(frame["token"]).json()["items"][0]["id"] == str(finished_creation.pk) for frame in frames)
    again = admin_client.post(reverse("admin:shop_order_changelist"), make, follow=True)
    assert "were made already" in again.content.decode() and Device.objects.count() == 2
