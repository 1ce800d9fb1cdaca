"""Premium: Checkout in subscription mode, the Billing Portal, and our copy of each
subscription, always rewritten from what Stripe says now (so events may arrive in any order)."""
from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import payments
from ..models import BillingCustomer, PlanPrice, Subscription
from ..selectors import subscription_current

logger = logging.getLogger(__name__)


class SubscriptionProblem(Exception):
    """``str()`` tells the customer why; nothing was changed."""


def billing_customer_for(*, user) -> BillingCustomer:
    """The Stripe customer for ``user``, created in Stripe the first time."""
    existing = BillingCustomer.objects.filter(user=user).first()
    if existing:
        return existing
    customer = payments.customer_create(email=user.email, metadata={"user_id": str(user.pk)}, idempotency_key=f"customer-{user.pk}")
    try:
        with transaction.atomic():
            return BillingCustomer.objects.create(user=user, stripe_customer_id=customer["id"])
    except IntegrityError:  # a second request got there first; the idempotency key gave it the same customer
        return BillingCustomer.objects.get(user=user)


def subscription_checkout_start(*, user, price: PlanPrice, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout page for ``price``; returns its URL."""
    current = subscription_current(user=user)
    if current is not None:
        raise SubscriptionProblem(
            gettext("You are already on %(plan)s; change or cancel it from “Manage subscription”.") % {"plan": gettext(current.plan.name)}
        )
    if not price.is_active or not price.stripe_price_id:
        raise SubscriptionProblem(gettext("This plan cannot be bought right now."))
    customer = billing_customer_for(user=user)
    session = payments.checkout_session_create(
        {
            "mode": "subscription",
            "customer": customer.stripe_customer_id,
            "line_items": [{"price": price.stripe_price_id, "quantity": 1}],
            "client_reference_id": str(user.pk),
            "metadata": {"user_id": str(user.pk)},
            "subscription_data": {"metadata": {"user_id": str(user.pk)}},
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        idempotency_key=f"subscription-checkout-{user.pk}-{uuid.uuid4()}",
    )
    return session["url"]


def billing_portal_url(*, user, return_url: str) -> str:
    customer = BillingCustomer.objects.filter(user=user).first()
    if customer is None:
        raise SubscriptionProblem(gettext("There is no subscription to manage yet."))
    return payments.portal_session_create(customer=customer.stripe_customer_id, return_url=return_url)["url"]


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _price_id(data: dict) -> str | None:
    items = (data.get("items") or {}).get("data") or []
    if items:
        item = items[0]
        return (item.get("price") or {}).get("id") or (item.get("plan") or {}).get("id")
    return (data.get("plan") or {}).get("id")


def subscription_sync(*, stripe_subscription_id: str, snapshot: dict | None = None) -> Subscription | None:
    """Rewrite our copy of a subscription from Stripe's current state. ``snapshot`` (an
    event's copy) is used only when Stripe no longer has the subscription."""
    try:
        data = payments.subscription_retrieve(stripe_subscription_id)
    except payments.NotFound:
        if snapshot is None:
            raise
        data = {**snapshot, "status": Subscription.Status.CANCELED}
    customer_id = data.get("customer")
    billing = BillingCustomer.objects.select_related("user").filter(stripe_customer_id=customer_id).first()
    if billing is None:
        logger.warning("Subscription %s belongs to customer %s, who is none of ours", stripe_subscription_id, customer_id)
        return None
    price = PlanPrice.objects.select_related("plan").filter(stripe_price_id=_price_id(data)).first()
    if price is None:
        logger.error("Subscription %s is for price %s, which no plan has; run stripe_setup?", stripe_subscription_id, _price_id(data))
        return None
    items = (data.get("items") or {}).get("data") or [{}]
    period_end = data.get("current_period_end") or items[0].get("current_period_end")
    status = data["status"]
    with transaction.atomic():
        existing = Subscription.objects.select_for_update().filter(stripe_subscription_id=stripe_subscription_id).first()
        was_past_due = existing is not None and existing.status == Subscription.Status.PAST_DUE
        past_due_since = None
        if status == Subscription.Status.PAST_DUE:
            past_due_since = existing.past_due_since if was_past_due and existing.past_due_since else timezone.now()
        subscription, _ = Subscription.objects.update_or_create(
            stripe_subscription_id=stripe_subscription_id,
            defaults={
                "user": billing.user, "stripe_customer_id": customer_id, "plan": price.plan, "price": price, "status": status,
                "current_period_end": _timestamp(period_end), "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
                "canceled_at": _timestamp(data.get("canceled_at") or data.get("ended_at")), "past_due_since": past_due_since,
            },
        )
    return subscription
