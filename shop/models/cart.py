"""Carts: a visitor's (by session) or a customer's (by account), merged at log-in."""
from django.conf import settings
from django.db import models

from ..money import Currency
from .catalog import FrameVariant


class Cart(models.Model):
    owner = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart")
    session_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False) | models.Q(session_key__isnull=False), name="cart_has_owner_or_session"
            ),
        ]

    def __str__(self):
        return f"Cart of {self.owner or 'a visitor'}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(FrameVariant, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, help_text="The price when it was put in the cart.")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_item_once_per_variant"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_item_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.variant}"
