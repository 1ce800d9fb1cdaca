from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from .models import BONUS_BUCKET, CreditEntry, Frame, FrameVariant, Order, Plan, PlanPrice, Subscription


def frame_list_active() -> QuerySet[Frame]:
    variants = FrameVariant.objects.filter(is_active=True)
    return Frame.objects.filter(is_active=True, variants__is_active=True).distinct().prefetch_related(
        Prefetch("variants", queryset=variants, to_attr="active_variants"), "images"
    )


# The free plan, should the row be missing (a fresh test database flushed of its data
# migration, say); staff edit it in the admin.
FREE_PLAN = {"code": "free", "name": "Free", "monthly_credits": 5, "max_height": 720, "watermark": True, "gpu_engines": False, "priority": False}


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


def plan_for(*, user) -> Plan:
    """The plan ``user`` is on: a subscription's while it is in good standing, else the default."""
    subscription = subscription_current(user=user)
    return subscription.plan if subscription else plan_default()


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
