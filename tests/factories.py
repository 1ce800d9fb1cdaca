"""The rows most tests need, made in one line each, with the defaults a test does not care about.

A factory writes rows directly, as a test's given state: it checks nothing and sends nothing.
What a customer does (upload, pay, pair a frame) goes through the product's own services
instead (conftest's ``make_creation``, ``buy``, the frames' API), so those paths are tested.
"""
from __future__ import annotations

import io
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from generation.models import Job, JobInput, JobOutput
from shop.models import Order

PASSWORD = "a-long-pass-phrase"


def user_make(email: str = "someone@example.com", **fields):
    return get_user_model().objects.create_user(email=email, password=PASSWORD, **fields)


def staff_make(email: str = "staff@example.com", *, permissions: Iterable[str] = (), groups: Iterable[str] = (), superuser: bool = False):
    """A staff member holding exactly ``permissions`` ("app.codename") and the permissions of
    ``groups`` (made by migrations), or a superuser."""
    person = user_make(email, is_staff=True, is_superuser=superuser)
    for permission in permissions:
        app, codename = permission.split(".")
        person.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    for name in groups:
        person.groups.add(Group.objects.get(name=name))
    return person


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def order_make(customer, *, total: int = 89000, **fields) -> Order:
    """An order of one frame's price in won, pending unless ``status`` says otherwise."""
    fields = {"email": customer.email if customer else "guest@example.com", "currency": "KRW", "subtotal": total, **fields}
    return Order.objects.create(customer=customer, total=total, **fields)


def job_make(*, owner=None, engine: str = "living-photo", photos: Iterable[str] = ("photo.jpg",), **fields) -> Job:
    """A queued job row over ``photos`` (names in storage, which need not exist), never sent."""
    job = Job.objects.create(owner=owner, engine=engine, **fields)
    JobInput.objects.bulk_create(JobInput(job=job, position=position, file=name) for position, name in enumerate(photos))
    return job


def output_row(kind: str = JobOutput.Kind.VIDEO, name: str = "renders/x.mp4", **fields) -> JobOutput:
    """An unsaved output row, as a worker hands one to ``job_transition`` (the file need not exist)."""
    fields = {"bytes": 1, "sha256": "0" * 64, "width": 2, "height": 2, **fields}
    return JobOutput(kind=kind, file=name, **fields)


def finished_job_make(*, owner, engine: str = "memorial-portrait", kinds: Iterable[str] = (JobOutput.Kind.IMAGE,) * 3) -> Job:
    """A succeeded job of ``owner``'s with one output of each of ``kinds`` in order, their files
    in storage (a small JPEG for an image or poster, a few bytes named .mp4 for a video): what a
    memorial-portrait job leaves, by default, its candidates."""
    job = job_make(owner=owner, engine=engine, state=Job.State.SUCCEEDED)
    for position, kind in enumerate(kinds):
        if kind == JobOutput.Kind.VIDEO:
            name, content = f"renders/{job.pk}/video-{position}.mp4", b"\x00\x00\x00\x18ftypmp42"
        else:
            buffer = io.BytesIO()
            Image.new("RGB", (320, 400), (120 + 40 * position % 120, 110, 100)).save(buffer, "JPEG")
            name, content = f"renders/{job.pk}/{kind}-{position}.jpg", buffer.getvalue()
        stored = default_storage.save(name, ContentFile(content))
        output_row(kind, name=stored, job=job, position=position, width=320, height=400).save()
    return job
