"""Validators shared by the apps' models and forms."""
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Control characters (newlines, tabs, NUL, escapes…) and the Unicode line and paragraph
# separators. Format characters (Cf) stay allowed: the zero-width joiner is part of emoji.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def validate_single_line(value: str) -> None:
    """A name or title people type goes into email subjects and headers, and onto frames'
    screens: one line of text, nothing invisible that breaks it."""
    if any(unicodedata.category(character) in _REFUSED_CATEGORIES for character in value):
        raise ValidationError(
            _("Write it on one line, without line breaks, tabs or other control characters."), code="control_characters"
        )
