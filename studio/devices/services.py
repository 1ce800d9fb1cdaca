"""Digital frames: registering, pairing, what they play, and the links they download from.

The frame side speaks JSON under /api/frames/ (``studio/devices/api.py``); the owner's side is a
few pages under /frames/ (``studio/devices/views.py``). Both call these functions.
"""
from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.selectors import email_is_verified_by
from core.kept import forget_now_and_on_commit
from core.mail import mail_send
from core.validators import validate_single_line
from generation import media
from generation.models import Job, JobOutput

from ..models import Creation, Device, FrameMember, PlaylistItem
from ..ratelimit import rate_limit_allow
from . import selectors
from .answers import PlaylistAnswer, answer_get, answer_set, answers_forget, answers_stamp

PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen, typed by a person
PAIRING_CODE_LENGTH = 6
PAIRING_LIFETIME = timedelta(minutes=15)
PAIRING_ATTEMPTS = 10  # per account per PAIRING_LIFETIME, so codes cannot be guessed
# Download links live in windows of this many seconds and stay valid for two: a frame always
# has at least one window to fetch in, and its playlist (and ETag) changes once a window.
LINK_WINDOW_SECONDS = 6 * 3600
POLL_SECONDS = 60
GIFT_ACCEPT_DAYS = 60
FRAME_INVITE_DAYS = 7
MEDIA_KINDS = ("video", "poster", "image")
STILL_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}


class PairingError(Exception):
    """``str()`` tells the owner what went wrong."""


@dataclass(frozen=True)
class Registration:
    device: Device
    token: str  # shown to the frame once; only its hash is kept


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_pairing_code() -> str:
    return "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))


def device_register(*, name: str = "", screen_width: int = 1920, screen_height: int = 1080) -> Registration:
    """A new, unpaired frame with its token and a pairing code to show. Raises ValidationError
    for a name that is not one line of text."""
    validate_single_line(name)
    token = secrets.token_urlsafe(32)
    device = Device.objects.create(
        name=(name or "My frame")[:60], screen_width=screen_width, screen_height=screen_height, token_hash=_hash(token),
        pairing_code=_new_pairing_code(), pairing_expires_at=timezone.now() + PAIRING_LIFETIME,
    )
    return Registration(device=device, token=token)


def devices_expire_unpaired() -> int:
    """Delete the frames registered more than FRAMES_UNPAIRED_EXPIRE_HOURS ago that nobody
    paired (or that were unpaired since), so anonymous registrations do not pile up. A shop
    frame waiting for its gift to be accepted is kept. Returns how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.FRAMES_UNPAIRED_EXPIRE_HOURS)
    _total, by_model = Device.objects.filter(owner__isnull=True, order__isnull=True, registered_at__lt=cutoff).delete()
    return by_model.get(Device._meta.label, 0)


def device_for_token(token: str) -> Device | None:
    """The frame a bearer token belongs to, or None (unknown, or unpaired since)."""
    if not token:
        return None
    device = Device.objects.filter(token_hash=_hash(token)).first()
    if device is not None:
        # Frames poll every minute: note the visit at most once a minute, not one write per poll.
        now = timezone.now()
        if device.last_seen_at is None or device.last_seen_at < now - timedelta(seconds=POLL_SECONDS):
            Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    return device


def device_refresh_pairing_code(*, device: Device) -> Device:
    """An unpaired frame whose code has expired gets a new one the next time it asks."""
    if device.is_paired or (device.pairing_expires_at and device.pairing_expires_at > timezone.now()):
        return device
    device.pairing_code, device.pairing_expires_at = _new_pairing_code(), timezone.now() + PAIRING_LIFETIME
    device.save(update_fields=["pairing_code", "pairing_expires_at"])
    return device


@transaction.atomic
def device_pair(*, user, code: str, name: str = "") -> Device:
    """Pair the frame showing ``code`` to ``user``. Limited to PAIRING_ATTEMPTS tries."""
    validate_single_line(name)
    if not rate_limit_allow(scope="frame-pairing", who=str(user.pk), limit=PAIRING_ATTEMPTS, seconds=int(PAIRING_LIFETIME.total_seconds())):
        raise PairingError(gettext("Too many tries. Wait a quarter of an hour, then try the code on the frame's screen again."))
    code = "".join(code.split()).upper()
    device = Device.objects.select_for_update().filter(pairing_code=code, owner__isnull=True).first()
    if device is None:
        raise PairingError(gettext("No frame is showing that code. Check the code on the frame's screen."))
    if device.pairing_expires_at is None or device.pairing_expires_at <= timezone.now():
        raise PairingError(gettext("That code has expired. The frame shows a new one within a minute."))
    device.owner, device.paired_at = user, timezone.now()
    device.pairing_code = device.pairing_expires_at = None
    if name:
        device.name = name[:60]
    device.save()
    return device


@transaction.atomic
def device_unpair(*, device: Device) -> None:
    """Forget the frame: its token stops working at once, its playlist is emptied and its family
    members are removed. To use it again it registers anew and is paired again."""
    playlist_forget(device.token_hash)
    device.owner, device.token_hash, device.paired_at = None, None, None
    device.pairing_code = device.pairing_expires_at = None
    device.save()
    device.playlist.all().delete()
    device.members.all().delete()


def device_update(*, device: Device, name: str, screen_width: int, screen_height: int, loop: bool, seconds_per_video: int) -> Device:
    validate_single_line(name)
    device.name, device.screen_width, device.screen_height = name, screen_width, screen_height
    device.loop, device.seconds_per_video = loop, seconds_per_video
    device.save(update_fields=["name", "screen_width", "screen_height", "loop", "seconds_per_video"])
    return device


def _playable(creation: Creation) -> bool:
    """A finished video, or a finished job's image (a restored photo, shown as a still)."""
    job = creation.job
    return job is not None and job.state == Job.State.SUCCEEDED and (job.video is not None or bool(job.images))


@transaction.atomic
def playlist_set(*, device: Device, creations: list[Creation]) -> None:
    """What the frame plays of the owner's choosing: the owner's finished videos, and any video
    already on it (a gift's preloaded videos stay until the owner takes them off). Videos kept
    stay in their places; newly chosen ones go at the end. What family members sent is not the
    owner's list to tick: it stays until the owner or its sender removes it."""
    items = list(device.playlist.select_related("creation__job"))
    mine = [item for item in items if not selectors.item_is_a_members(item=item, device=device)]
    on_it = {item.creation_id for item in items}
    chosen = {creation.pk for creation in creations}
    PlaylistItem.objects.filter(pk__in=[item.pk for item in mine if item.creation_id not in chosen]).delete()
    position = max((item.position for item in items), default=-1)
    new = [
        creation for creation in dict.fromkeys(creations)
        if creation.pk not in on_it and creation.owner_id == device.owner_id and _playable(creation) and creation.job.video is not None
    ]
    PlaylistItem.objects.bulk_create(
        PlaylistItem(device=device, creation=creation, position=position + index, added_by_id=device.owner_id)
        for index, creation in enumerate(new, start=1)
    )
    playlist_forget(device.token_hash)  # bulk_create sends no signal (studio/apps.py)


class PlaylistRefused(Exception):
    """``str()`` tells the owner or the member why."""


@transaction.atomic
def playlist_add(*, device: Device, creation: Creation, by) -> bool:
    """Put one of ``by``'s own finished videos or restored photos at the end of what the frame
    plays; ``by`` is its owner or one of its family members. False when it was there already.
    Raises PlaylistRefused for anything else."""
    if not selectors.frames_to_play_on(user=by).filter(pk=device.pk).exists():
        raise PlaylistRefused(gettext("You can no longer send to this frame."))
    if creation.owner_id != by.pk or not _playable(creation):
        raise PlaylistRefused(gettext("Only your own finished videos and restored photos can play on a frame."))
    Device.objects.select_for_update().filter(pk=device.pk).first()  # one addition at a time per frame: positions stay distinct
    if device.playlist.filter(creation=creation).exists():
        return False
    last = device.playlist.order_by("-position").values_list("position", flat=True).first()
    PlaylistItem.objects.create(device=device, creation=creation, position=(last if last is not None else -1) + 1, added_by=by)
    return True


def playlist_item_remove(*, item: PlaylistItem) -> None:
    """Take one item off its frame (the owner, any; a member, what they sent: see the views)."""
    item.delete()


# --- Family members -------------------------------------------------------------------------


class MemberRefused(Exception):
    """``str()`` tells the owner, or the invited person, why."""


def frame_member_invite(*, device: Device, email: str, invited_by) -> FrameMember:
    """Invite ``email`` to send to the frame; the link, mailed once this commits, holds the only
    copy of its token. Inviting a pending address again sends a new link (the old one stops).
    Limited to FRAME_INVITES_PER_DAY per owner, so a frame cannot be used to mail strangers."""
    email = get_user_model().objects.normalize_email(email).strip()
    if email.lower() == (invited_by.email or "").lower():
        raise MemberRefused(gettext("That is your own address: you send to your frame from its page."))
    if device.members.filter(email__iexact=email, accepted_at__isnull=False).exists():
        raise MemberRefused(gettext("%(email)s is a member of this frame already.") % {"email": email})
    if not rate_limit_allow(scope="frame-invite", who=str(invited_by.pk), limit=settings.FRAME_INVITES_PER_DAY, seconds=86400):
        raise MemberRefused(gettext("You have sent as many invitations as we allow in a day. Try again tomorrow."))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        member = device.members.filter(email__iexact=email).select_for_update().first() or FrameMember(device=device, email=email)
        member.invited_by, member.token_hash, member.invited_at = invited_by, _hash(token), timezone.now()
        member.save()
        link = settings.SITE_URL + reverse("studio:frame-join", args=[token])
        context = {"device": device, "owner": invited_by, "link": link, "days": FRAME_INVITE_DAYS}
        language = getattr(invited_by, "language", settings.LANGUAGE_CODE)
        transaction.on_commit(lambda: mail_send(template="studio/email/frame_invitation", context=context, to=email, language=language))
    return member


def frame_invitation_find(*, token: str, lock: bool = False) -> FrameMember:
    """The invitation a link's token names, on a frame that is still paired; raises
    MemberRefused for a forged, replaced or expired one."""
    members = FrameMember.objects.select_related("device", "invited_by")
    member = (members.select_for_update(of=("self",)) if lock else members).filter(token_hash=_hash(token or ""), device__owner__isnull=False).first()
    if member is None:
        raise MemberRefused(gettext("This invitation link is not valid. Ask whoever invited you for a new one."))
    if member.accepted_at is None and member.invited_at + timedelta(days=FRAME_INVITE_DAYS) <= timezone.now():
        raise MemberRefused(gettext("This invitation has expired. Ask whoever invited you for a new one."))
    return member


@transaction.atomic
def frame_member_accept(*, token: str, user) -> FrameMember:
    """Join the frame as its invitation says. ``user`` must be signed in with the invited address,
    verified; accepting twice is the same as once."""
    member = frame_invitation_find(token=token, lock=True)
    if member.accepted_at is not None:
        if member.user_id == user.pk:
            return member
        raise MemberRefused(gettext("This invitation has already been used."))
    if user.pk == member.device.owner_id:
        raise MemberRefused(gettext("This is your own frame."))
    if not email_is_verified_by(user=user, email=member.email):
        raise MemberRefused(
            gettext("This invitation is for %(email)s. Log in with that address, and verify it, to accept it.") % {"email": member.email}
        )
    if member.device.members.filter(user=user).exclude(pk=member.pk).exists():
        raise MemberRefused(gettext("You are a member of this frame already."))
    member.user, member.accepted_at = user, timezone.now()
    member.save(update_fields=["user", "accepted_at"])
    return member


@transaction.atomic
def frame_member_remove(*, member: FrameMember) -> None:
    """Remove a member (the owner's doing, or the member leaving) and everything they sent to
    the frame; a pending invitation's link stops working."""
    if member.user_id is not None:
        member.device.playlist.filter(added_by_id=member.user_id).delete()
    member.delete()


# --- The playlist and its links ------------------------------------------------------------


def _window(now: float | None = None) -> int:
    return int((now or time.time()) // LINK_WINDOW_SECONDS)


def media_link(*, device: Device, creation: Creation, kind: str, window: int) -> str:
    token = signing.dumps({"d": str(device.pk), "c": str(creation.pk), "k": kind, "w": window}, salt="frame-media", compress=True)
    return reverse("studio:frame-media", args=[token])


def media_for_link(token: str) -> tuple[Device, Creation, str]:
    """The device, creation and file kind ("video", "poster" or "image", a still's) a download
    link names, if it is still valid and the creation is still on that paired frame's playlist;
    raises signing.BadSignature otherwise."""
    data = signing.loads(token, salt="frame-media")
    if data.get("k") not in MEDIA_KINDS or _window() > int(data["w"]) + 1:
        raise signing.BadSignature("expired")
    item = PlaylistItem.objects.select_related("device", "creation__job").filter(
        device_id=data["d"], creation_id=data["c"], device__owner__isnull=False
    ).first()
    if item is None or item.creation.job is None or item.creation.job.state != Job.State.SUCCEEDED:
        raise signing.BadSignature("no longer on the playlist")
    return item.device, item.creation, data["k"]


def media_output(*, creation: Creation, kind: str) -> JobOutput | None:
    """The file a link of ``kind`` downloads: the video, its poster, or a still's image."""
    job = creation.job
    if kind == "image":
        return next(iter(job.images), None)
    return job.video if kind == "video" else job.poster


def _checksum(output: JobOutput) -> tuple[str, int]:
    """The file's SHA-256 and size; computed once for a video whose file could not be read when
    its row was carried over (generation/0008)."""
    if not output.sha256:
        with output.file.open("rb") as handle:
            output.sha256, output.bytes = media.stream_sha256(handle)
        output.save(update_fields=["sha256", "bytes"])
    return output.sha256, output.bytes


def _fit(output: JobOutput, device: Device) -> str:
    """Same shape as the screen: fill it; otherwise show it whole, with bars."""
    ratio, screen_ratio = output.width / output.height, device.screen_width / device.screen_height
    return "cover" if abs(ratio - screen_ratio) / screen_ratio < 0.05 else "contain"


def _playlist_entry(*, item: PlaylistItem, device: Device, base_url: str, window: int) -> dict | None:
    """One item of the frame's JSON: a video, or a still (a restored photo, which the frame shows
    for seconds_per_video with a slow drift); None for what has nothing to show."""
    creation, job = item.creation, item.creation.job
    if job is None or job.state != Job.State.SUCCEEDED:
        return None
    video = job.video
    output = video or next(iter(job.images), None)
    if output is None:
        return None
    sha256, size = _checksum(output)
    link = functools.partial(media_link, device=device, creation=creation, window=window)
    entry = {
        "id": str(creation.pk),
        "kind": "video" if video else "still",
        "title": str(creation),
        "added_by": (item.added_by.first_name or None) if item.added_by else None,  # never an email address
        "url": base_url + link(kind="video" if video else "image"),
        "poster_url": base_url + link(kind="poster") if video or job.poster else None,
        "content_type": "video/mp4" if video else STILL_TYPES.get(output.extension, "image/png"),
        "width": output.width,
        "height": output.height,
        "sha256": sha256,
        "bytes": size,
        "fit": _fit(output, device),
    }
    if video:
        entry["duration"] = video.duration
    else:
        entry["drift"] = True
    return entry


def playlist_for(*, device: Device, base_url: str, window: int | None = None) -> tuple[dict, str]:
    """The frame's playlist as JSON-ready data, and its ETag (unchanged while the list, the
    settings and the link window are)."""
    window = _window() if window is None else window
    expires = datetime.fromtimestamp((window + 2) * LINK_WINDOW_SECONDS, tz=UTC)
    playlist = device.playlist.select_related("creation__job", "added_by").prefetch_related("creation__job__outputs")
    items = [entry for item in playlist if (entry := _playlist_entry(item=item, device=device, base_url=base_url, window=window))]
    data = {
        "device_id": str(device.pk),
        "paired": device.is_paired,
        "name": device.name,
        "pairing_code": None if device.is_paired else device.pairing_code,
        "settings": {
            "loop": device.loop, "seconds_per_video": device.seconds_per_video,
            "screen": {"width": device.screen_width, "height": device.screen_height},
        },
        "items": items,
        "links_expire_at": expires.isoformat(),
        "poll_seconds": POLL_SECONDS,
    }
    stable = {**data, "items": [{key: value for key, value in entry.items() if key not in ("url", "poster_url")} for entry in items], "window": window}
    etag = '"' + hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:32] + '"'
    return data, etag


def playlist_answer(*, token: str, base_url: str) -> PlaylistAnswer | None:
    """What a frame's poll gets: its playlist as JSON and the ETag, or None for an unknown or
    revoked token. A paired frame's answer is kept in the cache until something in it changes
    (studio.devices.answers), so most polls read no database."""
    if not token:
        return None
    token_hash, window = _hash(token), _window()
    kept = answer_get(token_hash=token_hash, window=window, base_url=base_url)
    if kept is not None:
        return kept
    stamp = answers_stamp()
    device = device_for_token(token)
    if device is None:
        return None
    device_refresh_pairing_code(device=device)
    data, etag = playlist_for(device=device, base_url=base_url, window=window)
    answer = PlaylistAnswer(body=json.dumps(data, cls=DjangoJSONEncoder).encode(), etag=etag)
    if device.is_paired:  # an unpaired frame's code changes, and it asks only while it shows one
        answer_set(token_hash=token_hash, window=window, base_url=base_url, stamp=stamp, answer=answer)
    return answer


def playlist_forget(*token_hashes: str | None) -> None:
    """These frames' playlists changed: their next poll reads them anew (now, and again once
    this transaction commits, so that a poll meanwhile cannot keep what was committed before)."""
    forget_now_and_on_commit(answers_forget, *token_hashes)


# --- Frames from the shop -------------------------------------------------------------------


@transaction.atomic
def devices_provision_for_order(*, order, pairing_codes: list[str]) -> list[Device]:
    """Make the frames of a paid order ready to ship. Each frame has registered itself, so it
    holds its own token (nobody else ever sees it), and shows a pairing code; staff type those
    codes here. The frames join the order, preloaded with its chosen videos: paired to the
    buyer, or, for a gift, waiting for the recipient to accept them by the emailed link."""
    if not order.is_paid:
        raise PairingError(gettext("%(order)s is not paid.") % {"order": order})
    if order.devices.exists():
        raise PairingError(gettext("The frames of %(order)s were made already.") % {"order": order})
    count = sum(item.quantity for item in order.items.all())
    codes = list(dict.fromkeys(code.strip().upper() for code in pairing_codes if code.strip()))
    if len(codes) != count:
        raise PairingError(gettext("%(order)s needs one code per frame (%(count)d), each typed once.") % {"order": order, "count": count})
    waiting = Device.objects.select_for_update().filter(
        pairing_code__in=codes, owner__isnull=True, order__isnull=True, pairing_expires_at__gt=timezone.now()
    )
    by_code = {device.pairing_code: device for device in waiting}
    if missing := [code for code in codes if code not in by_code]:
        raise PairingError(gettext("No frame waiting to be paired shows %(codes)s. Check the screens: a code lasts 15 minutes.") % {"codes": ", ".join(missing)})
    now, provisioned = timezone.now(), []
    for index, code in enumerate(codes):
        device = by_code[code]
        device.name = f"Frame {index + 1} of {order.number}" if count > 1 else "My frame"
        device.order, device.owner, device.paired_at = order, None if order.is_gift else order.customer, None if order.is_gift else now
        device.pairing_code = device.pairing_expires_at = None
        device.save()
        PlaylistItem.objects.bulk_create(
            PlaylistItem(device=device, creation=creation, position=position, added_by=device.owner)
            for position, creation in enumerate(order.preload.all())
        )
        playlist_forget(device.token_hash)
        provisioned.append(device)
    if order.is_gift and order.gift_recipient_email:
        link = settings.SITE_URL + reverse("studio:frame-accept", args=[signing.dumps(order.number, salt="frame-gift")])
        # We know nothing of the recipient's language; the buyer's is the best guess.
        transaction.on_commit(lambda: mail_send(
            template="studio/email/gift_frame", context={"order": order, "link": link, "days": GIFT_ACCEPT_DAYS},
            to=order.gift_recipient_email, language=order.customer.language,
        ))
    return provisioned


def _gift_devices(*, user, token: str, lock: bool) -> list[Device]:
    try:
        number = signing.loads(token, salt="frame-gift", max_age=timedelta(days=GIFT_ACCEPT_DAYS))
    except signing.BadSignature:
        raise PairingError(gettext("This link is not valid any more. Ask the sender to contact us.")) from None
    devices = Device.objects.filter(order__number=number)
    devices = list(devices.select_for_update() if lock else devices.select_related("order"))
    if not devices:
        raise PairingError(gettext("The frame for this gift is not ready yet; try the link again when it arrives."))
    if any(device.owner_id not in (None, user.pk) for device in devices):
        raise PairingError(gettext("This gift was accepted already, by another account."))
    return devices


def gift_devices_for_link(*, user, token: str) -> list[Device]:
    """The frames an emailed gift link offers ``user``, changing nothing (the page that asks
    them to accept)."""
    return _gift_devices(user=user, token=token, lock=False)


@transaction.atomic
def devices_accept_gift(*, user, token: str) -> list[Device]:
    """Pair a gift order's frames to the person who accepts them from the emailed link."""
    devices = _gift_devices(user=user, token=token, lock=True)
    now = timezone.now()
    for device in devices:
        if device.owner_id is None:
            device.owner, device.paired_at = user, now
            device.save(update_fields=["owner", "paired_at"])
    return devices
