import logging
import secrets
from importlib import import_module

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.utils import timezone

from core.mail import mail_send
from core.storage import files_delete_on_commit, files_of

from .exports import data_exports_delete
from .models import DataExport, User
from .signals import account_deleting

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
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)  # two clicks make one export
        preparing = user.data_exports.filter(state=DataExport.State.PREPARING).first()
        if preparing:
            return preparing
        data_exports_delete(user.data_exports.all())
        export = DataExport.objects.create(user=user)
        transaction.on_commit(lambda: _export_build_later(export))
    return export


def _export_build_later(export: DataExport) -> None:
    # The task module brings Celery, which every process would otherwise load with this app
    # (a command such as `manage.py animate` needs none of it), as generation.messaging does.
    from .tasks import build_data_export

    build_data_export.delay(str(export.pk))
