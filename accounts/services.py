import json
import logging
import secrets
import shutil
import tempfile
import zipfile
from datetime import timedelta
from importlib import import_module

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from petmemories.mail import mail_send
from petmemories.storage import files_delete_on_commit, files_of

from .models import DataExport, User
from .signals import ExportSection, account_deleting, account_exporting

logger = logging.getLogger(__name__)


@transaction.atomic
def admin_ensure(*, email: str, password: str | None = None) -> tuple[User, str | None]:
    """Make sure a superuser with ``email`` exists and can log in.

    Returns the user and the password when one was set (given or generated), or ``None``
    when an existing account was left as it was.
    """
    user = User.objects.filter(email__iexact=email).first()
    new_password = None
    if user is None:
        new_password = password or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(email=email, password=new_password)
    else:
        if password:
            user.set_password(password)
            new_password = password
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email__iexact=user.email, defaults={"email": user.email, "verified": True, "primary": True}
    )
    return user, new_password


def user_language_remember(*, user: User, language: str | None) -> None:
    """Write to ``user`` in ``language`` from now on (emails render in it); a language the site
    does not offer is ignored."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return
    user.language = language
    User.objects.filter(pk=user.pk).update(language=language)


def _sessions_delete(*, user: User) -> None:
    """Sign ``user`` out everywhere. Sessions in the database are found by their content; other
    session engines cannot be searched, and their sessions die with the user row anyway."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return
    model = store.get_model_class()
    doomed = [
        session.pk for session in model.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    model.objects.filter(pk__in=doomed).delete()


def account_delete(*, user: User) -> None:
    """Delete ``user`` and everything personal we keep: each app above does its part on
    ``account_deleting`` in this same transaction (an active subscription is cancelled in
    Stripe first); files go once it commits, then the customer is told by email. Raises
    AccountDeletionRefused, and then nothing is deleted."""
    email, language = user.email, user.language
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        account_deleting.send(sender=User, user=user)
        files_delete_on_commit(name for export in user.data_exports.all() for name in files_of(export))
        _sessions_delete(user=user)
        user.delete()
        transaction.on_commit(lambda: mail_send(
            template="accounts/email/deleted", context={"email": email, "site_url": settings.SITE_URL}, to=email, language=language,
        ))


def data_export_request(*, user: User) -> DataExport:
    """Have a worker build a copy of ``user``'s data (sent after commit). While one is being
    prepared, asking again returns it; a new one replaces a finished one."""
    from .tasks import build_data_export

    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # two clicks make one export
        preparing = user.data_exports.filter(state=DataExport.State.PREPARING).first()
        if preparing:
            return preparing
        _data_exports_delete(user.data_exports.all())
        export = DataExport.objects.create(user=user)
        transaction.on_commit(lambda: build_data_export.delay(str(export.pk)))
    return export


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


def _data_exports_delete(exports) -> int:
    files_delete_on_commit(name for export in exports for name in files_of(export))
    return exports.delete()[0]


def data_exports_expire() -> int:
    """Delete the exports past their expiry, and their files; also those that never became
    ready within DATA_EXPORT_DAYS (the customer may ask again)."""
    now = timezone.now()
    stale = Q(expires_at__lte=now) | (~Q(state=DataExport.State.READY) & Q(requested_at__lte=now - timedelta(days=settings.DATA_EXPORT_DAYS)))
    with transaction.atomic():
        return _data_exports_delete(DataExport.objects.filter(stale))
