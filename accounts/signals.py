"""What the apps above accounts listen to, so that accounts never imports them.

Each app connects its receivers in its ``AppConfig.ready()``.
"""
from dataclasses import dataclass, field

from django.dispatch import Signal

# An account is being deleted. Argument: user. Sent inside the deletion's transaction, before
# the user row goes: each receiver deletes or anonymises what its app keeps about them, and
# raises AccountDeletionRefused to stop the whole deletion (the transaction rolls back).
account_deleting = Signal()

# A customer's data is being exported. Argument: user. Each receiver returns a list of
# ExportSection.
account_exporting = Signal()


class AccountDeletionRefused(Exception):
    """``str()`` tells the customer why; nothing was deleted."""


@dataclass
class ExportSection:
    """One part of a data export: ``data`` (JSON-serialisable with Django's encoder) goes under
    ``name`` in data.json; ``files`` maps a path in the ZIP to a file in the default storage."""

    name: str
    data: list | dict
    files: dict[str, str] = field(default_factory=dict)
