from django import template

from ..money import format_money

register = template.Library()


@register.filter
def money(amount, currency):
    """{{ amount|money:"KRW" }} → ₩39,000"""
    if amount is None or amount == "":
        return ""
    return format_money(amount, str(currency))


@register.filter
def price_in(variant, currency):
    """{{ variant|price_in:shop_currency }} → the variant's price, formatted."""
    return format_money(variant.price(currency), str(currency))


@register.filter
def lowest_price_in(variants, currency):
    prices = [variant.price(currency) for variant in variants]
    return format_money(min(prices), str(currency)) if prices else ""


@register.filter
def line_total_in(item, currency):
    """A cart line's total at today's price."""
    return format_money(item.variant.price(currency) * item.quantity, str(currency))
