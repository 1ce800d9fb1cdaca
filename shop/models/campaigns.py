"""Marketing campaigns: a landing link, promo codes and what they give (bonus credits, Premium
trial days), who redeemed them, where each account came from, and the site-wide launch mode."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext

from .billing import Plan


def local_path_validate(value: str) -> None:
    # "//host" and "/\host" are read by browsers as another site.
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        raise ValidationError("A path on this site, such as /accounts/signup/ or /shop/.")


def promo_code_normalize(code: str) -> str:
    """People type codes in any case and with stray spaces; we store and look them up in capitals."""
    return code.strip().upper()


class Campaign(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True, help_text="The landing link is /c/<slug>/.")
    description = models.TextField(blank=True, help_text="For staff: the channel, the audience, the budget.")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: runs until switched off.")
    is_active = models.BooleanField(default=True, help_text="Off stops landings counting and codes working at once.")
    grants_credits = models.PositiveIntegerField(default=0, help_text="Bonus videos that do not expire.")
    grants_premium_days = models.PositiveIntegerField(default=0, help_text="Days on the trial plan, from redemption.")
    trial_plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+", limit_choices_to={"is_default": False},
        help_text="The plan the trial days give (Premium).",
    )
    max_redemptions = models.PositiveIntegerField(null=True, blank=True, help_text="All redemptions together; empty for no limit.")
    max_redemptions_per_user = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    landing_redirect = models.CharField(
        max_length=200, default="/accounts/signup/", validators=[local_path_validate], help_text="Where the landing link sends visitors."
    )
    landings = models.PositiveIntegerField(default=0, editable=False, help_text="Visitors whose first campaign link was this one.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")), name="campaign_ends_after_start"),
            models.CheckConstraint(condition=models.Q(max_redemptions_per_user__gte=1), name="campaign_per_user_cap_positive"),
            models.CheckConstraint(condition=models.Q(grants_premium_days=0) | models.Q(trial_plan__isnull=False), name="campaign_trial_has_plan"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The campaign must end after it starts."})
        if self.grants_premium_days and self.trial_plan_id is None:
            raise ValidationError({"trial_plan": "Choose the plan the trial days give."})

    def get_landing_url(self) -> str:
        return reverse("campaign-landing", args=[self.slug])

    def is_running(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_active and self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    @property
    def grants_anything(self) -> bool:
        return bool(self.grants_credits or self.grants_premium_days)

    def grants_display(self) -> str:
        """For example “3 bonus videos and 14 days of Premium”, in the active language."""
        parts = []
        if self.grants_credits:
            parts.append(ngettext("%(count)d bonus video", "%(count)d bonus videos", self.grants_credits) % {"count": self.grants_credits})
        if self.grants_premium_days:
            parts.append(ngettext("%(count)d day of %(plan)s", "%(count)d days of %(plan)s", self.grants_premium_days) % {
                "count": self.grants_premium_days, "plan": gettext(self.trial_plan.name),  # plan names are in the catalog
            })
        if len(parts) == 2:
            return gettext("%(credits)s and %(days)s") % {"credits": parts[0], "days": parts[1]}
        return parts[0] if parts else gettext("nothing (tracking only)")


class PromoCode(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(
        max_length=40, unique=True, validators=[RegexValidator(r"^[A-Za-z0-9-]+$", "Letters, digits and dashes only.")],
        help_text="Stored in capitals; customers may type it in any case.",
    )
    is_active = models.BooleanField(default=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True, help_text="This code's own limit, within the campaign's; empty for none.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        # Stored in capitals, so the unique code is unique whatever the case typed.
        constraints = [models.CheckConstraint(condition=models.Q(code=Upper("code")), name="promo_code_in_capitals")]

    def __str__(self):
        return self.code

    def clean(self):
        # Before the unique check, so "spring" is found to clash with "SPRING".
        self.code = promo_code_normalize(self.code or "")

    def save(self, *args, **kwargs):
        self.code = promo_code_normalize(self.code)
        super().save(*args, **kwargs)


class Redemption(models.Model):
    """A campaign's gift given to one account: one row per redemption, written by campaign_redeem."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="redemptions")
    # Kept when an account is deleted, so that the caps still count what was given.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="campaign_redemptions")
    promo_code = models.ForeignKey(PromoCode, null=True, blank=True, on_delete=models.PROTECT, related_name="redemptions")
    number = models.PositiveIntegerField(help_text="This account's first, second… redemption of the campaign.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Two redemptions of the same number by one account cannot both be written.
            models.UniqueConstraint(fields=["campaign", "user", "number"], name="one_redemption_per_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="redemption_number_positive"),
        ]

    def __str__(self):
        return f"{self.campaign} for {self.user}"


class Attribution(models.Model):
    """Where an account came from, written once at sign-up."""

    class Source(models.TextChoices):
        CAMPAIGN = "campaign", "Campaign"
        SHARE = "share", "A shared video"
        DIRECT = "direct", "Direct"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attribution")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DIRECT, db_index=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="attributions")
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    # An id, not a link: marketing staff see that a shared video brought someone, not the video.
    referrer_creation = models.UUIDField(null=True, blank=True, help_text="The shared video the visitor watched before signing up.")
    landed_at = models.DateTimeField(null=True, blank=True)
    signed_up_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-signed_up_at"]

    def __str__(self):
        return f"{self.user}: {self.campaign or self.get_source_display()}"


class PremiumTrial(models.Model):
    """Days on a paid plan without paying, given by a campaign (or by staff)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="premium_trials")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="premium_trials")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at"]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="premium_trial_ends_after_start")]
        indexes = [models.Index(fields=["user", "ends_at"])]

    def __str__(self):
        return f"{self.plan} trial for {self.user} until {self.ends_at:%Y-%m-%d}"


class LaunchMode(models.Model):
    """The site-wide switch that makes videos free; one row, edited in the admin."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    is_on = models.BooleanField(default=False)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: from when it is switched on.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until it is switched off.")
    # The default banner is in the catalog, so pages show it in the visitor's language.
    message = models.CharField(max_length=200, default=gettext_noop("Launch week: making videos is free!"), help_text="The banner on every page while it is on.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "launch mode"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="launch_mode_single_row")]

    def __str__(self):
        return "Launch mode"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "Launch mode must end after it starts."})
