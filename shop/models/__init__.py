from .billing import BillingCustomer, Plan, PlanPrice, Subscription
from .campaigns import Attribution, Campaign, LaunchMode, PremiumTrial, PromoCode, Redemption, promo_code_normalize
from .cart import Cart, CartItem
from .catalog import Frame, FrameImage, FrameVariant
from .credits import BONUS_BUCKET, CreditEntry, CreditReservation
from .orders import Order, OrderItem, Payment
from .webhooks import StripeEvent

__all__ = [
    "BONUS_BUCKET", "Attribution", "BillingCustomer", "Campaign", "Cart", "CartItem", "CreditEntry", "CreditReservation", "Frame",
    "FrameImage", "FrameVariant", "LaunchMode", "Order", "OrderItem", "Payment", "Plan", "PlanPrice", "PremiumTrial", "PromoCode",
    "Redemption", "StripeEvent", "Subscription", "promo_code_normalize",
]
