from django.db.models import QuerySet
from django.http import Http404

from accounts.signals import ExportSection

from .devices.models import Device
from .models import Creation


def creation_list_for(*, user) -> QuerySet[Creation]:
    return Creation.objects.filter(owner=user).select_related("job")


def creation_get_for(*, user, creation_id) -> Creation:
    """The creation if ``user`` may see it; 404 otherwise, never 403, so that nothing tells a
    stranger a private creation exists. Staff who can view creations in the admin see all."""
    queryset = Creation.objects.select_related("job")
    if not (user.is_authenticated and user.is_staff and user.has_perm("studio.view_creation")):
        queryset = queryset.filter(owner_id=user.pk) if user.is_authenticated else queryset.none()
    try:
        return queryset.get(pk=creation_id)
    except Creation.DoesNotExist:
        raise Http404("No such creation.") from None


def creation_get_owned(*, user, creation_id) -> Creation:
    """The creation if ``user`` owns it (for changes only the owner may make); 404 otherwise."""
    try:
        return Creation.objects.select_related("job").get(pk=creation_id, owner_id=user.pk)
    except Creation.DoesNotExist:
        raise Http404("No such creation.") from None


def creation_get_shared(*, token: str) -> Creation:
    try:
        return Creation.objects.select_related("job").get(share_token=token, is_shared=True)
    except Creation.DoesNotExist:
        raise Http404("This link does not work any more.") from None


def account_studio_export(*, user) -> list[ExportSection]:
    """A customer's creations (with their photo and the latest video, GIF and poster) and
    frames, for their data export."""
    creations, files = [], {}
    for creation in Creation.objects.filter(owner=user).select_related("job").order_by("created_at"):
        folder = f"creations/{creation.pk}"
        entry = {
            "id": creation.pk, "title": creation.title, "created_at": creation.created_at, "aspect_ratio": creation.aspect_ratio,
            "is_shared": creation.is_shared, "share_views": creation.share_views, "files": {},
        }
        outputs = [("photo", creation.photo, "jpg")]
        if creation.job:
            entry["video"] = {"engine": creation.job.engine, "state": creation.job.state, "params": creation.job.params}
            outputs += [("video", creation.job.video, "mp4"), ("gif", creation.job.gif, "gif"), ("poster", creation.job.poster, "jpg")]
        for kind, fieldfile, extension in outputs:
            if fieldfile:
                entry["files"][kind] = path = f"{folder}/{kind}.{extension}"
                files[path] = fieldfile.name
        creations.append(entry)
    frames = [
        {
            "id": device.pk, "name": device.name, "paired_at": device.paired_at, "last_seen_at": device.last_seen_at,
            "playlist": [item.creation_id for item in device.playlist.all()],
        }
        for device in Device.objects.filter(owner=user).prefetch_related("playlist")
    ]
    return [ExportSection(name="creations", data=creations, files=files), ExportSection(name="frames", data=frames)]
