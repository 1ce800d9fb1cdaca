"""Plans (Free, Premium), their prices, and the Stripe subscriptions that put people on them."""
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from generation.limits import JobLimits

from ..money import Currency


class Plan(models.Model):
    """What an account may do. Staff edit these in the admin; nothing here is a constant in code."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)
    is_default = models.BooleanField(default=False, help_text="The plan of every account without a subscription (Free).")
    monthly_credits = models.PositiveIntegerField(help_text="Videos per calendar month.")
    max_height = models.PositiveIntegerField(default=720, help_text="Tallest video, in pixels.")
    watermark = models.BooleanField(default=True, help_text="A small PetMemories mark on videos.")
    gpu_engines = models.BooleanField(default=False, help_text="May use the GPU engines (SVD-XT, CogVideoX).")
    priority = models.BooleanField(default=False, help_text="Jobs go ahead of other plans' in the queue.")
    past_due_grace_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days a subscription whose payment failed keeps the plan while Stripe retries."
    )
    description = models.CharField(max_length=200, blank=True)
    stripe_product_id = models.CharField(max_length=255, blank=True, help_text="Filled in by `manage.py stripe_setup`.")
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="one_default_plan"),
        ]

    def __str__(self):
        return self.name

    def job_limits(self) -> JobLimits:
        return JobLimits(max_height=self.max_height, gpu_engines=self.gpu_engines, watermark=self.watermark, priority=self.priority)


class PlanPrice(models.Model):
    class Interval(models.TextChoices):
        MONTH = "month", _("Monthly")
        YEAR = "year", _("Yearly")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    interval = models.CharField(max_length=5, choices=Interval.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    stripe_price_id = models.CharField(
        max_length=255, blank=True, db_index=True, help_text="Filled in by `manage.py stripe_setup`; a price in Stripe can never change."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["plan", "currency", "interval"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "interval", "currency"], condition=models.Q(is_active=True), name="one_active_price_per_interval"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="plan_price_positive"),
        ]

    def __str__(self):
        return f"{self.plan} {self.get_interval_display().lower()} {self.amount} {self.currency}"


class BillingCustomer(models.Model):
    """The Stripe customer behind an account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing")
    stripe_customer_id = models.CharField(max_length=255, unique=True)

    def __str__(self):
        return f"{self.user} ({self.stripe_customer_id})"


class Subscription(models.Model):
    """Our copy of a Stripe subscription, always rewritten whole from Stripe's current state."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"
        UNPAID = "unpaid", "Unpaid"
        PAUSED = "paused", "Paused"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_customer_id = models.CharField(max_length=255)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    price = models.ForeignKey(PlanPrice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.plan} for {self.user} ({self.status})"

    def gives_plan(self, now=None) -> bool:
        """Whether the subscription puts its owner on its plan right now."""
        now = now or timezone.now()
        if self.status in (self.Status.ACTIVE, self.Status.TRIALING):
            return True
        if self.status == self.Status.PAST_DUE:
            since = self.past_due_since or now
            return now < since + timedelta(days=self.plan.past_due_grace_days)
        return False
