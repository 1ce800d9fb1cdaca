from allauth.account.models import EmailAddress

from .models import User


def user_by_verified_email(*, email: str) -> User | None:
    """The account that verified this email address with us, if any."""
    address = EmailAddress.objects.filter(email__iexact=email, verified=True).select_related("user").first()
    return address.user if address else None
