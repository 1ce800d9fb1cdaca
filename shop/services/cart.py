"""Carts: add, change, remove, review against today's catalog, merge at log-in."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext

from ..models import Cart, CartItem, FrameVariant
from ..money import format_money


class CartError(Exception):
    """``str()`` tells the customer what is wrong; nothing was changed."""


@dataclass
class CartReview:
    """The cart as it stands against the catalog now: what can be bought, and what cannot."""

    items: list[CartItem]
    problems: list[str] = field(default_factory=list)  # stop checkout
    notices: list[str] = field(default_factory=list)  # worth telling, e.g. a price that changed
    currency: str = "USD"

    @property
    def subtotal(self) -> Decimal:
        return sum((item.variant.price(self.currency) * item.quantity for item in self.items), Decimal(0))

    @property
    def count(self) -> int:
        return sum(item.quantity for item in self.items)


def cart_for(*, user=None, session_key: str | None = None, currency: str, create: bool = False) -> Cart | None:
    """The customer's cart, or the visitor's by session; created on demand."""
    lookup = {"owner": user} if user is not None and user.is_authenticated else {"session_key": session_key}
    if not any(lookup.values()):
        return None
    cart = Cart.objects.filter(**lookup).first()
    if cart is None and create:
        cart, _ = Cart.objects.get_or_create(**lookup, defaults={"currency": currency})
    return cart


def _check_quantity(variant: FrameVariant, quantity: int) -> None:
    if quantity < 1:
        raise CartError(gettext("The quantity must be at least one."))
    if not (variant.is_active and variant.frame.is_active):
        raise CartError(gettext("%(frame)s is no longer sold.") % {"frame": variant})
    if quantity > variant.stock:
        if not variant.stock:
            raise CartError(gettext("%(frame)s is out of stock.") % {"frame": variant})
        raise CartError(gettext("Only %(stock)d of %(frame)s left.") % {"stock": variant.stock, "frame": variant})


@transaction.atomic
def cart_add(*, cart: Cart, variant_id: int, quantity: int = 1) -> CartItem:
    variant = FrameVariant.objects.select_related("frame").filter(pk=variant_id).first()
    if variant is None:
        raise CartError(gettext("That frame is no longer sold."))
    item = CartItem.objects.select_for_update().filter(cart=cart, variant=variant).first()
    total = quantity + (item.quantity if item else 0)
    _check_quantity(variant, total)
    if item is None:
        return CartItem.objects.create(cart=cart, variant=variant, quantity=quantity, unit_price=variant.price(cart.currency), currency=cart.currency)
    item.quantity = total
    item.save(update_fields=["quantity"])
    return item


@transaction.atomic
def cart_set_quantity(*, cart: Cart, item_id: int, quantity: int) -> CartItem | None:
    """Change a line's quantity; zero removes it."""
    item = CartItem.objects.select_related("variant__frame").select_for_update().filter(cart=cart, pk=item_id).first()
    if item is None:
        raise CartError(gettext("That line is no longer in your cart."))
    if quantity == 0:
        item.delete()
        return None
    _check_quantity(item.variant, quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_set_currency(*, cart: Cart, currency: str) -> None:
    """Show the cart in another currency: prices are taken afresh, with no 'price changed' notice."""
    with transaction.atomic():
        cart.currency = currency
        cart.save(update_fields=["currency", "updated_at"])
        for item in cart.items.select_related("variant"):
            item.unit_price, item.currency = item.variant.price(currency), currency
            item.save(update_fields=["unit_price", "currency"])


def cart_review(*, cart: Cart, accept_prices: bool = False) -> CartReview:
    """Check every line against the catalog: gone, out of stock, too many, or a new price.
    With ``accept_prices`` the new prices are recorded, so the notice is shown once."""
    items = list(cart.items.select_related("variant__frame"))
    review = CartReview(items=items, currency=cart.currency)
    for item in items:
        variant = item.variant
        try:
            _check_quantity(variant, item.quantity)
        except CartError as error:
            review.problems.append(str(error))
        price = variant.price(cart.currency)
        if item.currency == cart.currency and item.unit_price != price:
            review.notices.append(
                gettext("The price of %(frame)s changed from %(old)s to %(new)s since you added it.")
                % {"frame": variant, "old": format_money(item.unit_price, cart.currency), "new": format_money(price, cart.currency)}
            )
            if accept_prices:
                item.unit_price = price
                item.save(update_fields=["unit_price"])
    return review


@transaction.atomic
def cart_merge(*, session_key: str, user) -> Cart | None:
    """At log-in, move the visitor's cart into the customer's: quantities add up, within stock."""
    visitor = Cart.objects.filter(session_key=session_key, owner__isnull=True).first()
    if visitor is None:
        return None
    mine = Cart.objects.filter(owner=user).first()
    if mine is None:
        visitor.owner, visitor.session_key = user, None
        visitor.save(update_fields=["owner", "session_key", "updated_at"])
        return visitor
    for item in visitor.items.select_related("variant"):
        existing = mine.items.filter(variant=item.variant).first()
        quantity = min(item.quantity + (existing.quantity if existing else 0), max(item.variant.stock, 1))
        if existing:
            existing.quantity = quantity
            existing.save(update_fields=["quantity"])
        else:
            CartItem.objects.create(cart=mine, variant=item.variant, quantity=quantity, unit_price=item.unit_price, currency=item.currency)
    visitor.delete()
    return mine


def cart_remove_bought(*, user, variant_ids: list[int]) -> None:
    CartItem.objects.filter(cart__owner=user, variant_id__in=variant_ids).delete()
