from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext, gettext_noop

from accounts.signals import ExportSection
from generation.models import Job, JobOutput
from studio.models import Creation

from .models import GuestbookMessage, Memorial

# The engines whose images may be a memorial's portrait: the memorial portraits, and an old
# photo restored or colorized.
PORTRAIT_ENGINES = ("memorial-portrait", "memorial-portrait-sdxl", "restore", "restore+colorize")


def _outputs_of(*, owner, kind: str) -> QuerySet[JobOutput]:
    return JobOutput.objects.filter(job__owner_id=owner.pk, job__state=Job.State.SUCCEEDED, kind=kind).select_related("job").order_by("-job__created_at", "position")


def portrait_candidates(*, owner) -> QuerySet[JobOutput]:
    return _outputs_of(owner=owner, kind=JobOutput.Kind.IMAGE).filter(job__engine__in=PORTRAIT_ENGINES)


def image_candidates(*, owner) -> QuerySet[JobOutput]:
    return _outputs_of(owner=owner, kind=JobOutput.Kind.IMAGE)


def video_candidates(*, owner) -> QuerySet[JobOutput]:
    return _outputs_of(owner=owner, kind=JobOutput.Kind.VIDEO)


def output_owned(*, owner, output_id: int) -> JobOutput:
    """One of the owner's finished pictures or videos; 404 for anyone else's."""
    found = JobOutput.objects.filter(pk=output_id, job__owner_id=owner.pk, job__state=Job.State.SUCCEEDED, kind__in=[JobOutput.Kind.IMAGE, JobOutput.Kind.VIDEO]).first()
    if found is None:
        raise Http404("No such picture.")
    return found


def memorial_list_for(*, user) -> QuerySet[Memorial]:
    return Memorial.objects.filter(owner_id=user.pk).select_related("portrait")


def memorial_get_owned(*, user, memorial_id) -> Memorial:
    """The memorial if ``user`` owns it; 404 otherwise, never 403, so that nothing tells a
    stranger a private memorial exists."""
    try:
        return Memorial.objects.select_related("portrait", "video", "living_creation__job").get(pk=memorial_id, owner_id=user.pk)
    except Memorial.DoesNotExist:
        raise Http404("No such memorial.") from None


def memorial_get_shared(*, token: str) -> Memorial:
    """The memorial whose link is on (expired or not: the page says which); 404 otherwise."""
    try:
        return Memorial.objects.select_related("portrait", "video").get(share_token=token, is_shared=True)
    except Memorial.DoesNotExist:
        raise Http404("This link does not work any more.") from None


def memorial_media(*, memorial: Memorial, part: str, position: int = 0) -> JobOutput:
    """One of the memorial's own pictures: "portrait", "video", "poster" (the living video's
    still) or the ``position``-th of its "pastime" images; 404 for anything else."""
    output = None
    if part == "portrait":
        output = memorial.portrait
    elif part == "video":
        output = memorial.video
    elif part == "poster":
        output = memorial_poster(memorial=memorial)
    elif part == "pastime":
        output = next(iter(memorial_pastimes(memorial=memorial)[position:position + 1]), None)
    if output is None:
        raise Http404
    return output


def memorial_poster(*, memorial: Memorial) -> JobOutput | None:
    """The still of the living video, made by the same job."""
    if memorial.video is None:
        return None
    return JobOutput.objects.filter(job_id=memorial.video.job_id, kind=JobOutput.Kind.POSTER).order_by("position").first()


def memorial_pastimes(*, memorial: Memorial) -> list[JobOutput]:
    return list(memorial.pastimes.order_by("job__created_at", "position"))


def memorial_video_creation(*, memorial: Memorial) -> Creation | None:
    """The owner's creation whose video is the memorial's (what a frame's playlist holds), if
    there is one."""
    if memorial.video_id is None:
        return None
    return Creation.objects.filter(owner_id=memorial.owner_id, job_id=memorial.video.job_id).first()


def memorials_using(*, job_id: int) -> list[tuple[Memorial, list[str]]]:
    """The memorials that show an output of job ``job_id``, each with which of its parts do
    ("portrait", "video", "pastimes")."""
    uses = []
    memorials = Memorial.objects.filter(
        Q(portrait__job_id=job_id) | Q(video__job_id=job_id) | Q(pastimes__job_id=job_id)
    ).distinct().select_related("portrait", "video")
    for memorial in memorials:
        parts = [part for part, output in (("portrait", memorial.portrait), ("video", memorial.video)) if output is not None and output.job_id == job_id]
        if memorial.pastimes.filter(job_id=job_id).exists():
            parts.append("pastimes")
        uses.append((memorial, parts))
    return uses


_TAKEN = {
    "portrait": gettext_noop("It is the portrait of the memorial for %(name)s, which will have none."),
    "video": gettext_noop("It is the living video of the memorial for %(name)s, which will have none."),
    "pastimes": gettext_noop("Its pictures are among the pastimes of the memorial for %(name)s, and will leave it."),
}


def creation_deletion_notices(creation) -> list[str]:
    """What deleting ``creation`` would take from its owner's memorials, in their language."""
    if creation.job_id is None:
        return []
    return [gettext(_TAKEN[part]) % {"name": memorial.honoured_name} for memorial, parts in memorials_using(job_id=creation.job_id) for part in parts]


def guestbook_approved(*, memorial: Memorial) -> QuerySet[GuestbookMessage]:
    return memorial.messages.filter(state=GuestbookMessage.State.APPROVED)


def guestbook_for_owner(*, memorial: Memorial) -> QuerySet[GuestbookMessage]:
    return memorial.messages.order_by("state", "-created_at")


def guestbook_message_owned(*, user, message_id: int) -> GuestbookMessage:
    try:
        return GuestbookMessage.objects.select_related("memorial").get(pk=message_id, memorial__owner_id=user.pk)
    except GuestbookMessage.DoesNotExist:
        raise Http404("No such message.") from None


def account_memorials_export(*, user) -> list[ExportSection]:
    """A customer's memorials, for their data export: the words, which outputs they show (the
    files come with the studio's part) and the guestbook, whatever its state."""
    memorials = []
    for memorial in Memorial.objects.filter(owner=user).prefetch_related("pastimes", "messages").order_by("created_at"):
        memorials.append({
            "id": memorial.pk, "name": memorial.name, "epitaph": memorial.epitaph, "created_at": memorial.created_at,
            "born": [memorial.birth_year, memorial.birth_month, memorial.birth_day], "died": [memorial.death_year, memorial.death_month, memorial.death_day],
            "portrait": memorial.portrait.file.name if memorial.portrait else None, "video": memorial.video.file.name if memorial.video else None,
            "pastimes": [pastime.file.name for pastime in memorial.pastimes.all()],
            "is_shared": memorial.is_shared, "share_expires_at": memorial.share_expires_at, "has_pin": memorial.has_pin,
            "guestbook": [
                {"name": entry.name, "message": entry.message, "state": entry.state, "created_at": entry.created_at} for entry in memorial.messages.all()
            ],
        })
    return [ExportSection(name="memorials", data=memorials)]
