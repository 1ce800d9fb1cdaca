"""Stripe's webhook events: the only source of payment truth.

Each event is handled once: its id is stored in the same transaction as its effects, so a
replay (or a second delivery racing the first) finds the row and changes nothing. Handlers
never trust the event's copy of an object; they read it again from Stripe, so events that
arrive out of order still leave the books right.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from . import payments
from .models import StripeEvent
from .services.orders import order_payment_sync, order_refunds_sync
from .services.subscriptions import subscription_sync

logger = logging.getLogger(__name__)


def _checkout_completed(session: dict) -> None:
    if session.get("mode") == "subscription":
        if session.get("subscription"):
            subscription_sync(stripe_subscription_id=session["subscription"])
    else:
        order_payment_sync(checkout_session_id=session["id"])


def _subscription_changed(subscription: dict) -> None:
    subscription_sync(stripe_subscription_id=subscription["id"], snapshot=subscription)


def _invoice_changed(invoice: dict) -> None:
    current = payments.invoice_retrieve(invoice["id"])
    # Stripe's API names an invoice's subscription under parent.subscription_details; older
    # versions put it at the top.
    details = (current.get("parent") or {}).get("subscription_details") or {}
    subscription_id = details.get("subscription") or current.get("subscription")
    if subscription_id:
        subscription_sync(stripe_subscription_id=subscription_id)


def _charge_refunded(charge: dict) -> None:
    payment_intent = payments.charge_retrieve(charge["id"]).get("payment_intent")
    if payment_intent:
        order_refunds_sync(payment_intent_id=payment_intent)


HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": _invoice_changed,
    "invoice.payment_succeeded": _invoice_changed,
    "invoice.payment_failed": _invoice_changed,
    "charge.refunded": _charge_refunded,
}


def webhook_event_handle(*, event: dict) -> bool:
    """Handle a verified event once. Returns False for an event already handled (or being
    handled by a concurrent delivery, which then wins). Raises when handling failed, and then
    nothing was recorded, so Stripe's retry will try again."""
    obj = event["data"].get("object") or {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    event_id=event["id"], type=event["type"], object_id=str(obj.get("id", ""))[:255],
                    created=datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC),
                )
        except IntegrityError:
            return False
        handler = HANDLERS.get(event["type"])
        if handler is not None:
            handler(obj)
    return True
