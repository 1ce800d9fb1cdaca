"""Staff see every model in the admin, with list columns, filters and search that work."""
import pytest
from django.contrib import admin
from django.urls import reverse

from generation.models import Job
from tests.factories import order_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(email="admin@example.com", password="x-long-pass-phrase"))
    return client


OUR_APPS = {"accounts", "studio", "generation", "shop"}


def test_every_model_of_ours_is_in_the_admin():
    from django.apps import apps

    ours = {model for app in OUR_APPS for model in apps.get_app_config(app).get_models()}
    assert ours and ours <= set(admin.site._registry)


@pytest.fixture
def shop_rows(user, make_premium):
    """One row of every shop model, made as the shop makes them."""
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone

    from shop.models import (
        Campaign,
        Cart,
        CartItem,
        FrameImage,
        FrameVariant,
        LaunchMode,
        OrderItem,
        Payment,
        Plan,
        PromoCode,
        StripeEvent,
    )
    from shop.services.campaigns import attribution_record, campaign_redeem
    from tests.conftest import CAT_PHOTO

    call_command("loaddata", "demo_frames", verbosity=0)
    variant = FrameVariant.objects.first()
    image = FrameImage(frame=variant.frame, alt="The Mini on a shelf")
    image.image.save("mini.jpg", ContentFile(CAT_PHOTO.read_bytes()))
    cart = Cart.objects.create(owner=user, currency="KRW")
    CartItem.objects.create(cart=cart, variant=variant, quantity=1, unit_price=variant.price_krw, currency="KRW")
    order = order_make(user, paid_at=timezone.now(), status="paid")
    OrderItem.objects.create(order=order, variant=variant, description=str(variant), sku=variant.sku, unit_price=89000, quantity=1)
    Payment.objects.create(order=order, kind="charge", stripe_id="pi_test", amount=89000, currency="KRW")
    StripeEvent.objects.create(event_id="evt_test", type="charge.refunded", created=timezone.now())
    make_premium(user)
    campaign = Campaign.objects.create(name="Spring walk", slug="spring-walk", grants_credits=3, grants_premium_days=7, trial_plan=Plan.objects.get(code="premium"))
    PromoCode.objects.create(campaign=campaign, code="SPRING")
    campaign_redeem(user=user, code="spring")  # a redemption, a credit grant and a Premium trial
    attribution_record(user=user, session={})
    LaunchMode.objects.get_or_create(pk=1)


def test_every_changelist_renders_with_search_and_each_filter(admin_client, finished_creation, shop_rows):
    from studio.models import ShareReport

    ShareReport.objects.create(creation=finished_creation, reason="other", reporter_key="a-visitor")
    from studio.devices.services import device_register, playlist_set

    device = device_register(name="Hall").device
    device.owner = finished_creation.owner
    device.save()
    playlist_set(device=device, creations=[finished_creation])
    from studio.devices.services import frame_member_invite

    frame_member_invite(device=device, email="gran@example.com", invited_by=finished_creation.owner)
    from generation.services import engines_report

    engines_report(worker="cpu@box:1", queues={"cpu"})
    from generation.models import WorkerHeartbeat
    from generation.services import worker_heartbeat

    worker_heartbeat(queues={"cpu"})
    WorkerHeartbeat.objects.update(job=finished_creation.job)
    from accounts.services import data_export_request

    data_export_request(user=finished_creation.owner)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert admin_client.get(url, {"q": "chelsea"}).status_code == 200, url
        obj = model.objects.first()
        assert obj is not None, f"no {model.__name__} to open"
        change = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(change).status_code == 200, change


def test_the_job_list_shows_state_timings_and_errors(admin_client, make_creation, user):
    from generation.services import job_fail

    job = make_creation(user).job
    job_fail(job_id=job.pk, reason="The photo was too dark.")
    page = admin_client.get(reverse("admin:generation_job_changelist"), {"state__exact": "failed"}).content.decode()
    assert "The photo was too dark." in page and "living-photo" in page and "Run time" in page


def test_staff_can_cancel_a_queued_job_from_the_admin(admin_client, make_creation, user):
    job = make_creation(user).job
    admin_client.post(reverse("admin:generation_job_changelist"), {"action": "cancel_jobs", "_selected_action": [job.pk]})
    assert Job.objects.get(pk=job.pk).state == Job.State.CANCELED


def test_staff_can_make_a_failed_video_again_from_the_admin(admin_client, make_creation, user):
    from generation.services import job_fail
    from studio.models import Creation

    creation = make_creation(user)
    job_fail(job_id=creation.job_id, reason="Out of memory.")
    admin_client.post(reverse("admin:studio_creation_changelist"), {"action": "make_again", "_selected_action": [creation.pk]})
    assert Creation.objects.get(pk=creation.pk).job.state == Job.State.QUEUED
    assert Job.objects.count() == 2


def test_packing_slips_show_prices_except_on_gifts(admin_client, user):
    from shop.models import OrderItem

    def order(**fields):
        made = order_make(user, total=149000, status="paid", ship_name="Lee Soonja", **fields)
        OrderItem.objects.create(order=made, description="PetMemories Classic 10.1″ Walnut", sku="CLASSIC-10-WALNUT", unit_price=149000, quantity=1)
        return made

    gift, own = order(is_gift=True, gift_recipient_name="Grandma Lee", gift_message="Nabi, always"), order()
    page = admin_client.post(reverse("admin:shop_order_changelist"), {"action": "packing_slips", "_selected_action": [gift.pk, own.pk]}).content.decode()
    gift_slip = page[page.index(f'id="slip-{gift.number}"'):]
    gift_slip = gift_slip[: gift_slip.index("</section>")]
    own_slip = page[page.index(f'id="slip-{own.number}"'):]
    own_slip = own_slip[: own_slip.index("</section>")]
    assert "CLASSIC-10-WALNUT" in gift_slip and "₩" not in gift_slip and "Nabi, always" in gift_slip
    assert "₩149,000" in own_slip


def test_a_refund_of_nothing_is_refused_rather_than_read_as_everything():
    from shop.admin import RefundForm

    assert not RefundForm({"amount": "0"}).is_valid()
    assert RefundForm({"amount": ""}).is_valid() and RefundForm({"amount": "0.01"}).is_valid()
