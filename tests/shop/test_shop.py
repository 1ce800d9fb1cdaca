"""The catalog, the cart and money: prices in won and dollars, stock, and carts that follow people."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from shop.models import Cart, CartItem, Frame, FrameVariant
from shop.money import format_money, from_minor_units, to_minor_units

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    call_command("load_demo")


def add(client, sku, quantity=1):
    return client.post(reverse("shop:cart-add"), {"variant": FrameVariant.objects.get(sku=sku).pk, "quantity": quantity})


def cart_page(client) -> str:
    return client.get(reverse("shop:cart")).content.decode()


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    (Decimal("89000"), "KRW", 89000), (Decimal("69.00"), "USD", 6900), (Decimal("19.99"), "USD", 1999),
])
def test_money_reaches_stripe_in_minor_units_and_krw_has_none(amount, currency, minor):
    assert to_minor_units(amount, currency) == minor
    assert from_minor_units(minor, currency) == amount


def test_fractions_of_the_smallest_unit_round_half_up():
    assert to_minor_units(Decimal("0.005"), "USD") == 1 and to_minor_units(Decimal("999.5"), "KRW") == 1000


def test_money_is_written_the_way_each_currency_is():
    assert format_money(Decimal("149000"), "KRW") == "₩149,000"
    assert format_money(Decimal("119"), "USD") == "$119.00"


def test_the_catalog_shows_prices_in_the_visitor_s_language_currency(client, catalog):
    FrameVariant.objects.filter(sku="GALLERY-15-BLACK").update(is_active=False)
    korean = client.get(reverse("shop:catalog"), HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9").content.decode()
    assert "PetMemories Mini" in korean and "89,000원" in korean and "$69.00" not in korean
    assert "PetMemories Gallery" not in korean  # its only variant is off sale
    english = client.get(reverse("shop:catalog"), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "$69.00" in english and "₩89,000" not in english


def test_the_catalog_kept_in_the_cache_changes_as_soon_as_a_frame_or_variant_is_saved(client, catalog):
    assert "PetMemories Gallery" in client.get(reverse("shop:catalog")).content.decode()  # now kept in the cache
    variant = FrameVariant.objects.get(sku="GALLERY-15-BLACK")
    variant.is_active = False
    variant.save()  # as the admin saves it
    assert "PetMemories Gallery" not in client.get(reverse("shop:catalog")).content.decode()
    frame = FrameVariant.objects.get(sku="CLASSIC-10-WALNUT").frame
    frame.name = "PetMemories Classic II"
    frame.save()
    assert "PetMemories Classic II" in client.get(reverse("shop:catalog")).content.decode()


def test_the_currency_switch_sticks_and_reprices_the_cart(client, catalog):
    add(client, "CLASSIC-10-WALNUT")
    assert "$119.00" in cart_page(client)
    client.post(reverse("shop:currency"), {"currency": "KRW", "next": reverse("shop:cart")})
    page = cart_page(client)
    assert "₩149,000" in page and "$119.00" not in page and "changed" not in page
    assert client.post(reverse("shop:currency"), {"currency": "EUR"}).status_code == 400


@pytest.mark.parametrize(("back", "lands_on"), [
    ("https://evil.example/", "/shop/"),
    ("//evil.example", "/shop/"),
    ("/shop/frames/classic/", "/shop/frames/classic/"),
])
def test_the_cart_sends_people_back_only_to_a_page_of_this_site(client, catalog, back, lands_on):
    response = client.post(reverse("shop:cart-add"), {"back": back})  # no screen chosen: back to the frame page
    assert response.status_code == 302 and response["Location"] == lands_on


def test_the_currency_switch_goes_back_only_to_a_page_of_this_site(client, catalog):
    response = client.post(reverse("shop:currency"), {"currency": "KRW", "next": "//evil.example/shop/"})
    assert response["Location"] == reverse("shop:catalog")


def test_a_frame_page_offers_each_screen_and_finish(client, catalog):
    page = client.get(reverse("shop:frame-detail", args=["classic"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10.1″ 1920×1200 · Walnut" in page and "10.1″ 1920×1200 · Charcoal" in page and "13.3″" in page and "$159.00" in page


def test_an_inactive_frame_is_404(client, catalog):
    Frame.objects.filter(slug="mini").update(is_active=False)
    assert client.get(reverse("shop:frame-detail", args=["mini"])).status_code == 404


def test_the_cart_refuses_more_than_the_stock_and_less_than_one(client, catalog):
    FrameVariant.objects.filter(sku="GALLERY-15-BLACK").update(stock=2)
    add(client, "GALLERY-15-BLACK", 2)
    add(client, "GALLERY-15-BLACK", 1)
    assert "Only 2 of PetMemories Gallery 15.6″ Black left." in cart_page(client)
    assert CartItem.objects.get().quantity == 2
    add(client, "MINI-8-SNOW", 0)
    assert "The quantity must be a whole number from 1 to 99." in cart_page(client)
    item = CartItem.objects.get()
    client.post(reverse("shop:cart-update", args=[item.pk]), {"quantity": 5})
    assert "Only 2 of PetMemories Gallery 15.6″ Black left." in cart_page(client)
    assert CartItem.objects.get().quantity == 2
    client.post(reverse("shop:cart-update", args=[item.pk]), {"quantity": 0})
    assert not CartItem.objects.exists()


def test_the_cart_tells_of_a_variant_that_is_gone_and_a_price_that_changed(client, catalog):
    add(client, "MINI-8-SNOW")
    add(client, "PORTRAIT-10-OAK")
    FrameVariant.objects.filter(sku="MINI-8-SNOW").update(price_usd="59.00")
    FrameVariant.objects.filter(sku="PORTRAIT-10-OAK").update(is_active=False)
    page = cart_page(client)
    assert "changed from $69.00 to $59.00" in page
    assert "PetMemories Portrait 10.1″ Oak is no longer sold." in page
    assert "Check out" not in page


def test_a_visitor_s_cart_joins_theirs_when_they_log_in(client, catalog, user):
    client.force_login(user)
    add(client, "MINI-8-SNOW")
    client.logout()
    add(client, "MINI-8-SNOW", 2)
    add(client, "PORTRAIT-10-OAK")
    assert Cart.objects.count() == 2
    client.post(reverse("account_login"), {"login": user.email, "password": "a-long-pass-phrase"})
    cart = Cart.objects.get()
    assert cart.owner == user
    assert {item.variant.sku: item.quantity for item in cart.items.all()} == {"MINI-8-SNOW": 3, "PORTRAIT-10-OAK": 1}


def test_checkout_needs_an_account_and_a_cart(client, catalog, user):
    assert client.get(reverse("shop:checkout")).status_code == 302  # to log in
    client.force_login(user)
    assert client.get(reverse("shop:checkout")).url == reverse("shop:catalog")


def test_a_gift_recipient_s_name_on_two_lines_is_refused(client, catalog, user):
    from shop.models import Order

    client.force_login(user)
    add(client, "MINI-8-SNOW")
    response = client.post(reverse("shop:checkout"), {"is_gift": "on", "gift_recipient_name": "Grandma\nLee"})
    assert "Write it on one line" in response.content.decode() and not Order.objects.exists()
    with pytest.raises(ValidationError):
        Order._meta.get_field("gift_recipient_name").clean("Grandma\nLee", None)


def test_without_stripe_keys_the_checkout_says_payments_are_not_set_up(client, catalog, user, settings):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(user)
    add(client, "MINI-8-SNOW")
    assert "Payments are not set up" in client.get(reverse("shop:checkout")).content.decode()
    response = client.post(reverse("shop:checkout"), {})
    assert "Payments are not set up on this site yet" in response.content.decode()
    from shop.models import Order

    assert not Order.objects.exists()
