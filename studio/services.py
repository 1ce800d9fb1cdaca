import hashlib
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from core.kept import forget_now_and_on_commit
from core.mail import mail_send
from core.storage import files_delete_on_commit, files_of
from core.validators import validate_single_line
from generation.models import Job
from generation.photos import NormalizedPhoto, photo_normalize
from generation.services import RetryRefused, job_create, job_inputs_rename, job_retry, jobs_delete
from shop.models import Plan
from shop.selectors import launch_mode_active, plan_for
from shop.services.credits import credit_reserve

from .models import Creation, Device, ShareReport
from .sharepages import pages_forget
from .viewcounts import redis_client, view_count, views_push, views_take_own, views_take_shared


@transaction.atomic
def creation_create(
    *, owner, photos: list[NormalizedPhoto], title: str = "", aspect_ratio: str, engine: str, params: dict | None = None,
    plan: Plan | None = None, reserve_credit: bool = True,
) -> Creation:
    """Store the cleaned photos, reserve a credit and queue the job that makes something of
    them (sent after commit), with what the owner's ``plan`` allows (looked up when not given).
    ``reserve_credit=False`` for an owner billed otherwise (a partner organisation's account,
    invoiced for its usage).
    The first photo is the creation's own (its picture until the job has made one); an engine
    that takes several gets them all, in order. Raises NoCreditsLeft, InvalidSettings (also
    for the wrong number of photos), TooManyJobs or EngineError, and then nothing is stored."""
    validate_single_line(title)  # a ValidationError: the title goes into email subjects
    plan = plan or plan_for(user=owner)
    first = photos[0] if photos else None
    creation = Creation(
        owner=owner, title=title, aspect_ratio=aspect_ratio,
        photo_width=first.size[0] if first else 0, photo_height=first.size[1] if first else 0,
    )
    field = Creation._meta.get_field("photo")
    names = [field.generate_filename(creation, f"{secrets.token_hex(8)}.jpg") for _ in photos]
    # The job first: its settings and photo count are validated there, once, and the
    # account's caps checked (locking the owner until the job is in), before a photo is stored.
    job = job_create(engine=engine, inputs=names, params={**(params or {}), "aspect": aspect_ratio}, owner=owner, limits=plan.job_limits())
    stored = {name: field.storage.save(name, ContentFile(photo.jpeg)) for name, photo in zip(names, photos, strict=True)}
    job_inputs_rename(job=job, renamed=stored)  # where the storage chose other names
    creation.photo.name = stored[names[0]]
    creation.job = job
    creation.save()
    if reserve_credit and not launch_mode_active():  # launch mode makes videos free: nothing is reserved
        credit_reserve(user=owner, job=creation.job, plan=plan)
    return creation


class SharingRefused(Exception):
    """``str()`` tells the owner why."""


def creation_set_shared(*, creation: Creation, shared: bool) -> Creation:
    """Turn the public link on or off. The token is kept, so turning sharing back on revives
    the same link; while off, the link answers 404."""
    if shared and creation.taken_down_at:
        raise SharingRefused(gettext("Our staff took this creation's public page down after a report, so it cannot be shared again."))
    if shared and not creation.share_token:
        creation.share_token = secrets.token_urlsafe(24)
    creation.is_shared = shared
    creation.save(update_fields=["is_shared", "share_token"])
    return creation


@transaction.atomic
def creation_retry(*, creation: Creation) -> Creation:
    """Make the video again, with the same photos, engine and knobs, after a failure or a cancel
    (the failed one gave its credit back; this one reserves one, on today's plan). Once per
    failed job: a second click raises RetryRefused (a ValueError) and reserves nothing."""
    if creation.job is None:
        raise RetryRefused(gettext("Only a creation that failed or was canceled can be made again."))
    plan = plan_for(user=creation.owner)
    creation.job = job_retry(job=creation.job, limits=plan.job_limits())
    creation.save(update_fields=["job"])
    if not launch_mode_active():  # launch mode makes videos free: nothing is reserved
        credit_reserve(user=creation.owner, job=creation.job, plan=plan)
    return creation


class NothingToAnimate(ValueError):
    """``str()`` tells the owner why."""


def creation_animate(*, creation: Creation) -> Creation:
    """"Bring it to life": a new creation, for the same owner and for one credit, that animates
    the first image ``creation``'s job made (a restored photo), with the default engine, in the
    same frame shape and under the same title."""
    job = creation.job
    image = next(iter(job.images), None) if job is not None and job.state == Job.State.SUCCEEDED else None
    if image is None:
        raise NothingToAnimate(gettext("Only a finished photo can be brought to life."))
    return image_animate(owner=creation.owner, image=image, title=creation.title, aspect_ratio=creation.aspect_ratio)


def image_animate(
    *, owner, image, title: str, aspect_ratio: str, engine: str | None = None, params: dict | None = None,
    plan: Plan | None = None, reserve_credit: bool = True,
) -> Creation:
    """A new creation of ``owner``'s, for one credit (see ``creation_create`` for ``plan`` and
    ``reserve_credit``), that animates ``image`` (a JobOutput still) with ``engine`` (the default
    engine when None). The caller says which image and checks it is the owner's; the plan's
    limits are checked as for any creation."""
    with image.file.open("rb") as handle:
        photo = photo_normalize(handle)
    return creation_create(
        owner=owner, photos=[photo], title=title, aspect_ratio=aspect_ratio, engine=engine or settings.GENERATION_DEFAULT_ENGINE,
        params=params, plan=plan, reserve_credit=reserve_credit,
    )


def creation_rotate_share_link(*, creation: Creation) -> Creation:
    """Give the public page a new address; the old link stops working at once."""
    if not creation.is_shared:
        raise SharingRefused(gettext("Turn the public link on first."))
    old_token, creation.share_token = creation.share_token, secrets.token_urlsafe(24)
    creation.save(update_fields=["share_token"])
    share_page_forget(old_token)
    return creation


def share_page_forget(*tokens: str | None) -> None:
    """The public pages of these links changed (or stopped): each process renders them anew,
    now and once this transaction commits (a CDN's copy lives on for SHARE_PAGE_MAX_AGE seconds)."""
    forget_now_and_on_commit(pages_forget, *tokens)


def share_view_record(*, creation_id, owner_id, viewer=None) -> None:
    """Count a visit to the public page, unless it is the owner looking at it (``viewer`` is
    None for a visitor without a session: never the owner). Counted in this process; the
    database learns of it from share_views_hand_on or share_views_flush (studio.viewcounts)."""
    if viewer is not None and viewer.is_authenticated and viewer.pk == owner_id:
        return
    view_count(key=str(creation_id), hand_on=share_views_hand_on)


def share_views_hand_on() -> int:
    """What this process counted: to Redis (the beat task writes it) or, without Redis, to the
    database. Run by the process's own thread; the number handed on."""
    counts = views_take_own()
    if redis_client() is None:
        return _share_views_write(counts)
    views_push(counts)
    return sum(counts.values())


def share_views_flush() -> int:
    """Write every visit counted so far to the creations: this process's and, with Redis, every
    process's that reached the hash. Run by the beat task; the number written."""
    if redis_client() is None:
        return share_views_hand_on()
    views_push(views_take_own())
    return _share_views_write(views_take_shared())


def _share_views_write(counts: dict[str, int]) -> int:
    by_count: dict[int, list[str]] = {}
    for creation_id, count in counts.items():
        by_count.setdefault(count, []).append(creation_id)
    with transaction.atomic():
        for count, creation_ids in by_count.items():  # one UPDATE per distinct count, not per page
            Creation.objects.filter(pk__in=creation_ids).update(share_views=F("share_views") + count)
    return sum(counts.values())


def share_report_create(*, creation: Creation, reason: str, details: str, reporter, session_key: str) -> tuple[ShareReport, bool]:
    """File a report on a public page, once per person (account, or browser session)."""
    who = f"user:{reporter.pk}" if reporter.is_authenticated else f"session:{session_key}"
    key = hashlib.sha256(f"{settings.SECRET_KEY}:{who}".encode()).hexdigest()
    return ShareReport.objects.get_or_create(
        creation=creation, reporter_key=key,
        defaults={"reason": reason, "details": details, "reporter": reporter if reporter.is_authenticated else None},
    )


@transaction.atomic
def share_take_down(*, report: ShareReport, staff) -> Creation:
    """Take the reported page down: the link stops working, it cannot be shared again, every
    open report on it is closed, and the owner is told why by email."""
    creation = Creation.objects.select_for_update().get(pk=report.creation_id)
    now = timezone.now()
    creation.is_shared, creation.taken_down_at = False, now
    creation.save(update_fields=["is_shared", "taken_down_at"])
    ShareReport.objects.filter(creation=creation, outcome=ShareReport.Outcome.OPEN).update(
        outcome=ShareReport.Outcome.TAKEN_DOWN, handled_by=staff, handled_at=now
    )
    # The reason is a lazy translation: it is worded in the owner's language when the mail renders.
    context = {"creation": creation, "reason": ShareReport.Reason(report.reason).label, "site_url": settings.SITE_URL}
    transaction.on_commit(lambda: mail_send(
        template="studio/email/taken_down", context=context, to=creation.owner.email, language=creation.owner.language,
    ))
    return creation


def share_report_dismiss(*, report: ShareReport, staff) -> None:
    ShareReport.objects.filter(pk=report.pk, outcome=ShareReport.Outcome.OPEN).update(
        outcome=ShareReport.Outcome.DISMISSED, handled_by=staff, handled_at=timezone.now()
    )


def creation_notify_ready(*, job_id: int) -> None:
    """Email the owner that their video (or photo) is ready, with a link to it; an account
    nobody logs in to (a partner organisation's) is not written to."""
    for creation in Creation.objects.select_related("owner", "job").filter(job_id=job_id, job__state=Job.State.SUCCEEDED, owner__is_active=True):
        mail_send(
            template="studio/email/ready", context={"creation": creation, "site_url": settings.SITE_URL},
            to=creation.owner.email, language=creation.owner.language,
        )


@transaction.atomic
def creation_delete(*, creation: Creation) -> None:
    """Delete a creation for good: its page and public link, its places on frames' playlists,
    its jobs (one still running is canceled first, giving its credit back) and, once committed,
    every file of it and of its jobs. The credit ledger keeps its entries."""
    creation = Creation.objects.select_for_update().get(pk=creation.pk)
    jobs_delete(source=creation.photo.name)
    files_delete_on_commit(files_of(creation))
    creation.delete()


def account_studio_delete(*, user) -> None:
    """What studio keeps about an account that is being deleted: its creations (files
    included), any other job of theirs, and their frames."""
    for creation in Creation.objects.filter(owner=user):
        creation_delete(creation=creation)
    jobs_delete(owner=user)
    Device.objects.filter(owner=user).delete()
