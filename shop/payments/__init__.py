"""Stripe, behind a small module of ours.

Everything the shop asks of Stripe goes through these functions, configured by settings
alone (``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``, ``STRIPE_API_BASE``), so tests point
them at an emulator and production at Stripe. Answers are plain dicts in Stripe's shapes;
failures are ``PaymentError`` (say sorry to the customer) or ``PaymentsNotConfigured``.
"""
from __future__ import annotations

import json
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext

# stripe-python takes a quarter of a second to import: it is imported when first used, not by
# every process that loads the admin (a worker, `manage.py animate`).


class PaymentsNotConfigured(Exception):
    """No Stripe keys: the shop shows its catalog but cannot take money."""


class PaymentError(Exception):
    """Stripe refused or could not be reached. ``str()`` is fit to show a customer."""


class NotFound(PaymentError):
    """Stripe has no such object (any more)."""


class SignatureError(Exception):
    """A webhook whose signature does not check out (missing, forged, or too old)."""


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str):
    import stripe

    return stripe.StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=2)


def client():
    if not is_configured():
        raise PaymentsNotConfigured("Payments are not set up on this site yet (STRIPE_SECRET_KEY is empty).")
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _call(method, *args, **kwargs) -> dict:
    import stripe

    try:
        return method(*args, **kwargs).to_dict()
    except stripe.StripeError as error:
        if getattr(error, "http_status", None) == 404 or getattr(error, "code", None) == "resource_missing":
            raise NotFound(str(error)) from error
        message = getattr(error, "user_message", None) or gettext("The payment service could not complete this; nothing was charged. Please try again.")
        raise PaymentError(message) from error


def checkout_session_create(params: dict, *, idempotency_key: str) -> dict:
    return _call(client().v1.checkout.sessions.create, params, {"idempotency_key": idempotency_key})


def checkout_session_retrieve(session_id: str) -> dict:
    return _call(client().v1.checkout.sessions.retrieve, session_id)


def checkout_session_expire(session_id: str) -> dict:
    """Close an open Checkout Session so that it can no longer be paid. Stripe refuses (a
    PaymentError) when the session is no longer open: already paid, or already expired."""
    return _call(client().v1.checkout.sessions.expire, session_id)


def portal_session_create(*, customer: str, return_url: str) -> dict:
    return _call(client().v1.billing_portal.sessions.create, {"customer": customer, "return_url": return_url})


def customer_create(*, metadata: dict, idempotency_key: str, email: str = "", name: str = "") -> dict:
    params = {"metadata": metadata, **({"email": email} if email else {}), **({"name": name} if name else {})}
    return _call(client().v1.customers.create, params, {"idempotency_key": idempotency_key})


def subscription_retrieve(subscription_id: str) -> dict:
    return _call(client().v1.subscriptions.retrieve, subscription_id)


def subscription_cancel(subscription_id: str) -> dict:
    """End a subscription now (no more invoices)."""
    return _call(client().v1.subscriptions.cancel, subscription_id)


def invoice_retrieve(invoice_id: str) -> dict:
    return _call(client().v1.invoices.retrieve, invoice_id)


def invoice_items_pending(*, customer: str) -> list[dict]:
    """The customer's invoice items that no invoice has taken yet."""
    return [item for item in _call(client().v1.invoice_items.list, {"customer": customer, "limit": 100})["data"] if not item.get("invoice")]


def invoice_item_create(*, customer: str, amount: int, currency: str, description: str, metadata: dict, idempotency_key: str) -> dict:
    """An amount (minor units) for the customer's next invoice."""
    params = {"customer": customer, "amount": amount, "currency": currency.lower(), "description": description, "metadata": metadata}
    return _call(client().v1.invoice_items.create, params, {"idempotency_key": idempotency_key})


def invoice_create(*, customer: str, metadata: dict, idempotency_key: str) -> dict:
    """A draft invoice of the customer's pending invoice items."""
    params = {"customer": customer, "metadata": metadata, "pending_invoice_items_behavior": "include"}
    return _call(client().v1.invoices.create, params, {"idempotency_key": idempotency_key})


def invoice_finalize(invoice_id: str) -> dict:
    """A draft invoice becomes open: its lines can no longer change, and Stripe collects it."""
    return _call(client().v1.invoices.finalize_invoice, invoice_id)


def charge_retrieve(charge_id: str) -> dict:
    return _call(client().v1.charges.retrieve, charge_id)


def payment_intent_retrieve(payment_intent_id: str) -> dict:
    return _call(client().v1.payment_intents.retrieve, payment_intent_id)


def refunds_list(*, payment_intent: str) -> list[dict]:
    return _call(client().v1.refunds.list, {"payment_intent": payment_intent, "limit": 100})["data"]


def refund_create(*, payment_intent: str, amount: int, idempotency_key: str, metadata: dict) -> dict:
    params = {"payment_intent": payment_intent, "amount": amount, "metadata": metadata}
    return _call(client().v1.refunds.create, params, {"idempotency_key": idempotency_key})


def product_create(*, name: str, idempotency_key: str) -> dict:
    return _call(client().v1.products.create, {"name": name}, {"idempotency_key": idempotency_key})


def plan_create(*, product: str, amount: int, currency: str, interval: str, nickname: str, idempotency_key: str) -> dict:
    """A recurring price. Plans are Stripe's older name for recurring prices, and a plan id works
    wherever Checkout takes a price id."""
    params = {"product": product, "amount": amount, "currency": currency.lower(), "interval": interval, "nickname": nickname}
    return _call(client().v1.plans.create, params, {"idempotency_key": idempotency_key})


def event_verify(payload: bytes, signature_header: str | None) -> dict:
    """The event in a webhook delivery, once its Stripe-Signature checks out against
    ``STRIPE_WEBHOOK_SECRET`` within ``STRIPE_WEBHOOK_TOLERANCE`` seconds."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise PaymentsNotConfigured("STRIPE_WEBHOOK_SECRET is empty.")
    import stripe

    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature_header or "", settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_TOLERANCE
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise SignatureError(str(error)) from error
    if not isinstance(event, dict) or not {"id", "type", "data"} <= event.keys():
        raise SignatureError("Not a Stripe event.")
    return event
