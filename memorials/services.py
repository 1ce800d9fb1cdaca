from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from core.links import link_is_unlocked, link_pin_hash, link_token_new, link_unlock
from generation.engines import get_engine
from generation.models import Job, JobOutput
from shop.models import Plan
from studio.models import Creation
from studio.services import image_animate

from . import selectors
from .models import GuestbookMessage, Memorial

UNLOCKED_SESSION_KEY = "memorials_unlocked"


class NotYours(ValidationError):
    """An output that is not one of the owner's own (or not of the right kind) was offered."""


def _owned(*, owner, output: JobOutput | None, allowed) -> JobOutput | None:
    if output is not None and not allowed(owner=owner).filter(pk=output.pk).exists():
        raise NotYours(gettext("Choose one of your own pictures."), code="not_yours")
    return output


@transaction.atomic
def memorial_create(*, owner, name: str, portrait: JobOutput | None = None, **fields) -> Memorial:
    memorial = Memorial(owner=owner)
    return memorial_update(memorial=memorial, name=name, portrait=portrait, **fields)


@transaction.atomic
def memorial_update(
    *, memorial: Memorial, name: str, birth_year=None, birth_month=None, birth_day=None, death_year=None, death_month=None,
    death_day=None, epitaph: str = "", portrait: JobOutput | None = None, pastimes: list[JobOutput] | None = None,
    video: JobOutput | None = None,
) -> Memorial:
    """Write the memorial's words and pictures. Every picture must be one of the owner's own
    outputs of the right kind (NotYours otherwise, and nothing is written); the dates and the
    epitaph are validated as the model's fields and ``clean()`` say."""
    owner = memorial.owner
    _owned(owner=owner, output=portrait, allowed=selectors.portrait_candidates)
    _owned(owner=owner, output=video, allowed=selectors.video_candidates)
    for pastime in pastimes or []:
        _owned(owner=owner, output=pastime, allowed=selectors.image_candidates)
    memorial.name, memorial.epitaph, memorial.portrait, memorial.video = name, epitaph, portrait, video
    memorial.birth_year, memorial.birth_month, memorial.birth_day = birth_year, birth_month, birth_day
    memorial.death_year, memorial.death_month, memorial.death_day = death_year, death_month, death_day
    memorial.full_clean(exclude=["share_token"])
    memorial.save()
    if pastimes is not None:
        memorial.pastimes.set(pastimes)
    return memorial


@transaction.atomic
def memorial_portrait_choose(*, owner, output: JobOutput, memorial: Memorial | None = None) -> Memorial:
    """"Use as memorial portrait": ``output`` becomes the portrait of ``memorial``, or of a new
    memorial named after the creation the candidate came from (the owner can rename it)."""
    _owned(owner=owner, output=output, allowed=selectors.portrait_candidates)
    if memorial is None:
        creation = Creation.objects.filter(owner=owner, job_id=output.job_id).first()
        memorial = Memorial(owner=owner, name=creation.title if creation else "")
    elif memorial.owner_id != owner.pk:
        raise NotYours(gettext("Choose one of your own memorials."), code="not_yours")
    memorial.portrait = output
    memorial.save()
    return memorial


class NothingToAnimate(ValueError):
    """``str()`` tells the owner why."""


def memorial_animate(
    *, memorial: Memorial, engine: str | None = None, params: dict | None = None, plan: Plan | None = None, reserve_credit: bool = True,
) -> Creation:
    """"Bring it to life" from the chosen portrait (not the first candidate its job made): a
    creation of the owner's, for one credit, that animates it with ``engine`` (the default
    engine when None) as that engine animates a portrait of a person (its ``portrait_params``:
    calm, the camera still); its video becomes the memorial's living video when its job
    succeeds. ``plan`` and ``reserve_credit`` as ``creation_create`` takes them. Raises what
    ``creation_create`` raises (NoCreditsLeft, EngineError...)."""
    if memorial.portrait is None:
        raise NothingToAnimate(gettext("Choose the portrait first."))
    portrait = memorial.portrait
    shape = "3:4" if (portrait.height or 0) > (portrait.width or 0) else "1:1"  # a 4:5 or 3:4 portrait stays upright
    engine = engine or settings.GENERATION_DEFAULT_ENGINE
    calm = getattr(get_engine(engine), "portrait_params", {})  # an image engine is refused by creation_create
    creation = image_animate(
        owner=memorial.owner, image=portrait, title=memorial.name, aspect_ratio=shape, engine=engine,
        params={**calm, **(params or {})}, plan=plan, reserve_credit=reserve_credit,
    )
    memorial.living_creation = creation
    memorial.save(update_fields=["living_creation", "updated_at"])
    return creation


def memorial_living_video_attach(*, job_id: int) -> None:
    """When the job bringing a memorial's portrait to life succeeds, its video is the memorial's."""
    video = JobOutput.objects.filter(job_id=job_id, job__state=Job.State.SUCCEEDED, kind=JobOutput.Kind.VIDEO).order_by("position").first()
    if video is not None:
        Memorial.objects.filter(living_creation__job_id=job_id).update(video=video)


# --- Sharing -------------------------------------------------------------------------------

def memorial_sharing_set(*, memorial: Memorial, shared: bool, expires_at=None, pin: str | None = None) -> Memorial:
    """Turn the link on (with an optional expiry) or off. The token is kept, so turning sharing
    back on revives the same link. ``pin``: a new PIN (4–8 digits), "" to remove it, None to
    keep it; a new PIN (or none) asks every visitor who had unlocked the page again."""
    if shared and not memorial.share_token:
        memorial.share_token = link_token_new()
    memorial.is_shared = shared
    memorial.share_expires_at = expires_at if shared else None
    if pin is not None:
        memorial.pin_hash = link_pin_hash(pin)
    memorial.save(update_fields=["is_shared", "share_token", "share_expires_at", "pin_hash", "updated_at"])
    return memorial


def memorial_share_rotate(*, memorial: Memorial) -> Memorial:
    """A new address for the page; the old link stops working at once."""
    if not memorial.is_shared:
        raise ValidationError(gettext("Turn the link on first."), code="not_shared")
    memorial.share_token = link_token_new()
    memorial.save(update_fields=["share_token", "updated_at"])
    return memorial


def _link(memorial: Memorial) -> dict:
    return {"scope": UNLOCKED_SESSION_KEY, "key": str(memorial.pk), "token": memorial.share_token or "", "pin_hash": memorial.pin_hash}


def memorial_is_unlocked(*, memorial: Memorial, session) -> bool:
    return link_is_unlocked(session=session, **_link(memorial))


def memorial_unlock(*, memorial: Memorial, pin: str, session) -> bool:
    """Check the PIN; if right, remember in the visitor's session that this page (only) is open."""
    return link_unlock(session=session, pin=pin, **_link(memorial))


# --- Guestbook -----------------------------------------------------------------------------

def guestbook_message_create(*, memorial: Memorial, name: str, message: str) -> GuestbookMessage:
    entry = GuestbookMessage(memorial=memorial, name=name, message=message)
    entry.full_clean()
    entry.save()
    return entry


def guestbook_message_moderate(*, message: GuestbookMessage, action: str) -> None:
    """The owner's "approve", "hide" or "delete"."""
    if action == "delete":
        message.delete()
        return
    states = {"approve": GuestbookMessage.State.APPROVED, "hide": GuestbookMessage.State.HIDDEN}
    if action not in states:
        raise ValueError(f"Unknown action: {action}")
    message.state = states[action]
    message.save(update_fields=["state"])
