from .billing import BillingCustomer, Plan, PlanPrice, Subscription
from .cart import Cart, CartItem
from .catalog import Frame, FrameImage, FrameVariant
from .credits import BONUS_BUCKET, CreditEntry, CreditReservation
from .orders import Order, OrderItem, Payment
from .webhooks import StripeEvent

__all__ = [
    "BONUS_BUCKET", "BillingCustomer", "Cart", "CartItem", "CreditEntry", "CreditReservation", "Frame", "FrameImage",
    "FrameVariant", "Order", "OrderItem", "Payment", "Plan", "PlanPrice", "StripeEvent", "Subscription",
]
