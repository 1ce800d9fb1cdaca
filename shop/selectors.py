from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.signals import ExportSection
from core.kept import ProcessHold
from generation.models import Job, JobOutput
from generation.selectors import jobs_that_made

from .models import (
    BONUS_BUCKET,
    Attribution,
    Campaign,
    CreditEntry,
    Frame,
    FrameVariant,
    LaunchMode,
    Order,
    Plan,
    PlanPrice,
    PremiumTrial,
    Subscription,
)
from .money import Currency, quantize


def frame_list_active() -> QuerySet[Frame]:
    variants = FrameVariant.objects.filter(is_active=True)
    return Frame.objects.filter(is_active=True, variants__is_active=True).distinct().prefetch_related(
        Prefetch("variants", queryset=variants, to_attr="active_variants"), "images"
    )


CATALOG_CACHE_KEY = "shop-catalog"
CATALOG_CACHE_SECONDS = 30


def frame_catalog() -> list[Frame]:
    """frame_list_active for the catalog page, kept in the cache CATALOG_CACHE_SECONDS: a save
    of a frame, a variant or an image forgets it (shop.apps); another process with the
    per-process cache sees the change within that time. Checkout reads the database."""
    return _kept(CATALOG_CACHE_KEY, CATALOG_CACHE_SECONDS, lambda: list(frame_list_active()))


# With a shared cache (Redis) a process also holds what it read for LOCAL_SECONDS, sparing every
# page a round trip (core.kept).
LOCAL_SECONDS = 2.0
_hold = ProcessHold(LOCAL_SECONDS)


def _kept(key: str, seconds: int, read):
    value = _hold.get(key)
    if value is None:
        value = cache.get(key)
        if value is None:
            value = (read(),)  # in a tuple: what was read may be None
            cache.set(key, value, seconds)
        _hold.put(key, value)
    return value[0]


def kept_forget(key: str) -> None:
    """Forget what _kept holds under ``key`` (a save of what it was read from)."""
    cache.delete(key)
    _hold.forget(key)


# The free plan, should the row be missing (a fresh test database flushed of its data
# migration, say); staff edit it in the admin. Pages show plan names translated: "Free" and
# "Premium" are in the catalog.
FREE_PLAN = {"code": "free", "name": gettext_noop("Free"), "monthly_credits": 5, "max_height": 720, "watermark": True, "gpu_engines": False, "priority": False}


def plan_default() -> Plan:
    plan = Plan.objects.filter(is_default=True).first()
    if plan is None:
        plan, _ = Plan.objects.get_or_create(is_default=True, defaults=FREE_PLAN)
    return plan


def subscription_current(*, user) -> Subscription | None:
    """The subscription that puts ``user`` on a plan now, if any (the best plan wins)."""
    if not user.is_authenticated:
        return None
    now = timezone.now()
    candidates = Subscription.objects.filter(user=user).select_related("plan", "price").order_by("-plan__sort_order", "-created_at")
    return next((subscription for subscription in candidates if subscription.gives_plan(now)), None)


def premium_trial_current(*, user) -> PremiumTrial | None:
    """The trial that puts ``user`` on a plan now, if any (the best plan wins)."""
    if not user.is_authenticated:
        return None
    now = timezone.now()
    trials = PremiumTrial.objects.filter(user=user, starts_at__lte=now, ends_at__gt=now).select_related("plan")
    return trials.order_by("-plan__sort_order", "-ends_at").first()


def plan_for(*, user) -> Plan:
    """The plan ``user`` is on: the better of a subscription in good standing and a running
    trial (the subscription's on a tie), else the default."""
    plans = [found.plan for found in (subscription_current(user=user), premium_trial_current(user=user)) if found]
    return max(plans, key=lambda plan: plan.sort_order) if plans else plan_default()


def plan_prices_for_sale(*, currency: str) -> QuerySet[PlanPrice]:
    return PlanPrice.objects.filter(is_active=True, currency=currency, plan__is_default=False).select_related("plan")


def credit_balance(*, user, plan: Plan | None = None) -> int:
    """Credits ``user`` can spend now: this month's allowance (granted or not yet) plus bonus credits."""
    from .services.credits import credit_month

    plan = plan or plan_for(user=user)
    month = credit_month()
    entries = CreditEntry.objects.filter(user=user, bucket__in=[month, BONUS_BUCKET])
    balance = entries.aggregate(total=Sum("amount"))["total"] or 0
    granted = entries.filter(bucket=month, kind=CreditEntry.Kind.ALLOWANCE).aggregate(total=Sum("amount"))["total"] or 0
    return balance + max(0, plan.monthly_credits - granted)


def order_list_for(*, user) -> QuerySet[Order]:
    return Order.objects.filter(customer=user).prefetch_related("items")


def order_get_for(*, user, number: str) -> Order:
    return Order.objects.prefetch_related("items", "preload").get(customer=user, number=number)


# --- Launch mode and campaigns ---------------------------------------------------------------


def launch_mode_current(*, now=None) -> LaunchMode | None:
    """The launch mode row while it is on and within its dates, else None."""
    now = now or timezone.now()
    window = (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    return LaunchMode.objects.filter(window, is_on=True).first()


LAUNCH_MODE_CACHE_KEY = "launch-mode"
LAUNCH_MODE_CACHE_SECONDS = 30


def launch_mode_banner(*, now=None) -> LaunchMode | None:
    """launch_mode_current for the banner on every page, without a query a page: the row is
    kept in the cache LAUNCH_MODE_CACHE_SECONDS (a save forgets it; another process with the
    per-process cache sees the change within that time). Whether a video is free still asks
    the database (launch_mode_active)."""
    row = _kept(LAUNCH_MODE_CACHE_KEY, LAUNCH_MODE_CACHE_SECONDS, lambda: LaunchMode.objects.filter(pk=1).first())
    now = now or timezone.now()
    running = row is not None and row.is_on and (row.starts_at is None or row.starts_at <= now) and (row.ends_at is None or row.ends_at > now)
    return row if running else None


def launch_mode_active(*, now=None) -> bool:
    """Whether videos are free right now."""
    return launch_mode_current(now=now) is not None


# Our copy of a subscription holds only its present status; every status but these two is
# reached only through having been active or trialing (they are a first payment that never went through).
EVER_STARTED = [status for status in Subscription.Status.values if status not in ("incomplete", "incomplete_expired")]


def _percent(part: int, whole: int) -> Decimal | None:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else None


def campaign_report(*, campaign: Campaign) -> dict:
    """The funnel of the people ``campaign`` brought (landed, signed up, made a first video,
    bought a frame, subscribed) and what they paid, per currency (never added together)."""
    signed_up = Attribution.objects.filter(campaign=campaign)
    # The stages stay English in the CSV; the report page translates them.
    counts = [
        (gettext_noop("Landed"), Campaign.objects.values_list("landings", flat=True).get(pk=campaign.pk)),  # counted by UPDATE; the instance may be older
        (gettext_noop("Signed up"), signed_up.count()),
        (gettext_noop("First creation"), signed_up.filter(user__creations__isnull=False).values("user").distinct().count()),
        (gettext_noop("Frame order"), signed_up.filter(user__orders__paid_at__isnull=False).values("user").distinct().count()),
        (gettext_noop("Subscription"), signed_up.filter(user__subscriptions__status__in=EVER_STARTED).values("user").distinct().count()),
    ]
    funnel = [
        {"stage": stage, "count": count, "of_previous": _percent(count, counts[index - 1][1]) if index else None, "of_landed": _percent(count, counts[0][1])}
        for index, (stage, count) in enumerate(counts)
    ]
    paid_orders = Order.objects.filter(customer__attribution__campaign=campaign, paid_at__isnull=False)
    totals = {row["currency"]: row for row in paid_orders.values("currency").annotate(orders=Count("pk"), paid=Sum("amount_paid"), refunded=Sum("amount_refunded"))}
    revenue = []
    for currency in Currency.values:
        row = totals.get(currency, {})
        paid, refunded = quantize(row.get("paid") or 0, currency), quantize(row.get("refunded") or 0, currency)
        revenue.append({"currency": currency, "orders": row.get("orders", 0), "paid": paid, "refunded": refunded, "net": paid - refunded})
    subscriptions = Subscription.objects.filter(user__attribution__campaign=campaign, status__in=EVER_STARTED).count()
    return {
        "campaign": campaign, "funnel": funnel, "revenue": revenue, "subscriptions": subscriptions,
        "redemptions": campaign.redemptions.count(), "generated_at": timezone.now(),
    }


def account_shop_export(*, user) -> list[ExportSection]:
    """A customer's orders, subscriptions and credit history, for their data export."""
    orders = [
        {
            "number": order.number, "status": order.status, "created_at": order.created_at, "paid_at": order.paid_at,
            "currency": order.currency, "subtotal": order.subtotal, "shipping_cost": order.shipping_cost, "total": order.total,
            "amount_paid": order.amount_paid, "amount_refunded": order.amount_refunded, "email": order.email,
            "shipping_address": order.shipping_address_lines, "is_gift": order.is_gift,
            "gift_recipient_name": order.gift_recipient_name, "gift_recipient_email": order.gift_recipient_email,
            "gift_message": order.gift_message, "carrier": order.carrier, "tracking_number": order.tracking_number,
            "items": [
                {"description": item.description, "sku": item.sku, "unit_price": item.unit_price, "quantity": item.quantity}
                for item in order.items.all()
            ],
        }
        for order in Order.objects.filter(customer=user).prefetch_related("items").order_by("created_at")
    ]
    subscriptions = [
        {
            "plan": subscription.plan.name, "status": subscription.status, "created_at": subscription.created_at,
            "current_period_end": subscription.current_period_end, "cancel_at_period_end": subscription.cancel_at_period_end,
            "canceled_at": subscription.canceled_at,
        }
        for subscription in Subscription.objects.filter(user=user).select_related("plan").order_by("created_at")
    ]
    credits = list(
        CreditEntry.objects.filter(user=user).order_by("created_at", "pk").values("created_at", "kind", "amount", "bucket", "note")
    )
    return [
        ExportSection(name="orders", data=orders),
        ExportSection(name="subscriptions", data=subscriptions),
        ExportSection(name="credits", data=credits),
    ]


def preload_choices_for(*, user) -> QuerySet:
    """The videos ``user`` may have put on a frame they buy: their finished creations. Read
    through the order's own ``preload`` relation, the one place the shop names the studio's
    model, so the shop imports nothing of the studio."""
    creations = Order._meta.get_field("preload").related_model.objects
    return creations.filter(owner=user, job__state=Job.State.SUCCEEDED, job__in=jobs_that_made(JobOutput.Kind.VIDEO)).select_related("job")
