"""Credits: one reserved per video, consumed when it is made, given back when it is not — once."""
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from generation.engines import InvalidSettings
from generation.models import Job
from generation.services import job_cancel, job_fail
from shop.models import CreditEntry, CreditReservation, Plan
from shop.selectors import credit_balance, plan_for
from shop.services.credits import NoCreditsLeft, credit_grant, credit_reserve, credit_settle
from tests.conftest import require, run_job
from tests.factories import job_make
from tests.races import race

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return credit_balance(user=user)


def test_each_video_reserves_a_credit_and_the_month_s_allowance_runs_out(make_creation, user, owner_client, photo_bytes):
    assert balance(user) == 5
    for _ in range(5):
        make_creation(user)
    assert balance(user) == 0
    with pytest.raises(NoCreditsLeft, match="You have made all 5 videos of your Free plan this month"):
        make_creation(user)
    assert Job.objects.count() == 5  # the refused one stored nothing
    response = owner_client.post(reverse("studio:creation-new"), {"photo": _upload(photo_bytes), "aspect_ratio": "1:1", "engine": "living-photo", "height": 480})
    assert response.status_code == 400 and "You have made all 5 videos" in response.content.decode()
    assert Job.objects.count() == 5


def _upload(photo_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("cat.jpg", photo_bytes, content_type="image/jpeg")


def test_a_made_video_consumes_its_credit(make_creation, user):
    job = run_job(make_creation(user).job_id)
    assert job.state == Job.State.SUCCEEDED
    assert CreditReservation.objects.get(job=job).state == "consumed"
    assert balance(user) == 4


@pytest.mark.parametrize("finish", [lambda job: job_fail(job_id=job.pk, reason="Out of memory."), lambda job: job_cancel(job_id=job.pk)], ids=["failed", "canceled"])
def test_a_video_that_is_not_made_gives_its_credit_back_exactly_once(make_creation, user, finish):
    job = make_creation(user).job
    assert balance(user) == 4
    job = finish(job)
    assert balance(user) == 5
    assert credit_settle(job=job) is None and credit_settle(job=job) is None  # a task that runs twice
    assert balance(user) == 5
    assert list(CreditEntry.objects.filter(job=job).values_list("kind", "amount")) == [("release", 1), ("reserve", -1)]


def test_making_a_failed_video_again_reserves_a_new_credit(make_creation, user, owner_client):
    creation = make_creation(user)
    job_fail(job_id=creation.job_id, reason="Out of memory.")
    owner_client.post(reverse("studio:creation-retry", args=[creation.pk]))
    assert balance(user) == 4 and CreditReservation.objects.filter(state="reserved").count() == 1


def test_bonus_credits_are_spent_after_the_allowance_and_a_grant_is_given_once(make_creation, user):
    assert credit_grant(user=user, amount=2, key="campaign-7-user-1", note="Spring campaign")
    assert not credit_grant(user=user, amount=2, key="campaign-7-user-1", note="Spring campaign")
    assert balance(user) == 7
    for _ in range(6):
        make_creation(user)
    assert list(CreditReservation.objects.values_list("bucket", flat=True).order_by("pk"))[-1] == "bonus"
    assert balance(user) == 1


def test_a_new_month_brings_a_new_allowance(make_creation, user, monkeypatch):
    for _ in range(5):
        make_creation(user)
    next_month = timezone.now() + timedelta(days=32)
    monkeypatch.setattr(timezone, "now", lambda: next_month)
    assert balance(user) == 5


def test_premium_gives_its_allowance_at_once_when_it_starts_mid_month(make_creation, make_premium, user):
    make_creation(user)
    assert balance(user) == 4
    make_premium(user)
    assert plan_for(user=user).code == "premium"
    assert balance(user) == 59  # 60 a month, one spent
    make_creation(user)
    assert CreditEntry.objects.filter(kind="allowance").count() == 2 and balance(user) == 58


def test_premium_jobs_go_first_without_a_watermark_up_to_1080p_and_free_ones_do_not(make_creation, make_premium, user, other_user):
    free = make_creation(other_user).job
    assert (free.priority, free.watermark) == (False, True)
    with pytest.raises(InvalidSettings, match="up to 720p"):
        make_creation(other_user, params={"height": 1080, "seconds": 2, "fps": 12})
    make_premium(user)
    premium = make_creation(user, params={"height": 1080, "seconds": 2, "fps": 12}).job
    assert (premium.priority, premium.watermark, premium.params["height"]) == (True, False, 1080)


def test_staff_change_a_plan_s_limits_in_the_admin_and_they_apply(make_creation, user):
    Plan.objects.filter(code="free").update(monthly_credits=1, max_height=1080, watermark=False)
    job = make_creation(user, params={"height": 1080, "seconds": 2, "fps": 12}).job
    assert job.watermark is False
    with pytest.raises(NoCreditsLeft):
        make_creation(user)


def test_a_past_due_subscription_keeps_premium_for_the_grace_period_only(make_premium, user):
    subscription = make_premium(user, status="past_due")
    subscription.past_due_since = timezone.now() - timedelta(days=6)
    subscription.save()
    assert plan_for(user=user).code == "premium"
    subscription.past_due_since = timezone.now() - timedelta(days=8)
    subscription.save()
    assert plan_for(user=user).code == "free"


@pytest.mark.django_db(transaction=True)
def test_two_uploads_at_once_cannot_spend_the_last_credit_twice(user):
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    plan = plan_for(user=user)  # a transactional test may start without the data migration's rows: this makes Free
    plan.monthly_credits = 2
    plan.save()
    # The month's allowance is granted and one video made: one credit is left, and nothing is
    # left to write but the reservations themselves.
    credit_reserve(user=user, job=job_make(owner=user), plan=plan)
    assert balance(user) == 1
    jobs = [job_make(owner=user) for _ in range(2)]

    outcomes = race(*[partial(credit_reserve, user=user, job=job, plan=plan) for job in jobs], writes_to=CreditReservation)

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["CreditReservation", "NoCreditsLeft"]
    assert balance(user) == 0 and CreditReservation.objects.count() == 2


def test_credit_months_follow_the_site_s_time_zone(settings):
    from shop.services.credits import credit_month

    settings.TIME_ZONE = "Asia/Seoul"
    moment = datetime(2026, 11, 30, 16, 0, tzinfo=ZoneInfo("UTC"))
    assert credit_month(moment) == "2026-12"  # already the 1st of December in Seoul


def test_the_upload_page_says_how_many_videos_are_left(owner_client, make_creation, user):
    make_creation(user)
    assert "4 videos left this month on Free." in owner_client.get(reverse("studio:creation-new")).content.decode()
