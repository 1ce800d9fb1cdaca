"""Files in the default storage (local folder or S3): which ones rows point to, deleting a row's
files once its transaction commits, and sweeping the files no row points to.

Every app's FileField and ImageField is found through the apps registry, so this module knows
no app of ours and any app may use it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def _file_fields(model) -> list[models.FileField]:
    """``model``'s own file fields that keep their files in the default storage."""
    return [
        f for f in model._meta.concrete_fields
        if isinstance(f, models.FileField) and f.storage is default_storage
    ]


def files_of(instance: models.Model) -> list[str]:
    """The names of the files ``instance``'s fields point to."""
    return [name for f in _file_fields(type(instance)) if (name := getattr(instance, f.attname).name)]


def files_delete_on_commit(names: Iterable[str]) -> None:
    """Delete these files from the default storage once the current transaction commits (at
    once outside one), so a rolled-back deletion keeps them. A file that cannot be deleted now
    is left to the sweeper."""
    names = sorted(set(filter(None, names)))

    def delete():
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:
                logger.exception("Could not delete %s from storage; the sweeper will try again", name)

    if names:
        transaction.on_commit(delete)


def files_referenced() -> set[str]:
    """Every file name some row of some model points to."""
    names: set[str] = set()
    for model in apps.get_models():
        for f in _file_fields(model):
            names.update(model._base_manager.exclude(**{f.attname: ""}).values_list(f.attname, flat=True).iterator())
    names.discard(None)
    return names


def _walk(folder: str = "") -> Iterator[str]:
    directories, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for directory in directories:
        yield from _walk(f"{folder}/{directory}" if folder else directory)


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)
    too_recent: list[str] = field(default_factory=list)
    referenced: int = 0


def storage_sweep(*, grace: timedelta, dry_run: bool = False) -> SweepReport:
    """Remove the files of the default storage that no row points to and that were last
    modified more than ``grace`` ago (a younger one may be an upload or a render whose row is
    not written yet). ``dry_run`` lists them and removes nothing."""
    # References are read before the listing: a file written after this point is young, and
    # the grace period keeps it.
    referenced = files_referenced()
    cutoff = timezone.now() - grace
    report = SweepReport(referenced=len(referenced))
    for name in _walk():
        if name in referenced:
            continue
        if default_storage.get_modified_time(name) > cutoff:
            report.too_recent.append(name)
            continue
        if not dry_run:
            default_storage.delete(name)
        report.removed.append(name)
    return report
