"""Campaigns: counting landings, redeeming promo codes within their caps, and recording at
sign-up where each account came from."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext

from ..models import Attribution, Campaign, PremiumTrial, PromoCode, Redemption, promo_code_normalize
from .credits import credit_grant

logger = logging.getLogger(__name__)

# Session keys: ours for a campaign landing; the share page's (studio.views.share) for a referral.
SESSION_LANDING = "campaign_landing"
SESSION_REFERRAL = "referral"
UTM_FIELDS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]


class RedemptionRefused(Exception):
    """``str()`` tells the customer why; nothing was given."""


def campaign_landing_record(*, campaign: Campaign, session, params) -> bool:
    """Remember in the visitor's ``session`` that they came through ``campaign``'s link, with the
    UTM parameters of the link, and count the landing. The first campaign a visitor lands
    through keeps the credit; a campaign that is not running is not recorded. True when recorded."""
    if SESSION_LANDING in session or not campaign.is_running():
        return False
    session[SESSION_LANDING] = {
        "campaign": campaign.pk,
        "utm": {field: params.get(field)[:200] for field in UTM_FIELDS if params.get(field)},
        "landed_at": timezone.now().isoformat(),
    }
    Campaign.objects.filter(pk=campaign.pk).update(landings=F("landings") + 1)
    return True


def campaign_redeem(*, user, code: str) -> Redemption:
    """Give ``user`` what the campaign of promo ``code`` grants. Raises RedemptionRefused for an
    unknown, inactive, expired or used-up code, or one this account has used already."""
    promo = PromoCode.objects.select_related("campaign").filter(code=promo_code_normalize(code)).first()
    if promo is None or not promo.is_active:
        raise RedemptionRefused(gettext("There is no promo code “%(code)s”. Please check the spelling.") % {"code": code.strip()})
    return _redeem(user=user, campaign=promo.campaign, promo_code=promo)


@transaction.atomic
def _redeem(*, user, campaign: Campaign, promo_code: PromoCode | None = None) -> Redemption:
    # Redemptions of one campaign take turns on its row, so each count below already sees every
    # redemption committed before it, and two at once cannot both take the last place.
    # NO KEY UPDATE (PostgreSQL) leaves rows that merely point at the campaign free to be written.
    campaign = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
    now = timezone.now()
    if not campaign.is_running(now):
        raise RedemptionRefused(gettext("This offer has not started yet.") if campaign.is_active and now < campaign.starts_at else gettext("This offer has ended."))
    redemptions = Redemption.objects.filter(campaign=campaign)
    if campaign.max_redemptions is not None and redemptions.count() >= campaign.max_redemptions:
        raise RedemptionRefused(gettext("This offer has been used up."))
    if promo_code and promo_code.max_redemptions is not None and redemptions.filter(promo_code=promo_code).count() >= promo_code.max_redemptions:
        raise RedemptionRefused(gettext("This code has been used up."))
    used = redemptions.filter(user=user).count()
    if used >= campaign.max_redemptions_per_user:
        raise RedemptionRefused(gettext("You have already used this offer."))
    try:
        with transaction.atomic():
            redemption = Redemption.objects.create(campaign=campaign, user=user, promo_code=promo_code, number=used + 1, created_at=now)
    except IntegrityError:  # the unique (campaign, user, number): the same account redeeming twice at once
        raise RedemptionRefused(gettext("You have already used this offer.")) from None
    if campaign.grants_credits:
        credit_grant(
            user=user, amount=campaign.grants_credits, key=f"campaign-{campaign.pk}-redemption-{redemption.pk}", note=f"Campaign: {campaign.name}"
        )
    if campaign.grants_premium_days:
        _premium_trial_start(user=user, campaign=campaign, now=now)
    return redemption


def _premium_trial_start(*, user, campaign: Campaign, now: datetime) -> PremiumTrial:
    # A second trial follows the running one rather than overlapping it.
    running_until = PremiumTrial.objects.filter(user=user, ends_at__gt=now).aggregate(end=Max("ends_at"))["end"]
    starts_at = max(now, running_until) if running_until else now
    return PremiumTrial.objects.create(
        user=user, plan=campaign.trial_plan, campaign=campaign, starts_at=starts_at, ends_at=starts_at + timedelta(days=campaign.grants_premium_days)
    )


def _referrer_creation(referral: dict) -> uuid.UUID | None:
    if referral.get("source") != "share":
        return None
    try:
        return uuid.UUID(str(referral.get("creation")))
    except ValueError:
        return None


def attribution_record(*, user, session) -> Attribution:
    """Record where the new account ``user`` came from, from its sign-up ``session``: a campaign
    it landed through (and then give it what a campaign without codes grants), a shared video,
    or neither. Writes once; a second call returns the first record."""
    landing = session.get(SESSION_LANDING) or {}
    campaign = Campaign.objects.filter(pk=landing.get("campaign")).first() if landing else None
    referrer = _referrer_creation(session.get(SESSION_REFERRAL) or {})
    source = Attribution.Source.CAMPAIGN if campaign else Attribution.Source.SHARE if referrer else Attribution.Source.DIRECT
    utm = landing.get("utm", {}) if campaign else {}
    attribution, created = Attribution.objects.get_or_create(user=user, defaults={
        "source": source, "campaign": campaign, "referrer_creation": referrer,
        "landed_at": datetime.fromisoformat(landing["landed_at"]) if campaign else None,
        **{field: utm.get(field, "") for field in UTM_FIELDS},
    })
    if created and campaign and campaign.grants_anything and not campaign.codes.exists():
        try:
            _redeem(user=user, campaign=campaign)
        except RedemptionRefused as refusal:  # used up or over since the visitor landed; the sign-up still counts
            logger.info("Sign-up %s through campaign %s got nothing: %s", user.pk, campaign.slug, refusal)
    return attribution
