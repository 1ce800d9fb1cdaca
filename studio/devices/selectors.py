from django.db.models import Q, QuerySet
from django.http import Http404

from generation.models import Job, JobOutput
from generation.selectors import jobs_that_made

from ..models import Creation, Device


def device_get_owned(*, user, device_id) -> Device:
    """The frame if ``user`` owns it; 404 otherwise."""
    try:
        return Device.objects.get(pk=device_id, owner_id=user.pk)
    except Device.DoesNotExist:
        raise Http404("No such frame.") from None


def frames_of(*, user) -> QuerySet[Device]:
    """The frames ``user`` has paired."""
    return Device.objects.filter(owner_id=user.pk)


def playlist_choices_for(*, device: Device) -> QuerySet[Creation]:
    """What the owner may tick for a frame: their finished videos (a frame plays videos, not
    images), and whatever is on it now (a gift's preloaded videos, which are someone else's)."""
    return Creation.objects.filter(
        Q(owner_id=device.owner_id, job__state=Job.State.SUCCEEDED, job__in=jobs_that_made(JobOutput.Kind.VIDEO))
        | Q(pk__in=device.playlist.values("creation_id"))
    ).select_related("job")
