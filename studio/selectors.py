from django.db.models import QuerySet
from django.http import Http404

from accounts.signals import ExportSection
from generation.engines.faces import detect_faces
from generation.models import Job, JobOutput
from generation.photos import NormalizedPhoto

from .models import Creation, Device


def creation_list_for(*, user) -> QuerySet[Creation]:
    return Creation.objects.filter(owner=user).select_related("job").prefetch_related("job__outputs")


def output_at(*, job: Job | None, position: int) -> JobOutput | None:
    """The ``position``-th output of a finished ``job``, or None."""
    if job is None or job.state != Job.State.SUCCEEDED:
        return None
    return JobOutput.objects.filter(job=job, position=position).first()


def output_first(*, job: Job, kind: str) -> JobOutput | None:
    """The first output of ``kind`` a finished ``job`` made, or None."""
    if job.state != Job.State.SUCCEEDED:
        return None
    return JobOutput.objects.filter(job=job, kind=kind).order_by("position").first()


def photo_faces(*, photo: NormalizedPhoto) -> dict:
    """The faces in an upright photo, for the upload page's picker: the photo's size in pixels
    and each face's box as fractions of it (4 decimals), left to right, so that "Face 1" is the
    leftmost as a person reads the photo."""
    width, height = photo.size
    faces = sorted(detect_faces(photo.image), key=lambda face: (face.x, face.y))
    return {
        "width": width,
        "height": height,
        "faces": [
            {"x": round(face.x / width, 4), "y": round(face.y / height, 4), "w": round(face.w / width, 4), "h": round(face.h / height, 4), "kind": face.kind}
            for face in faces
        ],
    }


def creation_get_for(*, user, creation_id) -> Creation:
    """The creation if ``user`` may see it; 404 otherwise, never 403, so that nothing tells a
    stranger a private creation exists. Staff who can view creations in the admin see all."""
    queryset = Creation.objects.select_related("job").prefetch_related("job__outputs")
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


def _export_name(output: JobOutput) -> tuple[str, str]:
    """A job's output as its export names it: its kind ("gif" for the animation, as before),
    numbered when the job made several of that kind."""
    name = "gif" if output.kind == JobOutput.Kind.ANIMATION else output.kind
    if output.kind == JobOutput.Kind.IMAGE:
        name = f"image-{output.position + 1}"
    return name, output.file.name


def creation_get_shared(*, token: str) -> Creation:
    try:
        return Creation.objects.select_related("job").prefetch_related("job__outputs").get(share_token=token, is_shared=True)
    except Creation.DoesNotExist:
        raise Http404("This link does not work any more.") from None


def creation_shared_id(*, token: str):
    """The id of the creation shared at ``token``, or None when the link does not work."""
    return Creation.objects.filter(share_token=token, is_shared=True).values_list("pk", flat=True).first()


def account_studio_export(*, user) -> list[ExportSection]:
    """A customer's creations (with their photos and what the latest job made) and frames,
    for their data export."""
    creations, files = [], {}
    queryset = Creation.objects.filter(owner=user).select_related("job").prefetch_related("job__inputs", "job__outputs")
    for creation in queryset.order_by("created_at"):
        folder = f"creations/{creation.pk}"
        entry = {
            "id": creation.pk, "title": creation.title, "created_at": creation.created_at, "aspect_ratio": creation.aspect_ratio,
            "is_shared": creation.is_shared, "share_views": creation.share_views, "files": {},
        }
        named = [("photo", creation.photo.name)]
        if creation.job:
            job = creation.job
            entry["video"] = {"engine": job.engine, "state": job.state, "params": job.params}
            named += [(f"photo-{photo.position + 1}", photo.file.name) for photo in job.inputs.all() if photo.position]
            named += [_export_name(output) for output in job.outputs.all()]
        for name, stored in named:
            if stored:
                extension = stored.rsplit(".", 1)[-1].lower()
                entry["files"][name] = path = f"{folder}/{name}.{extension}"
                files[path] = stored
        creations.append(entry)
    frames = [
        {
            "id": device.pk, "name": device.name, "paired_at": device.paired_at, "last_seen_at": device.last_seen_at,
            "playlist": [item.creation_id for item in device.playlist.all()],
        }
        for device in Device.objects.filter(owner=user).prefetch_related("playlist")
    ]
    return [ExportSection(name="creations", data=creations, files=files), ExportSection(name="frames", data=frames)]
