"""Orders for frames, and the payments and refunds Stripe reported against them."""
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.validators import validate_single_line

from ..money import Currency
from .catalog import FrameVariant


def _order_number() -> str:
    # Unguessable enough to say on the phone, not a count of our sales.
    return "PM-" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for payment")
        PAID = "paid", _("Paid")
        IN_PRODUCTION = "in_production", _("In production")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELED = "canceled", _("Canceled")

    number = models.CharField(max_length=16, unique=True, default=_order_number, editable=False)
    # Orders outlive a deleted account, for the accounts, with its personal fields blanked.
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    # Payment, as Stripe reported it (webhooks only).
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(default=False, db_index=True, help_text="Something about the payment needs a person.")
    attention_note = models.TextField(blank=True)

    # Where it goes (collected by Stripe Checkout).
    ship_name = models.CharField("ship to", max_length=200, blank=True)
    ship_line1 = models.CharField("address line 1", max_length=200, blank=True)
    ship_line2 = models.CharField("address line 2", max_length=200, blank=True)
    ship_city = models.CharField("city", max_length=100, blank=True)
    ship_state = models.CharField("state / province", max_length=100, blank=True)
    ship_postal_code = models.CharField("postal code", max_length=20, blank=True)
    ship_country = models.CharField("country", max_length=2, blank=True)

    is_gift = models.BooleanField(default=False)
    gift_recipient_name = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    gift_recipient_email = models.EmailField(blank=True, help_text="Told when it ships; pairs the frame to them (later).")
    gift_message = models.TextField(blank=True, max_length=500)
    preload = models.ManyToManyField("studio.Creation", blank=True, related_name="+", help_text="Videos put on the frame before it ships.")

    # Fulfilment.
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    in_production_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # Money going back to a card is its own power, apart from changing an order.
        permissions = [("refund_order", "Can refund an order through Stripe")]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0, amount_paid__gte=0, amount_refunded__gte=0), name="order_amounts_not_negative"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("shop:order-detail", args=[self.number])

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def refundable(self):
        return self.amount_paid - self.amount_refunded

    @property
    def shipping_address_lines(self) -> list[str]:
        city = " ".join(part for part in (self.ship_postal_code, self.ship_city, self.ship_state) if part)
        return [line for line in (self.ship_name, self.ship_line1, self.ship_line2, city, self.ship_country) if line]


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(FrameVariant, null=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(max_length=200)
    sku = models.CharField(max_length=40)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_item_quantity_positive")]

    def __str__(self):
        return f"{self.quantity} × {self.description}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class Payment(models.Model):
    """A charge or a refund on an order, one row per Stripe object: the books of the shop."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    stripe_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.stripe_id})"
