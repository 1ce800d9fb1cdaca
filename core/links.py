"""Private links: an unguessable token, an optional PIN kept hashed with the password hashers,
and the visitor's session remembering which links it has unlocked.

A memorial's share link and a partner's delivery link both work this way; each keeps its own
token, expiry and PIN hash on its own row and passes them here.
"""
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext


def link_token_new() -> str:
    return secrets.token_urlsafe(24)


def link_pin_hash(pin: str) -> str:
    """The hash to keep for a new PIN (4–8 digits), or "" for none."""
    if pin and not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValidationError(gettext("A PIN is 4 to 8 digits."), code="pin")
    return make_password(pin) if pin else ""


def _unlock_mark(*, scope: str, key: str, token: str, pin_hash: str) -> str:
    # Changes with the PIN and with the link, so a new PIN or address locks it again.
    return salted_hmac(scope, f"{key}:{token}:{pin_hash}").hexdigest()


def link_is_unlocked(*, session, scope: str, key: str, token: str, pin_hash: str) -> bool:
    """Whether this visitor may see the link's page: it has no PIN, or they gave it (for this
    token and this PIN) earlier in their session."""
    return not pin_hash or session.get(scope, {}).get(key) == _unlock_mark(scope=scope, key=key, token=token, pin_hash=pin_hash)


def link_unlock(*, session, scope: str, key: str, token: str, pin_hash: str, pin: str) -> bool:
    """Check the PIN; if right, remember in the visitor's session that this link (only) is open."""
    if not pin_hash or not check_password(pin, pin_hash):
        return False
    unlocked = dict(session.get(scope, {}))
    unlocked[key] = _unlock_mark(scope=scope, key=key, token=token, pin_hash=pin_hash)
    session[scope] = unlocked
    return True
