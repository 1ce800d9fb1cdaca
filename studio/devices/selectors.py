from django.db.models import Q, QuerySet
from django.http import Http404

from generation.models import Job, JobOutput
from generation.selectors import jobs_that_made

from ..models import Creation, Device, FrameMember, PlaylistItem


def device_get_owned(*, user, device_id) -> Device:
    """The frame if ``user`` owns it; 404 otherwise."""
    try:
        return Device.objects.get(pk=device_id, owner_id=user.pk)
    except Device.DoesNotExist:
        raise Http404("No such frame.") from None


def frames_of(*, user) -> QuerySet[Device]:
    """The frames ``user`` has paired."""
    return Device.objects.filter(owner_id=user.pk)


def frames_to_play_on(*, user) -> QuerySet[Device]:
    """The frames ``user`` may send their videos to ("Play on …"): those they paired, and those
    they are a family member of."""
    return Device.objects.filter(
        Q(owner_id=user.pk) | Q(owner__isnull=False, members__user_id=user.pk, members__accepted_at__isnull=False)
    ).distinct()


def device_to_play_on(*, user, device_id) -> Device:
    """A frame ``user`` may send to; 404 otherwise."""
    try:
        return frames_to_play_on(user=user).get(pk=device_id)
    except Device.DoesNotExist:
        raise Http404("No such frame.") from None


def memberships_of(*, user) -> QuerySet[FrameMember]:
    """The frames ``user`` has joined as a family member (still paired to their owners)."""
    return FrameMember.objects.filter(user_id=user.pk, accepted_at__isnull=False, device__owner__isnull=False).select_related("device__owner")


def membership_get(*, user, device_id) -> FrameMember:
    """``user``'s membership of a paired frame; 404 otherwise (the owner's own frame included:
    they have its settings page)."""
    member = memberships_of(user=user).filter(device_id=device_id).first()
    if member is None:
        raise Http404("No such frame.")
    return member


def members_of(*, device: Device) -> QuerySet[FrameMember]:
    """Everyone invited to the frame, accepted or not, for its owner's page."""
    return device.members.select_related("user")


def item_is_a_members(*, item: PlaylistItem, device: Device) -> bool:
    """Whether a family member sent ``item``, rather than the owner choosing it (or it coming with
    a gift)."""
    return item.added_by_id is not None and item.added_by_id != device.owner_id


def items_sent_by(*, device: Device, user) -> QuerySet[PlaylistItem]:
    """What ``user`` sent to the frame, all a member sees of it."""
    return device.playlist.filter(added_by_id=user.pk).select_related("creation__job")


def members_items(*, device: Device) -> QuerySet[PlaylistItem]:
    """What the family members sent, for the owner to see and remove."""
    return device.playlist.exclude(added_by__isnull=True).exclude(added_by_id=device.owner_id).select_related("creation", "added_by")


def gift_items(*, device: Device) -> QuerySet[PlaylistItem]:
    """What is on the frame that is neither the owner's nor a member's: a gift's preloaded videos."""
    return device.playlist.select_related("creation").exclude(creation__owner_id=device.owner_id).exclude(
        pk__in=members_items(device=device).values("pk")
    )


def playlist_choices_for(*, device: Device) -> QuerySet[Creation]:
    """What the owner may tick for a frame: their finished videos, and what is on it now of
    their choosing (a gift's preloaded videos, which are someone else's). What family members
    sent is not theirs to tick; they remove it one by one."""
    return Creation.objects.filter(
        Q(owner_id=device.owner_id, job__state=Job.State.SUCCEEDED, job__in=jobs_that_made(JobOutput.Kind.VIDEO))
        | Q(pk__in=device.playlist.exclude(pk__in=members_items(device=device).values("pk")).values("creation_id"))
    ).select_related("job")


def send_choices_for(*, device: Device, user) -> QuerySet[Creation]:
    """What ``user`` may send to the frame: their finished videos and the images their finished
    jobs made (restored photos, shown as stills), not already on it."""
    made = Q(job__in=jobs_that_made(JobOutput.Kind.VIDEO)) | Q(job__in=jobs_that_made(JobOutput.Kind.IMAGE))
    return Creation.objects.filter(made, owner_id=user.pk, job__state=Job.State.SUCCEEDED).exclude(
        pk__in=device.playlist.values("creation_id")
    ).select_related("job")
