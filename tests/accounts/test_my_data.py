"""A customer's own data: deleting a creation, deleting the account, exporting everything, and
a storage that keeps no file nobody points to."""
import io
import json
import os
import socket
import time
import zipfile
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.exports import data_exports_expire
from accounts.models import DataExport, User
from accounts.tasks import build_data_export
from generation.models import Job
from generation.services import job_transition
from shop.models import Cart, CreditEntry, Order, PlanPrice, Subscription
from shop.selectors import credit_balance, plan_for
from studio.models import Creation, Device, PlaylistItem
from studio.services import creation_delete, creation_set_shared

pytestmark = pytest.mark.django_db


def stored_files(root) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def creation_files(creation) -> set[str]:
    job = creation.job
    return {creation.photo.name, job.video.file.name, job.animation.file.name, job.poster.file.name}


def paired_frame(owner, *creations) -> Device:
    device = Device.objects.create(owner=owner, name="Living room", paired_at=timezone.now())
    PlaylistItem.objects.bulk_create(PlaylistItem(device=device, creation=creation, position=i) for i, creation in enumerate(creations))
    return device


# --- Deleting a creation ----------------------------------------------------------------------

def test_deleting_a_creation_takes_its_page_link_files_and_playlist_places_and_keeps_the_credit_history(
    owner_client, user, finished_creation, media_root, django_capture_on_commit_callbacks
):
    creation = creation_set_shared(creation=finished_creation, shared=True)
    share_url, page_url = creation.get_share_url(), creation.get_absolute_url()
    paired_frame(user, creation)
    assert creation_files(creation) <= stored_files(media_root)
    ledger = list(CreditEntry.objects.filter(user=user).values_list("pk", "kind", "amount"))

    assert reverse("studio:creation-delete", args=[creation.pk]) in owner_client.get(page_url).content.decode()
    confirm = owner_client.get(reverse("studio:creation-delete", args=[creation.pk]))
    assert confirm.status_code == 200 and "Delete it for good" in confirm.content.decode()
    assert Creation.objects.filter(pk=creation.pk).exists()  # asking is not deleting

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("studio:creation-delete", args=[creation.pk]))
    assert response.status_code == 302 and response.url == reverse("studio:gallery")
    assert owner_client.get(page_url).status_code == 404
    assert Client().get(share_url).status_code == 404
    assert not PlaylistItem.objects.exists() and not Job.objects.exists()
    assert stored_files(media_root) == set()
    assert list(CreditEntry.objects.filter(user=user).values_list("pk", "kind", "amount")) == ledger


def test_staff_deleting_a_creation_in_the_admin_leaves_no_file_behind(
    django_user_model, user, finished_creation, media_root, django_capture_on_commit_callbacks
):
    staff = django_user_model.objects.create_user(email="support@example.com", password="a-long-pass-phrase", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_creation", "delete_creation"]))
    client = Client()
    client.force_login(staff)
    assert creation_files(finished_creation) <= stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:studio_creation_delete", args=[finished_creation.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Creation.objects.exists() and not Job.objects.exists()
    assert stored_files(media_root) == set()


def test_only_the_owner_can_delete_a_creation_and_only_by_post(client, finished_creation, other_user):
    url = reverse("studio:creation-delete", args=[finished_creation.pk])
    client.force_login(other_user)
    assert client.post(url).status_code == 404
    client.force_login(finished_creation.owner)
    assert client.put(url).status_code == 405
    assert Creation.objects.filter(pk=finished_creation.pk).exists()


def test_deleting_a_creation_whose_video_is_being_made_cancels_it_and_gives_the_credit_back_once(user, make_creation):
    creation = make_creation(user)
    job_transition(job_id=creation.job_id, to=Job.State.RUNNING)
    plan = plan_for(user=user)
    assert credit_balance(user=user, plan=plan) == plan.monthly_credits - 1

    creation_delete(creation=creation)

    assert not Job.objects.exists()
    assert credit_balance(user=user, plan=plan) == plan.monthly_credits
    assert sorted(CreditEntry.objects.filter(user=user).values_list("kind", "amount")) == [
        ("allowance", plan.monthly_credits), ("release", 1), ("reserve", -1),
    ]


# --- Deleting my account ------------------------------------------------------------------------

@pytest.fixture
def order(user):
    return Order.objects.create(
        customer=user, email=user.email, currency="KRW", subtotal=Decimal(149000), total=Decimal(149000), status="paid",
        amount_paid=Decimal(149000), ship_name="Minji Kim", ship_line1="12 Sejong-daero", ship_city="Seoul",
        ship_postal_code="04524", ship_country="KR", is_gift=True, gift_recipient_name="Grandma Lee",
        gift_recipient_email="grandma@example.com", gift_message="Nabi, always with you",
    )


def test_deleting_my_account_takes_everything_personal_and_keeps_orders_blanked(
    client, user, other_user, finished_creation, make_creation, order, media_root, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Cart.objects.create(owner=user, currency="KRW")
    left_at_checkout = Order.objects.create(customer=user, email=user.email, currency="KRW", subtotal=Decimal(69000), total=Decimal(69000))
    paired_frame(user, finished_creation)
    strangers_creation = make_creation(other_user)
    elsewhere = Client()
    elsewhere.force_login(user)  # a second signed-in browser
    client.force_login(user)

    assert client.get(reverse("accounts:delete")).status_code == 200
    wrong = client.post(reverse("accounts:delete"), {"confirmation": "not-my-password"})
    assert wrong.status_code == 400 and User.objects.filter(pk=user.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:delete"), {"confirmation": "OWNER@example.com"})

    assert response.status_code == 302 and response.url == reverse("home")
    assert not User.objects.filter(pk=user.pk).exists()
    assert list(Creation.objects.all()) == [strangers_creation]
    assert list(Job.objects.all()) == [strangers_creation.job]
    assert not Device.objects.exists() and not Cart.objects.exists() and not EmailAddress.objects.exists()
    assert not CreditEntry.objects.filter(user_id=user.pk).exists()
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    assert elsewhere.get(reverse("studio:gallery")).status_code == 302  # signed out there too
    assert stored_files(media_root) == {strangers_creation.photo.name}

    order.refresh_from_db()
    assert order.customer is None and (order.number, order.total, order.amount_paid, order.ship_country) == (order.number, 149000, 149000, "KR")
    assert not any([order.email, order.ship_name, order.ship_line1, order.ship_city, order.ship_postal_code,
                    order.gift_recipient_name, order.gift_recipient_email, order.gift_message])
    assert Order.objects.get(pk=left_at_checkout.pk).status == "canceled"
    [goodbye] = mail.outbox
    assert goodbye.to == ["owner@example.com"] and goodbye.subject == "Your PetMemories account was deleted"


def test_staff_deleting_an_account_in_the_admin_deletes_it_as_its_owner_would(
    admin_client, user, order, media_root, django_capture_on_commit_callbacks
):
    user.creations.create(photo=default_storage.save("photos/nabi.jpg", ContentFile(b"a photo")))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})
    assert response.status_code == 302 and not User.objects.filter(pk=user.pk).exists()
    order.refresh_from_db()
    assert order.customer is None and order.ship_name == "" and order.gift_message == ""
    assert stored_files(media_root) == set()
    assert [message.subject for message in mail.outbox] == ["Your PetMemories account was deleted"]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_when_stripe_cannot_cancel_the_subscription_nothing_is_deleted(
    client, user, finished_creation, make_premium, order, settings, media_root, django_capture_on_commit_callbacks
):
    settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE = "sk_test_unreachable", closed_port_url()
    make_premium(user)
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:delete"), {"confirmation": "a-long-pass-phrase"})

    assert response.status_code == 400
    assert "could not reach our payment service" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists() and Creation.objects.filter(pk=finished_creation.pk).exists()
    assert Order.objects.get(pk=order.pk).ship_name == "Minji Kim"
    assert Subscription.objects.get(user=user).status == "active"
    assert creation_files(finished_creation) <= stored_files(media_root)
    assert not mail.outbox


@pytest.fixture
def stripe(stripe_api, live_server, settings):
    """…and Stripe's webhooks delivered to our endpoint on a live server."""
    settings.SITE_URL = live_server.url
    stripe_api.set_webhook(live_server.url + reverse("shop:stripe-webhook"), settings.STRIPE_WEBHOOK_SECRET)
    return stripe_api


@pytest.mark.django_db(transaction=True)
def test_deleting_my_account_cancels_my_premium_subscription_in_stripe(client, user, stripe):
    client.force_login(user)
    price = PlanPrice.objects.get(plan__code="premium", interval="month", currency="KRW")
    client.post(reverse("shop:currency"), {"currency": "KRW"})
    stripe.complete_checkout(client.post(reverse("shop:subscribe", args=[price.pk])).url.rsplit("/", 1)[1])
    subscription_id = Subscription.objects.get(user=user).stripe_subscription_id
    assert stripe.client().v1.subscriptions.retrieve(subscription_id).status == "active"

    response = client.post(reverse("accounts:delete"), {"confirmation": user.email})

    assert response.status_code == 302 and not User.objects.filter(pk=user.pk).exists()
    assert stripe.client().v1.subscriptions.retrieve(subscription_id).status == "canceled"


# --- Exporting my data --------------------------------------------------------------------------

def request_and_build_export(client, django_capture_on_commit_callbacks) -> DataExport:
    with django_capture_on_commit_callbacks() as enqueued:
        client.post(reverse("accounts:export-request"))
    export = DataExport.objects.get()
    assert export.state == "preparing" and len(enqueued) == 1  # the worker gets it after commit
    assert "being prepared" in client.get(reverse("accounts:my-data")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        build_data_export(str(export.pk))  # what the worker runs
    export.refresh_from_db()
    return export


def test_my_data_export_is_built_by_a_worker_and_downloaded_by_me_alone(
    owner_client, user, other_user, finished_creation, order, make_premium, django_capture_on_commit_callbacks
):
    make_premium(user)
    paired_frame(user, finished_creation)
    assert reverse("accounts:my-data") in owner_client.get(reverse("account_email")).content.decode()
    page = owner_client.get(reverse("accounts:my-data")).content.decode()
    assert "Request a copy of my data" in page and reverse("accounts:delete") in page

    export = request_and_build_export(owner_client, django_capture_on_commit_callbacks)

    assert export.state == "ready" and export.expires_at > timezone.now() + timezone.timedelta(days=6)
    download_url = reverse("accounts:export-download", args=[export.pk])
    assert download_url in owner_client.get(reverse("accounts:my-data")).content.decode()
    [ready] = mail.outbox
    assert ready.to == [user.email] and "ready" in ready.subject and reverse("accounts:my-data") in ready.body

    response = owner_client.get(download_url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == user.email
    [creation] = data["creations"]
    assert creation["title"] == "Chelsea" and creation["id"] == str(finished_creation.pk)
    for kind, fieldfile in [("photo", finished_creation.photo), ("video", finished_creation.job.video.file),
                            ("gif", finished_creation.job.animation.file), ("poster", finished_creation.job.poster.file)]:
        with fieldfile.open("rb") as stored:
            assert archive.read(creation["files"][kind]) == stored.read()
    assert [o["number"] for o in data["orders"]] == [order.number] and data["orders"][0]["gift_message"] == "Nabi, always with you"
    assert [s["status"] for s in data["subscriptions"]] == ["active"]
    assert data["frames"][0]["playlist"] == [str(finished_creation.pk)]
    assert {entry["kind"] for entry in data["credits"]} >= {"allowance", "reserve"}

    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(download_url).status_code == 404


def test_an_expired_export_answers_404_and_its_file_is_deleted(owner_client, finished_creation, django_capture_on_commit_callbacks):
    export = request_and_build_export(owner_client, django_capture_on_commit_callbacks)
    assert default_storage.exists(export.file.name)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))

    assert owner_client.get(reverse("accounts:export-download", args=[export.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert data_exports_expire() == 1
    assert not default_storage.exists(export.file.name) and not DataExport.objects.exists()
    assert "Request a copy of my data" in owner_client.get(reverse("accounts:my-data")).content.decode()


# --- No orphans in storage ----------------------------------------------------------------------

def age(root, name: str, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(root / name, (then, then))


def test_the_sweeper_removes_an_orphan_after_the_grace_period_and_never_a_referenced_file(finished_creation, media_root, settings):
    settings.STORAGE_SWEEP_GRACE_HOURS = 24
    old_orphan = default_storage.save("renders/999/video.mp4", ContentFile(b"left behind by a crashed worker"))
    young_orphan = default_storage.save("photos/upload-in-progress.jpg", ContentFile(b"its row is not written yet"))
    age(media_root, old_orphan, hours=25)
    age(media_root, young_orphan, hours=23)
    for name in creation_files(finished_creation):
        age(media_root, name, hours=48)

    dry = io.StringIO()
    call_command("sweep_storage", "--dry-run", stdout=dry)
    assert f"would remove {old_orphan}" in dry.getvalue() and default_storage.exists(old_orphan)

    call_command("sweep_storage", stdout=io.StringIO())
    assert not default_storage.exists(old_orphan)
    assert stored_files(media_root) == creation_files(finished_creation) | {young_orphan}


def test_every_periodic_task_names_a_task_the_workers_know(settings):
    from petmemories.celery import app  # as the workers and beat load it (celery -A petmemories)

    app.loader.import_default_modules()
    assert {"accounts.expire_data_exports", "generation.sweep_storage"} <= {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(app.tasks)
