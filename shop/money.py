"""Money: Decimal amounts with a currency, and the one place they become Stripe's integers.

Stripe takes amounts in a currency's minor unit (cents for USD) except for zero-decimal
currencies such as KRW, where the amount is in won.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils import translation

# Stripe's zero-decimal currencies that we might sell in.
ZERO_DECIMAL = {"KRW", "JPY", "VND"}


class Currency(models.TextChoices):
    KRW = "KRW", "₩ KRW"
    USD = "USD", "$ USD"


# How each language writes an amount; English's is the default. Koreans write won after the
# number, and dollars as US$ so they are not mistaken for another dollar.
MONEY_PATTERNS = {
    "en": {"KRW": "₩{amount}", "USD": "${amount}"},
    "ko": {"KRW": "{amount}원", "USD": "US${amount}"},
}


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def quantize(amount: Decimal, currency: str) -> Decimal:
    return Decimal(amount).quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("19.99"), "USD"`` → 1999; ``Decimal("39000"), "KRW"`` → 39000."""
    value = quantize(amount, currency).scaleb(exponent(currency))
    return int(value)


def from_minor_units(value: int, currency: str) -> Decimal:
    return quantize(Decimal(int(value)).scaleb(-exponent(currency)), currency)


def format_money(amount: Decimal, currency: str) -> str:
    """In the active language: ₩39,000 · $19.99 in English, 39,000원 · US$19.99 in Korean."""
    currency = currency.upper()
    language = (translation.get_language() or "en").split("-")[0]
    pattern = MONEY_PATTERNS.get(language, MONEY_PATTERNS["en"]).get(currency, currency + " {amount}")
    return pattern.format(amount=f"{quantize(amount, currency):,.{exponent(currency)}f}")


def currency_for_language(language: str | None) -> str:
    """The currency a visitor sees first: won for Korean, dollars otherwise."""
    return Currency.KRW if (language or "").lower().startswith("ko") else Currency.USD
