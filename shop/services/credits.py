"""Credits: reserve one per video, consume or give it back exactly once (see models/credits.py)."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from ..models import BONUS_BUCKET, CreditEntry, CreditReservation, Plan


class NoCreditsLeft(Exception):
    """``str()`` tells the customer why and what to do."""


def credit_month(now=None) -> str:
    """The allowance bucket for a moment: its calendar month in the site's time zone."""
    return timezone.localtime(now).strftime("%Y-%m")


def _write_once(*, key: str, **fields) -> bool:
    """Write the ledger entry ``key`` unless it exists; True when this call wrote it."""
    try:
        with transaction.atomic():
            CreditEntry.objects.create(key=key, **fields)
    except IntegrityError:
        if CreditEntry.objects.filter(key=key).exists():
            return False
        raise
    return True


def credit_allowance_ensure(*, user, plan: Plan, month: str) -> None:
    """Top the month's allowance up to the plan's: the first video of the month grants it,
    and moving to a bigger plan mid-month grants the difference."""
    granted = CreditEntry.objects.filter(user=user, bucket=month, kind=CreditEntry.Kind.ALLOWANCE).aggregate(total=Sum("amount"))["total"] or 0
    if granted < plan.monthly_credits:
        _write_once(
            key=f"allowance:{user.pk}:{month}:{plan.monthly_credits}", user=user, kind=CreditEntry.Kind.ALLOWANCE,
            amount=plan.monthly_credits - granted, bucket=month, note=f"{plan.name}, {month}",
        )


def _bucket_balance(user, bucket: str) -> int:
    return CreditEntry.objects.filter(user=user, bucket=bucket).aggregate(total=Sum("amount"))["total"] or 0


@transaction.atomic
def credit_reserve(*, user, job, plan: Plan) -> CreditReservation:
    """Hold one credit for ``job``: this month's allowance first, then bonus credits.
    Raises NoCreditsLeft when there is none."""
    # One customer's reservations take turns, so two uploads at once cannot spend one credit.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    month = credit_month()
    credit_allowance_ensure(user=user, plan=plan, month=month)
    if _bucket_balance(user, month) > 0:
        bucket = month
    elif _bucket_balance(user, BONUS_BUCKET) > 0:
        bucket = BONUS_BUCKET
    else:
        raise NoCreditsLeft(
            ngettext(
                "You have made the %(count)d video of your %(plan)s plan this month. Premium makes more; a new month starts a new allowance.",
                "You have made all %(count)d videos of your %(plan)s plan this month. Premium makes more; a new month starts a new allowance.",
                plan.monthly_credits,
            ) % {"count": plan.monthly_credits, "plan": gettext(plan.name)}
        )
    reservation = CreditReservation.objects.create(job=job, user=user, bucket=bucket)
    _write_once(key=f"reserve:{job.pk}", user=user, kind=CreditEntry.Kind.RESERVE, amount=-1, bucket=bucket, job=job, note="Reserved for a video")
    return reservation


def credit_settle(*, job) -> str | None:
    """Settle ``job``'s reservation now that it has finished: consumed when the video was made,
    given back when it failed or was canceled. Safe to call any number of times; returns the
    new state the first time and None after (or when the job reserved nothing)."""
    succeeded = job.state == job.State.SUCCEEDED
    state = CreditReservation.State.CONSUMED if succeeded else CreditReservation.State.RELEASED
    with transaction.atomic():
        # A conditional update is the exactly-once: only one caller moves it out of "reserved".
        if not CreditReservation.objects.filter(job=job, state=CreditReservation.State.RESERVED).update(state=state, settled_at=timezone.now()):
            return None
        if not succeeded:
            reservation = CreditReservation.objects.get(job=job)
            _write_once(
                key=f"release:{job.pk}", user_id=reservation.user_id, kind=CreditEntry.Kind.RELEASE, amount=1,
                bucket=reservation.bucket, job=job, note="Given back: the video was not made",
            )
    return state


def credit_grant(*, user, amount: int, key: str, note: str) -> bool:
    """Give bonus credits that do not expire (a campaign, a support gesture), once per ``key``."""
    if amount <= 0:
        raise ValueError("A grant gives at least one credit.")
    return _write_once(key=f"grant:{key}", user=user, kind=CreditEntry.Kind.GRANT, amount=amount, bucket=BONUS_BUCKET, note=note)
