import secrets

from django.core.files.base import ContentFile
from django.db import transaction

from generation.photos import NormalizedPhoto
from generation.services import job_create, job_settings
from shop.selectors import plan_for
from shop.services.credits import credit_reserve

from .models import Creation


@transaction.atomic
def creation_create(*, owner, photo: NormalizedPhoto, title: str = "", aspect_ratio: str, engine: str, params: dict | None = None) -> Creation:
    """Store the cleaned photo, reserve a credit and queue the job that animates it (sent
    after commit), with what the owner's plan allows. Raises NoCreditsLeft, InvalidSettings
    or EngineError, and then nothing is stored."""
    params = {**(params or {}), "aspect": aspect_ratio}
    plan = plan_for(user=owner)
    job_settings(engine=engine, params=params, limits=plan.job_limits())  # refuse bad knobs before anything is stored
    creation = Creation(
        owner=owner, title=title, aspect_ratio=aspect_ratio, photo_width=photo.size[0], photo_height=photo.size[1]
    )
    creation.photo.save(f"{secrets.token_hex(8)}.jpg", ContentFile(photo.jpeg), save=False)
    creation.save()
    creation.job = job_create(engine=engine, source=creation.photo.name, params=params, owner=owner, limits=plan.job_limits())
    creation.save(update_fields=["job"])
    credit_reserve(user=owner, job=creation.job, plan=plan)
    return creation


def creation_set_shared(*, creation: Creation, shared: bool) -> Creation:
    """Turn the public link on or off. The token is kept, so turning sharing back on revives
    the same link; while off, the link answers 404."""
    if shared and not creation.share_token:
        creation.share_token = secrets.token_urlsafe(24)
    creation.is_shared = shared
    creation.save(update_fields=["is_shared", "share_token"])
    return creation


@transaction.atomic
def creation_retry(*, creation: Creation) -> Creation:
    """Make the video again, with the same photo, engine and knobs, after a failure or a cancel
    (the failed one gave its credit back; this one reserves one, on today's plan)."""
    previous = creation.job
    if previous is None or not previous.is_finished or previous.state == previous.State.SUCCEEDED:
        raise ValueError("Only a video that failed or was canceled can be made again.")
    plan = plan_for(user=creation.owner)
    creation.job = job_create(
        engine=previous.engine, source=previous.source.name, params=previous.params, owner=creation.owner, limits=plan.job_limits()
    )
    creation.save(update_fields=["job"])
    credit_reserve(user=creation.owner, job=creation.job, plan=plan)
    return creation
