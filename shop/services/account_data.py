"""What the shop does when a customer deletes their account (``accounts.signals.account_deleting``)."""
from __future__ import annotations

import logging

from django.utils.translation import gettext

from accounts.signals import AccountDeletionRefused

from .. import payments
from ..models import Order, Subscription
from .orders import order_cancel

logger = logging.getLogger(__name__)

# What an order keeps for the accounts once its customer is gone: number, amounts, items,
# payments, dates, status and the country (for taxes); these are blanked.
ORDER_PERSONAL_FIELDS = (
    "email", "ship_name", "ship_line1", "ship_line2", "ship_city", "ship_state", "ship_postal_code",
    "gift_recipient_name", "gift_recipient_email", "gift_message",
)


def account_shop_delete(*, user) -> None:
    """Cancel ``user``'s subscriptions in Stripe and their unpaid orders, then keep their orders
    for the accounts with the personal fields blanked. Raises AccountDeletionRefused when Stripe cannot cancel one,
    so that nobody goes on paying for an account that no longer exists."""
    for subscription in Subscription.objects.filter(user=user).exclude(
        status__in=[Subscription.Status.CANCELED, Subscription.Status.INCOMPLETE_EXPIRED]
    ):
        try:
            payments.subscription_cancel(subscription.stripe_subscription_id)
        except payments.NotFound:
            logger.info("Subscription %s is already gone from Stripe", subscription.stripe_subscription_id)
        except (payments.PaymentError, payments.PaymentsNotConfigured) as error:
            logger.warning("Could not cancel subscription %s: %s", subscription.stripe_subscription_id, error)
            raise AccountDeletionRefused(gettext(
                "We could not reach our payment service to cancel your Premium subscription, so nothing was deleted. "
                "Please try again in a few minutes."
            )) from error
    # An order left at checkout would have nobody to tell or ship to if paid later.
    for order in Order.objects.filter(customer=user, status=Order.Status.PENDING):
        order_cancel(order=order)
    Order.objects.filter(customer=user).update(customer=None, **dict.fromkeys(ORDER_PERSONAL_FIELDS, ""))
