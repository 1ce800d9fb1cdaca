"""Catalog, cart, checkout, orders and Premium. Thin: each view calls one service or selector."""
import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.media import private_file_response

from . import payments, selectors
from .context_processors import shop as shop_context
from .forms import CheckoutForm, QuantityForm, RedeemForm
from .models import Campaign, FrameImage, Order, PlanPrice
from .money import Currency
from .services.campaigns import RedemptionRefused, campaign_landing_record, campaign_redeem
from .services.cart import CartError, cart_add, cart_for, cart_review, cart_set_currency, cart_set_quantity
from .services.orders import CheckoutProblem, order_checkout_start
from .services.subscriptions import SubscriptionProblem, billing_portal_url, subscription_checkout_start
from .webhooks import webhook_event_handle

logger = logging.getLogger(__name__)


def _currency(request) -> str:
    return shop_context(request)["shop_currency"]


def _cart(request, create=False):
    # A visitor's cart is found by a token kept in their session: the session's own key
    # changes at log-in, and the token survives that so the cart can be merged.
    if create and not request.user.is_authenticated and "cart_token" not in request.session:
        request.session["cart_token"] = secrets.token_urlsafe(24)
    currency = _currency(request)
    cart = cart_for(user=request.user, session_key=request.session.get("cart_token"), currency=currency, create=create)
    if cart is not None and cart.currency != currency:  # the visitor switched, or logged in with another language
        cart_set_currency(cart=cart, currency=currency)
    return cart


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _redirect_back(request, target: str | None, default: str):
    """Follow a page's own next/back value only to this site; anything else goes to ``default``."""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return redirect(target if safe else default)


# --- Catalog ------------------------------------------------------------------------------


@require_GET
def catalog(request):
    return render(request, "shop/catalog.html", {"frames": selectors.frame_catalog()})


@require_GET
def frame_detail(request, slug):
    frame = get_object_or_404(selectors.frame_list_active(), slug=slug)
    return render(request, "shop/frame_detail.html", {"frame": frame})


@require_GET
def frame_image(request, image_id):
    image = get_object_or_404(FrameImage, pk=image_id, frame__is_active=True)
    return private_file_response(request, image.image)


@require_POST
def currency_switch(request):
    currency = request.POST.get("currency")
    if currency not in Currency.values:
        return HttpResponse(gettext("Unknown currency."), status=400)
    request.session["currency"] = currency
    _cart(request)  # repriced in the new currency
    return _redirect_back(request, request.POST.get("next"), "shop:catalog")


# --- Cart ---------------------------------------------------------------------------------


@require_GET
def cart_detail(request):
    cart = _cart(request)
    review = cart_review(cart=cart) if cart else None
    return render(request, "shop/cart.html", {"cart": cart, "review": review})


@require_POST
def cart_add_view(request):
    form = QuantityForm({"quantity": request.POST.get("quantity", 1)})
    try:
        if not form.is_valid() or form.cleaned_data["quantity"] < 1:
            raise CartError(gettext("The quantity must be a whole number from 1 to 99."))
        variant_id = int(request.POST.get("variant", ""))
        cart = _cart(request, create=True)
        item = cart_add(cart=cart, variant_id=variant_id, quantity=form.cleaned_data["quantity"])
    except ValueError:
        messages.error(request, gettext("Choose a screen size and finish."))
        return _redirect_back(request, request.POST.get("back"), "shop:catalog")
    except CartError as error:
        messages.error(request, str(error))
        return redirect("shop:cart")
    messages.success(request, gettext("%(frame)s is in your cart.") % {"frame": item.variant})
    return redirect("shop:cart")


@require_POST
def cart_update(request, item_id):
    cart = _cart(request)
    form = QuantityForm(request.POST)
    if cart is None:
        raise Http404
    if not form.is_valid():
        messages.error(request, gettext("The quantity must be a whole number from 0 to 99."))
        return redirect("shop:cart")
    try:
        cart_set_quantity(cart=cart, item_id=item_id, quantity=form.cleaned_data["quantity"])
    except CartError as error:
        messages.error(request, str(error))
    return redirect("shop:cart")


# --- Checkout and orders ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    cart = _cart(request)
    review = cart_review(cart=cart) if cart else None
    if not review or not review.items:
        messages.info(request, gettext("Your cart is empty."))
        return redirect("shop:catalog")
    form = CheckoutForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            _order, url = order_checkout_start(
                user=request.user, cart=cart, gift=form.gift(), preload=form.cleaned_data["preload"],
                success_url=_absolute(reverse("shop:checkout-return")) + "?session_id={CHECKOUT_SESSION_ID}",
                cancel_url=_absolute(reverse("shop:cart")),
            )
            return redirect(url)
        except CheckoutProblem as error:
            messages.warning(request, str(error))
            return redirect("shop:cart")
        except (payments.PaymentError, payments.PaymentsNotConfigured) as error:
            messages.error(request, str(error))
    return render(request, "shop/checkout.html", {"form": form, "review": review, "payments_ready": payments.is_configured()})


@login_required
@require_GET
def checkout_return(request):
    """Where Stripe sends the customer back. The order is paid only when the webhook says so."""
    order = Order.objects.filter(customer=request.user, checkout_session_id=request.GET.get("session_id", "")).first()
    if order is None:
        raise Http404
    return redirect(order)


@login_required
@require_GET
def order_list(request):
    return render(request, "shop/order_list.html", {"orders": selectors.order_list_for(user=request.user)})


@login_required
@require_GET
def order_detail(request, number):
    try:
        order = selectors.order_get_for(user=request.user, number=number)
    except Order.DoesNotExist:
        raise Http404 from None
    template = "shop/partials/order_status.html" if request.headers.get("HX-Request") else "shop/order_detail.html"
    return render(request, template, {"order": order})


# --- Premium ------------------------------------------------------------------------------


@require_GET
def premium(request):
    currency = _currency(request)
    context = {
        "prices": selectors.plan_prices_for_sale(currency=currency),
        "plan": selectors.plan_for(user=request.user) if request.user.is_authenticated else selectors.plan_default(),
        "free_plan": selectors.plan_default(),
        "subscription": selectors.subscription_current(user=request.user),
        "trial": selectors.premium_trial_current(user=request.user),
        "credits": selectors.credit_balance(user=request.user) if request.user.is_authenticated else None,
        "payments_ready": payments.is_configured(),
    }
    return render(request, "shop/premium.html", context)


@login_required
@require_POST
def subscribe(request, price_id):
    price = get_object_or_404(PlanPrice, pk=price_id, is_active=True)
    try:
        url = subscription_checkout_start(
            user=request.user, price=price,
            success_url=_absolute(reverse("shop:premium")) + "?welcome=1", cancel_url=_absolute(reverse("shop:premium")),
        )
    except (SubscriptionProblem, payments.PaymentError, payments.PaymentsNotConfigured) as error:
        messages.error(request, str(error))
        return redirect("shop:premium")
    return redirect(url)


@login_required
@require_POST
def billing_portal(request):
    try:
        return redirect(billing_portal_url(user=request.user, return_url=_absolute(reverse("shop:premium"))))
    except (SubscriptionProblem, payments.PaymentError, payments.PaymentsNotConfigured) as error:
        messages.error(request, str(error))
        return redirect("shop:premium")


# --- Campaigns ----------------------------------------------------------------------------


@require_GET
def campaign_landing(request, slug):
    """A campaign's link (/c/<slug>/): remembered for the visitor's sign-up, then on to where the
    campaign sends people."""
    campaign = get_object_or_404(Campaign, slug=slug)
    if not request.user.is_authenticated:
        campaign_landing_record(campaign=campaign, session=request.session, params=request.GET)
    target = campaign.landing_redirect
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}) and target.startswith("/")
    return redirect(target if safe else "account_signup")


@login_required
@require_http_methods(["GET", "POST"])
def redeem(request):
    form = RedeemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            redemption = campaign_redeem(user=request.user, code=form.cleaned_data["code"])
        except RedemptionRefused as refusal:
            form.add_error("code", str(refusal))
        else:
            messages.success(request, gettext("%(campaign)s: %(grants)s added to your account.") % {
                "campaign": redemption.campaign.name, "grants": redemption.campaign.grants_display(),
            })
            return redirect("shop:premium")
    return render(request, "shop/redeem.html", {"form": form}, status=400 if form.errors else 200)


# --- Stripe -------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's deliveries: 400 for a bad signature (nothing changes), 200 once handled or
    already handled, 500 (Stripe retries) when handling failed and was rolled back."""
    try:
        event = payments.event_verify(request.body, request.headers.get("Stripe-Signature"))
    except payments.SignatureError:
        return JsonResponse({"error": "invalid signature"}, status=400)
    except payments.PaymentsNotConfigured:
        return JsonResponse({"error": "webhooks are not configured"}, status=503)
    try:
        handled = webhook_event_handle(event=event)
    except payments.PaymentError:
        logger.exception("Stripe event %s could not be handled now; Stripe will deliver it again", event["id"])
        return JsonResponse({"error": "could not reach Stripe to check this event; try again"}, status=500)
    return JsonResponse({"received": True, "duplicate": not handled})
