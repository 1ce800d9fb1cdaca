"""In a real browser: a browser tab is a frame. It shows a pairing code and its QR code, is
paired from another browser, plays its videos in a loop, picks up a new one, plays on offline
(a reload too) and, unpaired on the site, forgets everything and shows a new code."""
import hashlib
import re

import cv2
import numpy as np
import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.signals import request_started
from django.urls import reverse

from generation.photos import photo_normalize
from studio.devices import services as devices
from studio.services import creation_create
from tests.conftest import CAT_PHOTO, PERSON_PHOTO, run_job
from tests.factories import client_for, user_make
from tests.integration.test_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CURRENT_VIDEO = "document.querySelector('.slot.current video')"


@pytest.fixture
def chromium(browser_executable, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see the page fixture in test_browser.py
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server_requests():
    """The paths of the requests that reach the site, as they arrive."""
    paths = []

    def note(sender, environ, **kwargs):
        paths.append(environ["PATH_INFO"])

    request_started.connect(note, weak=False)
    yield paths
    request_started.disconnect(note)


def log_in(page, live_server, user):
    page.goto(live_server.url + reverse("account_login"))
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", "a-long-pass-phrase")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/studio/")


def assert_plays(frame, item_id=None):
    """The video on screen is playing: its time moves on."""
    if item_id:
        frame.wait_for_selector(f"body[data-state=playing][data-playing='{item_id}']")
    frame.wait_for_function(f"() => {{ const v = {CURRENT_VIDEO}; return v && v.readyState >= 2 && !v.paused && v.currentTime > 0; }}")
    first = frame.evaluate(f"{CURRENT_VIDEO}.currentTime")
    frame.wait_for_function(f"(t) => {CURRENT_VIDEO}.currentTime !== t", arg=first, timeout=5_000)


def kept_files(frame) -> list[str]:
    """The SHA-256 of each file the player keeps in its browser's cache."""
    return frame.evaluate("async () => (await (await caches.open('frame-media')).keys()).map((r) => r.url.split('/').pop())")


def test_a_browser_plays_as_a_frame_offline_too_until_it_is_unpaired(
    chromium, live_server, finished_creation, make_creation, user, server_requests, tmp_path,
):
    second = make_creation(user, title="Nabi", aspect_ratio="16:9")  # another file: the same photo made the same 1:1 video
    assert run_job(second.job_id).state == "succeeded"
    frame_context = chromium.new_context(viewport={"width": 1280, "height": 720})
    frame = frame_context.new_page()
    frame.set_default_timeout(30_000)
    frame.on("console", lambda message: print("frame console:", message.type, message.text))
    errors = []
    frame.on("pageerror", lambda error: errors.append(error))
    owner = chromium.new_context().new_page()
    owner.set_default_timeout(30_000)
    try:
        # The frame registers itself and shows its code, and a QR code of the pairing link.
        frame.goto(live_server.url + reverse("studio:frame-player") + "?poll=2")
        frame.wait_for_selector("body[data-state=pairing]")
        code = frame.locator(".pairing .code").inner_text()
        assert len(code) == 6 and frame.evaluate("document.body.dataset.code") == code
        frame.wait_for_function("() => document.querySelector('img.qr').naturalWidth > 0")
        picture = cv2.imdecode(np.frombuffer(frame.locator("img.qr").screenshot(), np.uint8), cv2.IMREAD_GRAYSCALE)
        link = cv2.QRCodeDetector().detectAndDecode(picture)[0]
        assert link == live_server.url + reverse("studio:frame-pair") + "?code=" + code

        # Its owner scans it with their phone: the pairing page, after the login, has the code.
        owner.goto(link)
        owner.fill("input[name=login]", user.email)
        owner.fill("input[name=password]", "a-long-pass-phrase")
        owner.locator("form button[type=submit]").last.click()
        owner.wait_for_url("**/frames/pair/?code=" + code)
        assert owner.input_value("input[name=code]") == code
        owner.fill("input[name=name]", "Hall")
        owner.locator("form.stack button[type=submit]").click()
        owner.wait_for_url("**/frames/*-*/")
        owner.get_by_label("Chelsea").check()
        owner.locator("form.card button[type=submit]").click()
        owner.wait_for_selector("text=will play 1 video")

        # Within a poll the frame has fetched the video, checked it, and plays it full screen.
        frame.wait_for_selector(f"body[data-items='{finished_creation.pk}']")
        assert frame.locator(".pairing").is_hidden()
        assert_plays(frame, finished_creation.pk)
        assert frame.evaluate(f"{CURRENT_VIDEO}.muted && !{CURRENT_VIDEO}.controls")
        assert frame.evaluate("document.querySelector('.slot.current').className") == "slot video contain current"  # 1:1, whole

        # A second video, and five seconds each: it arrives, and the two take turns, in a loop.
        owner.fill("input[name=seconds_per_video]", "5")
        owner.get_by_label("Nabi").check()
        owner.locator("form.card button[type=submit]").click()
        owner.wait_for_selector("text=will play 2 videos")
        frame.wait_for_selector(f"body[data-items='{finished_creation.pk},{second.pk}']")
        assert_plays(frame, second.pk)
        assert frame.evaluate("document.querySelector('.slot.current').className") == "slot video cover current"  # 16:9 fills the 16:9 frame
        assert_plays(frame, finished_creation.pk)
        assert sorted(kept_files(frame)) == sorted([finished_creation.job.video.sha256, second.job.video.sha256])

        # The network goes: it plays on, and a reload opens the player from its service worker.
        frame.wait_for_function("() => navigator.serviceWorker.controller !== null")
        frame_context.set_offline(True)
        frame.wait_for_selector("body[data-online=no]")
        reached = len(server_requests)
        frame.reload()
        frame.wait_for_selector("body[data-state=playing]")
        assert_plays(frame)
        assert frame.evaluate("fetch('/healthz').then(() => 'online', () => 'offline')") == "offline"
        assert frame.evaluate("performance.getEntriesByType('navigation')[0].workerStart") > 0  # the worker answered
        assert not [path for path in server_requests[reached:] if path.startswith(("/frames/", "/static/"))], server_requests[reached:]
        assert frame.evaluate("document.body.dataset.items") == f"{finished_creation.pk},{second.pk}"

        # Back online, a video taken off the frame leaves its screen and its storage.
        frame_context.set_offline(False)
        frame.wait_for_selector("body[data-online=yes]")
        owner.reload()
        owner.get_by_label("Chelsea").uncheck()
        owner.locator("form.card button[type=submit]").click()
        owner.wait_for_selector("text=will play 1 video")
        frame.wait_for_selector(f"body[data-items='{second.pk}']")
        assert_plays(frame, second.pk)
        for _ in range(50):  # the file goes once the new playlist is in: the same poll, just after
            if kept_files(frame) == [second.job.video.sha256]:
                break
            frame.wait_for_timeout(100)
        assert kept_files(frame) == [second.job.video.sha256]

        # Its owner unpairs it: it forgets its videos and shows a new code.
        owner.get_by_role("button", name="Unpair this frame").click()
        owner.wait_for_url("**/frames/")
        frame.wait_for_selector("body[data-state=pairing]")
        new_code = frame.locator(".pairing .code").inner_text()
        assert len(new_code) == 6 and new_code != code
        assert frame.evaluate("async () => [await caches.has('frame-media'), await caches.has('frame-playlist')]") == [False, False]
        assert frame.evaluate(f"!{CURRENT_VIDEO}")
        assert not errors
    finally:
        frame.screenshot(path=str(tmp_path / "frame.png"))
        frame_context.close()


def test_the_player_shows_stills_drifting_and_drops_a_file_that_fails_its_checksum(chromium, live_server, tmp_path):
    """Stills (photos) play too, with a slow drift; here the site's answers are played by the
    test (the API gives stills to family members' frames), and the service worker stays out
    of the way of that routing."""
    photo = CAT_PHOTO.read_bytes()
    still = {"kind": "still", "content_type": "image/jpeg", "fit": "cover", "bytes": len(photo), "sha256": hashlib.sha256(photo).hexdigest()}
    playlist = {
        "paired": True, "pairing_code": None, "poll_seconds": 60, "settings": {"loop": True, "seconds_per_video": 30},
        "items": [
            {**still, "id": "still-1", "url": live_server.url + "/test-media/cat.jpg"},
            {**still, "id": "still-2", "url": live_server.url + "/test-media/other.jpg", "sha256": "0" * 64},
        ],
    }
    context = chromium.new_context(viewport={"width": 1280, "height": 720}, service_workers="block")
    frame = context.new_page()
    frame.route("**/api/frames/register", lambda route: route.fulfill(status=201, json={"token": "t", "pairing_code": "K7QM2X"}))
    frame.route("**/api/frames/playlist", lambda route: route.fulfill(json=playlist, headers={"ETag": '"1"'}))
    frame.route("**/test-media/*", lambda route: route.fulfill(body=photo, content_type="image/jpeg"))
    try:
        frame.goto(live_server.url + reverse("studio:frame-player"))
        frame.wait_for_selector("body[data-state=playing][data-playing=still-1]")
        assert frame.evaluate("document.body.dataset.items") == "still-1"  # still-2's bytes are not what its SHA-256 says
        assert frame.evaluate("document.querySelector('.slot.current').className") == "slot still cover current"
        frame.wait_for_function("() => document.querySelector('.slot.current img').naturalWidth > 0")
        drift = "getComputedStyle(document.querySelector('.slot.current img')).transform"
        first = frame.evaluate(drift)
        frame.wait_for_function(f"(t) => {drift} !== t", arg=first, timeout=5_000)
        assert kept_files(frame) == [still["sha256"]]
    finally:
        frame.screenshot(path=str(tmp_path / "still.png"))
        context.close()



def test_a_family_member_s_restored_photo_arrives_from_the_site_and_drifts(chromium, live_server, user, django_capture_on_commit_callbacks):
    """The site's own answers this time: a family member, invited by email, sends a restored
    photo from their page, and the paired player fetches it as a still, checks it and lets it
    drift."""
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    frame = context.new_page()
    frame.set_default_timeout(30_000)
    errors = []
    frame.on("pageerror", lambda error: errors.append(error))
    try:
        frame.goto(live_server.url + reverse("studio:frame-player") + "?poll=2")
        frame.wait_for_selector("body[data-state=pairing]")
        device = devices.device_pair(user=user, code=frame.locator(".pairing .code").inner_text(), name="Hall")
        gran = user_make("gran@example.com", first_name="Gran")
        EmailAddress.objects.create(user=gran, email=gran.email, verified=True, primary=True)
        with django_capture_on_commit_callbacks(execute=True):
            client_for(user).post(reverse("studio:frame-member-invite", args=[device.pk]), {"email": gran.email})
        link = re.search(r"https?://\S+(/frames/join/\S+/)", mail.outbox[-1].body).group(1)
        assert client_for(gran).post(link).status_code == 302
        with PERSON_PHOTO.open("rb") as handle:
            restored = creation_create(owner=gran, photos=[photo_normalize(handle)], title="Grandpa", aspect_ratio="1:1", engine="restore")
        assert run_job(restored.job_id).state == "succeeded"
        assert client_for(gran).post(reverse("studio:frame-member", args=[device.pk]), {"creation": restored.pk}).status_code == 302

        frame.wait_for_selector(f"body[data-state=playing][data-playing='{restored.pk}']")
        assert "slot still" in frame.evaluate("document.querySelector('.slot.current').className")
        frame.wait_for_function("() => document.querySelector('.slot.current img').naturalWidth > 0")
        drift = "getComputedStyle(document.querySelector('.slot.current img')).transform"
        first = frame.evaluate(drift)
        frame.wait_for_function(f"(t) => {drift} !== t", arg=first, timeout=5_000)
        restored.job.refresh_from_db()
        assert kept_files(frame) == [restored.job.images[0].sha256]
        assert not errors
    finally:
        context.close()
