import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction

from .models import User


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
