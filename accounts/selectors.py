from allauth.account.models import EmailAddress
from django.http import Http404
from django.utils import timezone

from .models import DataExport, User


def user_by_verified_email(*, email: str) -> User | None:
    """The account that verified this email address with us, if any."""
    address = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
    return address.user if address else None


def email_is_verified_by(*, user, email: str) -> bool:
    """Whether ``user`` has verified ``email`` with us: what accepting an emailed invitation
    asks, so that only the person who reads that mailbox can."""
    return EmailAddress.objects.filter(user_id=user.pk, email__iexact=email, verified=True).exists()


def data_export_latest(*, user) -> DataExport | None:
    """The export to show on the customer's data page: the latest, unless it has expired."""
    export = user.data_exports.first()
    if export and export.expires_at and export.expires_at <= timezone.now():
        return None
    return export


def data_export_get_downloadable(*, user, export_id) -> DataExport:
    """A ready, unexpired export of ``user``'s; 404 for anything else, whoever asks."""
    try:
        return DataExport.objects.get(
            pk=export_id, user_id=user.pk, state=DataExport.State.READY, expires_at__gt=timezone.now()
        )
    except DataExport.DoesNotExist:
        raise Http404("No such export.") from None
