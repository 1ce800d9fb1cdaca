"""Family members on a frame: the owner invites by email, a member (signed in with that address,
verified) sends their own finished videos and restored photos, sees only what they sent, and
the owner can remove them and anything on the frame."""
import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from generation.models import Job
from generation.photos import photo_normalize
from studio.devices import services as devices
from studio.models import Creation, Device, FrameMember, PlaylistItem
from studio.services import creation_create
from tests.conftest import PERSON_PHOTO, run_job
from tests.factories import client_for, job_make, user_make

pytestmark = pytest.mark.django_db


def verified(email, **fields):
    person = user_make(email, **fields)
    EmailAddress.objects.create(user=person, email=email, verified=True, primary=True)
    return person


@pytest.fixture
def frame(user):
    """The owner's paired frame, with its token."""
    registration = devices.device_register(name="Hall", screen_width=1280, screen_height=720)
    device = devices.device_pair(user=user, code=registration.device.pairing_code, name="Hall")
    return device, registration.token


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite through the owner's page; returns the link's path from the email it sends."""

    def send_invitation(owner, device, email):
        with_mail = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(owner).post(reverse("studio:frame-member-invite", args=[device.pk]), {"email": email})
        assert response.status_code == 302, response.content.decode()
        [message] = mail.outbox[with_mail:]
        assert [to.lower() for to in message.to] == [email.lower()] and "Hall" in message.subject
        return re.search(r"https?://\S+/frames/join/\S+/", message.body).group(0).split("://", 1)[1].split("/", 1)[1]

    return send_invitation


def join(person, link):
    return client_for(person).post("/" + link)


@pytest.fixture
def member(user, frame, invite):
    device, _token = frame
    person = verified("gran@example.com", first_name="Gran")
    link = invite(user, device, "gran@example.com")
    assert join(person, link).url == reverse("studio:frame-member", args=[device.pk])
    return person


@pytest.fixture
def restored(member, django_capture_on_commit_callbacks):
    """The member's restored photo, its job run to the end here."""
    with PERSON_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    creation = creation_create(owner=member, photos=[photo], title="Grandpa", aspect_ratio="1:1", engine="restore")
    assert run_job(creation.job_id).state == "succeeded"
    return Creation.objects.select_related("job").get(pk=creation.pk)


@pytest.fixture
def members_video(member, make_creation):
    creation = make_creation(member, title="Coco")
    assert run_job(creation.job_id).state == "succeeded"
    return creation


def send(person, device, creation):
    return client_for(person).post(reverse("studio:frame-member", args=[device.pk]), {"creation": creation.pk})


def playlist(token):
    response = Client().get("/api/frames/playlist", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    return response.json(), response["ETag"]


def download(url):
    response = Client().get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Invitations ---------------------------------------------------------------------------


def test_the_invited_person_opens_the_link_then_accepts_with_their_verified_address(user, frame, invite):
    device, _token = frame
    gran = verified("gran@example.com")
    link = invite(user, device, "Gran@Example.com")
    stored = FrameMember.objects.get()
    assert stored.accepted_at is None and link.rsplit("/", 2)[-2] not in stored.token_hash  # only the hash is kept
    page = client_for(gran).get("/" + link)
    assert page.status_code == 200 and "Hall" in page.content.decode()
    assert FrameMember.objects.get().accepted_at is None  # opening the link accepts nothing
    assert join(gran, link).status_code == 302
    stored.refresh_from_db()
    assert stored.user == gran and stored.accepted_at is not None
    assert join(gran, link).status_code == 302  # twice is once
    assert list(Device.objects.filter(pk=device.pk, members__user=gran)) == [device]
    owner_page = client_for(user).get(device.get_absolute_url()).content.decode()
    assert "Gran@example.com" in owner_page


@pytest.mark.parametrize("who", ["other address", "unverified", "owner"])
def test_an_invitation_is_refused_to_anyone_but_the_invited_verified_address(user, frame, invite, who):
    device, _token = frame
    link = invite(user, device, "gran@example.com")
    person = {"other address": lambda: verified("someone@example.com"), "unverified": lambda: user_make("gran@example.com"), "owner": lambda: user}[who]()
    response = join(person, link)
    assert response.status_code == 410
    assert not FrameMember.objects.filter(accepted_at__isnull=False).exists()


def test_an_expired_a_forged_or_a_replaced_link_is_refused(user, frame, invite):
    device, _token = frame
    gran = verified("gran@example.com")
    first = invite(user, device, "gran@example.com")
    second = invite(user, device, "gran@example.com")  # a new link replaces the old one
    assert FrameMember.objects.count() == 1
    assert join(gran, first).status_code == 410
    assert join(gran, first[:-5] + "AAAA/").status_code == 410
    FrameMember.objects.update(invited_at=timezone.now() - timedelta(days=devices.FRAME_INVITE_DAYS, seconds=1))
    assert join(gran, second).status_code == 410
    assert client_for(gran).get("/" + second).status_code == 410
    FrameMember.objects.update(invited_at=timezone.now())
    assert join(gran, second).status_code == 302


def test_invitations_are_limited_per_owner(user, frame, settings):
    device, _token = frame
    settings.FRAME_INVITES_PER_DAY = 2
    owner = client_for(user)
    for n in range(2):
        assert owner.post(reverse("studio:frame-member-invite", args=[device.pk]), {"email": f"p{n}@example.com"}).status_code == 302
    refused = owner.post(reverse("studio:frame-member-invite", args=[device.pk]), {"email": "p3@example.com"})
    assert refused.status_code == 400 and "Try again tomorrow" in refused.content.decode()
    assert FrameMember.objects.count() == 2


# --- What a member sends and sees ----------------------------------------------------------


def test_a_member_sends_their_video_and_restored_photo_and_the_frame_gets_a_video_and_a_still(user, frame, member, members_video, restored):
    device, token = frame
    assert send(member, device, members_video).status_code == 302
    assert send(member, device, restored).status_code == 302
    data, _etag = playlist(token)
    video, still = data["items"]
    assert (video["kind"], video["id"], video["added_by"], video["content_type"]) == ("video", str(members_video.pk), "Gran", "video/mp4")
    assert (still["kind"], still["id"], still["added_by"], still["drift"]) == ("still", str(restored.pk), "Gran", True)
    assert "gran@example.com" not in json.dumps(data)
    image = restored.job.images[0]
    assert still["content_type"] == {"png": "image/png", "jpg": "image/jpeg"}[image.extension]
    data_bytes = download(still["url"])
    assert hashlib.sha256(data_bytes).hexdigest() == still["sha256"] and len(data_bytes) == still["bytes"]
    decoded = Image.open(io.BytesIO(data_bytes))
    decoded.load()
    assert decoded.size == (still["width"], still["height"]) and decoded.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[still["content_type"]]
    assert len(download(video["url"])) == video["bytes"]


def test_the_etag_holds_until_the_list_changes(user, frame, member, restored):
    device, token = frame
    _data, empty = playlist(token)
    send(member, device, restored)
    data, etag = playlist(token)
    assert etag != empty and playlist(token)[1] == etag
    response = Client().get("/api/frames/playlist", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    item = PlaylistItem.objects.get()
    client_for(member).post(reverse("studio:frame-item-remove", args=[device.pk, item.pk]))
    assert playlist(token)[1] == empty


def test_a_member_cannot_send_another_s_creation_or_an_unfinished_one(user, frame, member, finished_creation):
    device, _token = frame
    response = send(member, device, finished_creation)  # the owner's video
    assert response.status_code == 400
    running = Creation.objects.create(owner=member, title="Soon", photo="photos/y.jpg", job=job_make(owner=member, engine="restore", state=Job.State.RUNNING))
    assert send(member, device, running).status_code == 400
    # Nor through "Play on <frame>".
    add = reverse("studio:frame-add", args=[device.pk])
    assert client_for(member).post(add, {"creation": finished_creation.pk}).status_code == 404
    client_for(member).post(add, {"creation": running.pk})
    assert not device.playlist.exists()


def test_play_on_offers_the_frames_a_member_sends_to(user, frame, member, members_video):
    from studio.devices.selectors import frames_to_play_on

    device, _token = frame
    assert list(frames_to_play_on(user=member)) == [device]
    response = client_for(member).post(reverse("studio:frame-add", args=[device.pk]), {"creation": members_video.pk})
    assert response.url == reverse("studio:frame-member", args=[device.pk])
    assert device.playlist.get().added_by == member


def test_a_member_sees_only_what_they_sent_and_removes_their_own(user, frame, member, members_video, finished_creation, invite):
    device, _token = frame
    client_for(user).post(reverse("studio:frame-add", args=[device.pk]), {"creation": finished_creation.pk})
    cousin = verified("cousin@example.com")
    join(cousin, invite(user, device, "cousin@example.com"))
    send(member, device, members_video)
    page = client_for(cousin).get(reverse("studio:frame-member", args=[device.pk])).content.decode()
    assert str(finished_creation) not in page and "Coco" not in page
    mine = client_for(member).get(reverse("studio:frame-member", args=[device.pk])).content.decode()
    assert "Coco" in mine and str(finished_creation) not in mine
    owners_item, members_item = device.playlist.order_by("position")
    # Another's item is no such thing to a member; their own comes off.
    assert client_for(member).post(reverse("studio:frame-item-remove", args=[device.pk, owners_item.pk])).status_code == 404
    assert client_for(cousin).post(reverse("studio:frame-item-remove", args=[device.pk, members_item.pk])).status_code == 404
    assert client_for(member).post(reverse("studio:frame-item-remove", args=[device.pk, members_item.pk])).status_code == 302
    assert list(device.playlist.all()) == [owners_item]


# --- The owner ---------------------------------------------------------------------------


def test_saving_the_owner_s_page_keeps_what_members_sent(user, frame, member, members_video, finished_creation):
    device, _token = frame
    send(member, device, members_video)
    form = {"name": "Hall", "screen_width": 1280, "screen_height": 720, "loop": "on", "seconds_per_video": 30, "creations": [finished_creation.pk]}
    assert client_for(user).post(device.get_absolute_url(), form).status_code == 302
    assert {item.creation_id for item in device.playlist.all()} == {members_video.pk, finished_creation.pk}
    assert client_for(user).post(device.get_absolute_url(), {**form, "creations": []}).status_code == 302
    assert [item.creation_id for item in device.playlist.all()] == [members_video.pk]


def test_the_owner_removes_any_item_and_a_member_with_what_they_sent(user, frame, member, members_video, restored, finished_creation):
    device, token = frame
    send(member, device, members_video)
    send(member, device, restored)
    client_for(user).post(reverse("studio:frame-add", args=[device.pk]), {"creation": finished_creation.pk})
    page = client_for(user).get(device.get_absolute_url()).content.decode()
    assert "Everything they sent to this frame comes off it too" in page and "Coco" in page
    video_item = device.playlist.get(creation=members_video)
    assert client_for(user).post(reverse("studio:frame-item-remove", args=[device.pk, video_item.pk])).status_code == 302
    still_url = playlist(token)[0]["items"][0]["url"]
    membership = FrameMember.objects.get(user=member)
    assert client_for(user).post(reverse("studio:frame-member-remove", args=[device.pk, membership.pk])).status_code == 302
    assert not FrameMember.objects.exists() and [item.creation_id for item in device.playlist.all()] == [finished_creation.pk]
    assert Client().get(still_url.removeprefix("http://testserver")).status_code == 404  # its link stops too
    assert client_for(member).get(reverse("studio:frame-member", args=[device.pk])).status_code == 404
    assert send(member, device, restored).status_code == 404


def test_a_member_leaves_and_what_they_sent_goes(user, frame, member, restored):
    device, _token = frame
    send(member, device, restored)
    assert client_for(member).post(reverse("studio:frame-leave", args=[device.pk])).status_code == 302
    assert not device.playlist.exists() and not FrameMember.objects.exists()


def test_unpairing_removes_the_members(user, frame, member, restored):
    device, _token = frame
    send(member, device, restored)
    client_for(user).post(reverse("studio:frame-unpair", args=[device.pk]))
    assert not FrameMember.objects.exists() and not PlaylistItem.objects.exists()
    assert client_for(member).get(reverse("studio:frame-list")).content.decode().count("Hall") == 0


def test_a_member_cannot_open_the_owner_s_settings_unpair_invite_or_remove(user, frame, member):
    device, _token = frame
    other = verified("cousin@example.com")
    as_member = client_for(member)
    assert as_member.get(device.get_absolute_url()).status_code == 404
    assert as_member.post(reverse("studio:frame-unpair", args=[device.pk])).status_code == 404
    assert as_member.post(reverse("studio:frame-member-invite", args=[device.pk]), {"email": "x@example.com"}).status_code == 404
    membership = FrameMember.objects.get()
    assert as_member.post(reverse("studio:frame-member-remove", args=[device.pk, membership.pk])).status_code == 404
    # Someone who is not a member: no such frame.
    for url in (reverse("studio:frame-member", args=[device.pk]), device.get_absolute_url()):
        assert client_for(other).get(url).status_code == 404
    assert client_for(other).post(reverse("studio:frame-leave", args=[device.pk])).status_code == 404
    device.refresh_from_db()
    assert device.owner == user and FrameMember.objects.filter(user=member).exists()
    listing = as_member.get(reverse("studio:frame-list")).content.decode()
    assert reverse("studio:frame-member", args=[device.pk]) in listing and device.get_absolute_url() + '"' not in listing


def test_the_owner_sees_pending_and_accepted_members(user, frame, member, invite):
    device, _token = frame
    invite(user, device, "later@example.com")
    page = client_for(user).get(device.get_absolute_url()).content.decode()
    assert "gran@example.com" in page and "later@example.com" in page and "invited, not yet accepted" in page


def test_the_admin_shows_a_frame_s_members_read_only_without_their_token(admin_client, frame, member):
    device, _token = frame
    page = admin_client.get(reverse("admin:studio_device_change", args=[device.pk])).content.decode()
    membership = FrameMember.objects.get()
    assert "gran@example.com" in page and membership.token_hash not in page
    assert 'name="members-0-email"' not in page  # shown, not editable
