"""What a worker does with a customer's data export: build the ZIP (data.json and the files
every app names through ``account_exporting``) and delete what has expired. The web side asks
for an export in services.py; the Celery tasks in tasks.py call these."""
import json
import logging
import shutil
import tempfile
import zipfile
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.mail import mail_send
from core.storage import files_delete_on_commit, files_of

from .models import DataExport, User
from .signals import ExportSection, account_exporting

logger = logging.getLogger(__name__)


def _account_section(user: User) -> ExportSection:
    return ExportSection(name="account", data={
        "email": user.email, "first_name": user.first_name, "last_name": user.last_name, "language": user.language,
        "date_joined": user.date_joined, "last_login": user.last_login,
        "email_addresses": list(EmailAddress.objects.filter(user=user).values("email", "verified", "primary")),
    })


def data_export_build(*, export_id) -> DataExport | None:
    """Build the ZIP of an export being prepared: data.json (the account and every app's
    section) and the files they name, then store it, offer it until DATA_EXPORT_DAYS from now
    and email the customer. Safe to run twice; does nothing for an export that is not being
    prepared any more (built, or its account deleted)."""
    export = DataExport.objects.select_related("user").filter(pk=export_id, state=DataExport.State.PREPARING).first()
    if export is None:
        return None
    user = export.user
    sections = [_account_section(user)]
    for _receiver, contributed in account_exporting.send(sender=User, user=user):
        sections.extend(contributed)
    try:
        with tempfile.TemporaryFile() as archive_file:
            with zipfile.ZipFile(archive_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                data = {"exported_at": timezone.now(), **{section.name: section.data for section in sections}}
                archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
                for section in sections:
                    for path, name in section.files.items():
                        # Photos and videos are compressed already.
                        with default_storage.open(name, "rb") as source, archive.open(path, "w") as target:
                            shutil.copyfileobj(source, target, 1024 * 1024)
            archive_file.seek(0)
            with transaction.atomic():
                export = DataExport.objects.select_for_update().filter(pk=export.pk, state=DataExport.State.PREPARING).first()
                if export is None:
                    return None
                now = timezone.now()
                export.file.save("export.zip", File(archive_file), save=False)
                export.state, export.ready_at = DataExport.State.READY, now
                export.expires_at = now + timedelta(days=settings.DATA_EXPORT_DAYS)
                export.save()
    except Exception:
        logger.exception("Data export %s failed", export_id)
        DataExport.objects.filter(pk=export_id, state=DataExport.State.PREPARING).update(state=DataExport.State.FAILED)
        raise
    transaction.on_commit(lambda: mail_send(
        template="accounts/email/export_ready", context={"export": export, "site_url": settings.SITE_URL},
        to=user.email, language=user.language,
    ))
    return export


def data_exports_delete(exports) -> int:
    """Delete ``exports`` and, once committed, their files."""
    files_delete_on_commit(name for export in exports for name in files_of(export))
    return exports.delete()[0]


def data_exports_expire() -> int:
    """Delete the exports past their expiry, and their files; also those that never became
    ready within DATA_EXPORT_DAYS (the customer may ask again)."""
    now = timezone.now()
    stale = Q(expires_at__lte=now) | (~Q(state=DataExport.State.READY) & Q(requested_at__lte=now - timedelta(days=settings.DATA_EXPORT_DAYS)))
    with transaction.atomic():
        return data_exports_delete(DataExport.objects.filter(stale))
