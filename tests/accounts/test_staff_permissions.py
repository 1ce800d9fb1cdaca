"""Staff do in the admin exactly what their permissions say. Every action and page of ours is
tried by staff holding exactly one permission; the roles are groups whose permissions are the
table in docs/operations.md; no secret of a frame ever shows in the admin."""
import hashlib
import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from generation.models import Pastime
from partners.services import organisation_create
from shop.models import Campaign, Order
from studio.models import Creation, Device, ShareReport
from tests.conftest import ROOT, SHIPPING, buy
from tests.factories import client_for, order_make, staff_make

pytestmark = pytest.mark.django_db


def docs_table(first_header: str) -> list[list[str]]:
    """The rows of the table in docs/operations.md whose first column is headed so."""
    lines = (ROOT / "docs" / "operations.md").read_text().splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return [rows[0]] + rows[2:]  # without the |---| line


def code(cell: str) -> str:
    return re.match(r"`([^`]+)`", cell).group(1)


def documented_roles() -> dict[str, set[str]]:
    """Group → {"app.codename"} from the roles table ("view, change" under a group on the row
    `shop.order` is shop.view_order and shop.change_order)."""
    header, *rows = docs_table("model")
    roles = {group: set() for group in header[1:]}
    for row in rows:
        app, model = code(row[0]).split(".")
        for group, cell in zip(header[1:], row[1:], strict=True):
            roles[group] |= {f"{app}.{action.strip()}_{model}" for action in cell.split(",") if action.strip() != "—"}
    return roles


# (admin list, action or URL name, the permission it needs or "superuser")
NEEDS = [(code(row[0]), code(row[1]), row[2].strip("`")) for row in docs_table("admin list")[1:]]
# Each action is tried by staff holding one of these, and by a superuser.
CANDIDATES = sorted({needed for _, _, needed in NEEDS} | {f"{label.split('.')[0]}.view_{label.split('.')[1]}" for label, _, _ in NEEDS})


def staff_client(django_user_model, permission: str) -> Client:
    """Logged in as staff holding exactly ``permission`` ("superuser": a superuser)."""
    if permission == "superuser":
        return client_for(staff_make(f"staff-{permission}@example.com", superuser=True))
    return client_for(staff_make(f"staff-{permission}@example.com", permissions=[permission]))


def changelist(label: str) -> str:
    return reverse("admin:{}_{}_changelist".format(*label.split(".")))


def action_ran(response) -> bool:
    """Whether a POSTed admin action ran: refused ones answer 403, show the list again (nobody
    may run anything on it), or go back to it saying no action was chosen."""
    if response.status_code == 403:
        return False
    if response.status_code == 200 and "admin/change_list.html" in [template.name for template in response.templates]:
        return False
    return "No action selected." not in [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def rows(user, make_creation):
    """One row for each list an action is on: a paid order, a queued video with a report on
    its page, an unverified email address, a campaign, a customer."""
    order = order_make(user, status="paid", paid_at=timezone.now())
    order.items.create(description="PetMemories Mini 8.0″ Snow", sku="MINI-8-SNOW", unit_price=89000, quantity=1)
    creation = make_creation(user)
    return {
        "shop.order": order,
        "studio.creation": creation,
        "studio.sharereport": ShareReport.objects.create(creation=creation, reason="other", reporter_key="a-visitor"),
        "generation.job": creation.job,
        "account.emailaddress": EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True),
        "shop.campaign": Campaign.objects.create(name="Spring walk", slug="spring-walk"),
        "accounts.user": user,
        "generation.pastime": Pastime.objects.get(slug="golf"),
        "partners.organisation": organisation_create(name="Haneul Funeral Services", slug="haneul"),
    }


@pytest.mark.parametrize("permission", [*CANDIDATES, "superuser"])
@pytest.mark.parametrize(("label", "name", "needed"), NEEDS, ids=[name for _, name, _ in NEEDS])
def test_each_action_and_page_is_open_exactly_to_the_permission_it_needs(django_user_model, rows, label, name, needed, permission):
    client = staff_client(django_user_model, permission)
    allowed = permission in (needed, "superuser")
    target = rows[label]
    if name.startswith("admin:"):
        try:
            page = reverse(name, args=[target.pk])
        except NoReverseMatch:  # a page of the whole list
            page = reverse(name)
        assert client.get(page).status_code == (200 if allowed else 403)
        return
    listing = client.get(changelist(label))
    actions = listing.status_code == 200 and listing.context["action_form"]  # None when nothing may be run here
    offered = bool(actions) and name in dict(actions.fields["action"].choices)
    ran = action_ran(client.post(changelist(label), {"action": name, "_selected_action": [target.pk]}))
    assert (offered, ran) == (allowed, allowed)


def test_every_action_and_page_of_the_admin_is_in_the_table_and_asks_for_a_permission():
    documented = {(label, name) for label, name, _ in NEEDS}
    found = set()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        for func, name, _ in model_admin._get_base_actions():
            if name != "delete_selected":  # Django's own, which asks for the delete permission
                assert hasattr(func, "allowed_permissions"), f"{label}: {name} asks for no permission"
                found.add((label, name))
        standard = {f"{model._meta.app_label}_{model._meta.model_name}_{view}" for view in ("changelist", "add", "history", "delete", "change")}
        found |= {(label, f"admin:{url.name}") for url in model_admin.get_urls() if url.name and url.name not in standard}
    assert found == documented


def test_the_staff_groups_hold_what_the_documented_matrix_says():
    roles = documented_roles()
    assert set(roles) == {"Support", "Fulfilment", "Marketing", "Finance"}
    for name, permissions in roles.items():
        group = Group.objects.get(name=name)
        assert {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")} == permissions, name


def test_a_role_s_permissions_each_open_a_list_of_the_admin(django_user_model):
    """No documented permission is a dead letter: each group member gets the lists it names."""
    for name, permissions in documented_roles().items():
        client = client_for(staff_make(f"{name.lower()}@example.com", groups=[name]))
        for label in {permission.split("_", 1)[1] for permission in permissions}:
            app = next(permission.split(".")[0] for permission in permissions if permission.endswith(f"_{label}"))
            assert client.get(reverse(f"admin:{app}_{label}_changelist")).status_code == 200, (name, label)


# --- The attacks from issue 9 ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_staff_who_may_only_view_orders_cannot_refund_one_through_stripe(client, user, stripe_api, live_server, settings, django_user_model):
    settings.SITE_URL = live_server.url
    stripe_api.set_webhook(live_server.url + reverse("shop:stripe-webhook"), settings.STRIPE_WEBHOOK_SECRET)
    order = buy(client, user, "GALLERY-15-BLACK")
    stripe_api.complete_checkout(order.checkout_session_id, shipping=SHIPPING)
    refund = {"action": "refund", "_selected_action": [order.pk], "confirm": "1", "amount": ""}

    def refunded_at_stripe() -> int:
        intent = stripe_api.client().v1.payment_intents.retrieve(Order.objects.get(pk=order.pk).payment_intent_id)
        charge_id = intent.latest_charge if isinstance(intent.latest_charge, str) else intent.latest_charge.id
        return stripe_api.client().v1.charges.retrieve(charge_id).amount_refunded

    staff_client(django_user_model, "shop.view_order").post(changelist("shop.order"), refund)
    assert refunded_at_stripe() == 0 and Order.objects.get(pk=order.pk).amount_refunded == 0

    staff_client(django_user_model, "shop.refund_order").post(changelist("shop.order"), refund)
    assert refunded_at_stripe() == 259000 and Order.objects.get(pk=order.pk).amount_refunded == 259000


def test_staff_who_may_only_view_orders_cannot_cancel_one(django_user_model, user):
    order = order_make(user)
    cancel = {"action": "cancel", "_selected_action": [order.pk]}
    staff_client(django_user_model, "shop.view_order").post(changelist("shop.order"), cancel)
    assert Order.objects.get(pk=order.pk).status == "pending"
    staff_client(django_user_model, "shop.change_order").post(changelist("shop.order"), cancel)
    assert Order.objects.get(pk=order.pk).status == "canceled"


def test_staff_who_may_only_view_cannot_take_a_shared_page_down(django_user_model, finished_creation, django_capture_on_commit_callbacks):
    Creation.objects.filter(pk=finished_creation.pk).update(is_shared=True, share_token="a-share-token")
    report = ShareReport.objects.create(creation=finished_creation, reason="other", reporter_key="a-visitor")
    client = client_for(staff_make("viewer@example.com", permissions=["studio.view_sharereport", "studio.view_creation"]))
    take_down = {"action": "take_down", "_selected_action": [report.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist("studio.sharereport"), take_down)
    assert Creation.objects.get(pk=finished_creation.pk).is_shared and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        staff_client(django_user_model, "studio.change_creation").post(changelist("studio.sharereport"), take_down)
    assert not Creation.objects.get(pk=finished_creation.pk).is_shared and len(mail.outbox) == 1


def register_frame() -> dict:
    response = Client().post("/api/frames/register", json.dumps({"name": "Warehouse"}), content_type="application/json")
    assert response.status_code == 201
    return response.json()


def make_frames(client, order, *codes):
    return client.post(changelist("shop.order"), {"action": "make_frames", "_selected_action": [order.pk], "confirm": "1", f"order-{order.pk}-codes": " ".join(codes)})


def test_staff_who_may_only_view_orders_and_frames_cannot_make_frames(django_user_model, rows):
    frame = register_frame()
    client = client_for(staff_make("viewer@example.com", permissions=["shop.view_order", "studio.view_device"]))
    make_frames(client, rows["shop.order"], frame["pairing_code"])
    assert not rows["shop.order"].devices.exists() and not Device.objects.filter(owner__isnull=False).exists()


def test_a_frame_s_token_and_pairing_code_never_show_in_any_admin_page(admin_client, rows, user, finished_creation):
    order = rows["shop.order"]
    order.preload.set([finished_creation])
    frame, waiting = register_frame(), register_frame()
    made = make_frames(admin_client, order, frame["pairing_code"].lower())
    pages = [made.content.decode(), admin_client.get(made.url).content.decode()]  # the action's messages
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).content.decode())
        pages += [admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[pk])).content.decode() for pk in model.objects.values_list("pk", flat=True)[:5]]
    pages.append(admin_client.get(reverse("admin:studio_device_change", args=[waiting["device_id"]])).content.decode())
    # Any word on any page that hashes to a frame's token hash is a token, whoever made it.
    words = {word for page in pages for word in re.findall(r"[\w-]{20,}", page)}
    hashes = set(Device.objects.exclude(token_hash=None).values_list("token_hash", flat=True))
    assert not {hashlib.sha256(word.encode()).hexdigest() for word in words} & hashes
    assert not [secret for secret in [*hashes, waiting["pairing_code"]] for page in pages if secret in page]
    assert Device.objects.get(pk=frame["device_id"]).owner == user


def test_staff_who_may_change_frames_cannot_point_one_at_someone_else_s_videos(django_user_model, user, finished_creation):
    """A frame of the staff member's own (its token known to them) given the customer as owner
    and the customer's video would download that private video."""
    frame = register_frame()
    client = staff_client(django_user_model, "studio.change_device")
    client.post(reverse("admin:studio_device_change", args=[frame["device_id"]]), {
        "name": "Mine", "owner": user.pk, "screen_width": 1920, "screen_height": 1080, "loop": "on", "seconds_per_video": 30,
        "playlist-TOTAL_FORMS": "1", "playlist-INITIAL_FORMS": "0", "playlist-MIN_NUM_FORMS": "0", "playlist-MAX_NUM_FORMS": "1000",
        "playlist-0-creation": finished_creation.pk, "playlist-0-position": "0",
    })
    assert client.get(reverse("admin:studio_playlistitem_add")).status_code == 403
    device = Device.objects.get(pk=frame["device_id"])
    assert device.owner is None and not device.playlist.exists()


def test_staff_who_may_change_creations_cannot_give_one_away_or_publish_it(django_user_model, other_user, finished_creation):
    Creation.objects.filter(pk=finished_creation.pk).update(share_token="an-old-share-token")  # shared once, then unshared
    client = staff_client(django_user_model, "studio.change_creation")
    response = client.post(reverse("admin:studio_creation_change", args=[finished_creation.pk]), {
        "title": "Chelsea asleep", "owner": other_user.pk, "is_shared": "on", "aspect_ratio": "16:9",
    })
    assert response.status_code == 302
    creation = Creation.objects.get(pk=finished_creation.pk)
    assert (creation.title, creation.owner, creation.is_shared, creation.aspect_ratio) == ("Chelsea asleep", finished_creation.owner, False, "1:1")


def test_staff_make_a_gift_order_s_frames_with_the_codes_their_screens_show(admin_client, rows, finished_creation, django_capture_on_commit_callbacks):
    order = rows["shop.order"]
    Order.objects.filter(pk=order.pk).update(is_gift=True, gift_recipient_name="Grandma Lee", gift_recipient_email="grandma@example.com")
    order.items.update(quantity=2)
    order.preload.set([finished_creation])
    first, second, stranger = register_frame(), register_frame(), register_frame()
    form = admin_client.post(changelist("shop.order"), {"action": "make_frames", "_selected_action": [order.pk]})
    assert f'name="order-{order.pk}-codes"' in form.content.decode()
    one_short = make_frames(admin_client, order, first["pairing_code"])
    assert "needs one code per frame (2)" in admin_client.get(one_short.url).content.decode() and not order.devices.exists()
    with django_capture_on_commit_callbacks(execute=True):
        make_frames(admin_client, order, first["pairing_code"], second["pairing_code"])
    made = Device.objects.filter(order=order)
    assert {str(device.pk) for device in made} == {first["device_id"], second["device_id"]}
    assert all(device.owner is None and device.playlist.get().creation == finished_creation for device in made)
    assert mail.outbox[0].to == ["grandma@example.com"]
    assert Device.objects.get(pk=stranger["device_id"]).order is None


# --- Accounts: support looks after customers without gaining powers -----------------------


@pytest.fixture
def support_client(django_user_model):
    person = staff_make("support@example.com", groups=["Support"])
    client = client_for(person)
    client.person = person
    return client


def user_form(person, **changes) -> dict:
    return {
        "email": person.email, "first_name": "Minji", "last_name": "Kim", "language": "ko", "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", **changes,
    }


def test_support_edit_a_customer_but_not_their_email_or_powers(support_client, user):
    response = support_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        user_form(user, email="attacker@example.com", is_staff="on", is_superuser="on"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert (user.first_name, user.language, user.email, user.is_staff, user.is_superuser) == ("Minji", "ko", "owner@example.com", False, False)


def test_support_cannot_make_themselves_superuser_or_set_anyone_s_password(support_client, user):
    me = support_client.person
    response = support_client.post(reverse("admin:accounts_user_change", args=[me.pk]), user_form(me, is_staff="on", is_superuser="on"))
    assert response.status_code == 403
    me.refresh_from_db()
    assert not me.is_superuser and not me.groups.exclude(name="Support").exists()
    password = {"password1": "a-new-long-pass-phrase", "password2": "a-new-long-pass-phrase"}
    assert support_client.post(reverse("admin:auth_user_password_change", args=[user.pk]), password).status_code == 403
    user.refresh_from_db()
    assert not user.check_password("a-new-long-pass-phrase")


# --- The admin index ---------------------------------------------------------------------


def test_the_admin_index_names_each_section_once(admin_client):
    sections = [app["name"] for app in admin_client.get(reverse("admin:index")).context["app_list"]]
    assert len(sections) == len(set(sections)) and {"Accounts", "Email addresses"} <= set(sections)


def test_a_sign_in_provider_s_secret_is_for_superusers_and_is_never_shown_again(admin_client, django_user_model):
    from allauth.socialaccount.models import SocialApp

    app = SocialApp.objects.create(provider="kakao", name="Kakao", client_id="kakao-client", secret="kakao-secret-8d1f")
    change = reverse("admin:socialaccount_socialapp_change", args=[app.pk])
    page = admin_client.get(change).content.decode()
    assert "kakao-client" in page and "kakao-secret-8d1f" not in page
    admin_client.post(change, {"provider": "kakao", "provider_id": "", "name": "Kakao (renamed)", "client_id": "kakao-client", "secret": "", "key": ""})
    app.refresh_from_db()
    assert (app.name, app.secret) == ("Kakao (renamed)", "kakao-secret-8d1f")  # left empty: the stored secret stays

    staff = staff_client(django_user_model, "socialaccount.change_socialapp")
    assert staff.get(change).status_code == 403 and staff.get(changelist("socialaccount.socialapp")).status_code == 403
    assert admin_client.get(reverse("admin:index")).content.decode().count("socialtoken") == 0


def test_staff_who_may_view_frame_members_see_who_was_invited_but_change_nothing(django_user_model, user):
    from studio.devices import services as devices
    from studio.models import FrameMember

    registration = devices.device_register(name="Hall")
    device = devices.device_pair(user=user, code=registration.device.pairing_code)
    member = devices.frame_member_invite(device=device, email="gran@example.com", invited_by=user)
    client = client_for(staff_make("support@example.com", permissions=["studio.view_framemember"]))
    listing = client.get(reverse("admin:studio_framemember_changelist"))
    assert listing.status_code == 200 and "gran@example.com" in listing.content.decode()
    page = client.get(reverse("admin:studio_framemember_change", args=[member.pk])).content.decode()
    assert "gran@example.com" in page and member.token_hash not in page and 'name="_save"' not in page
    assert client.get(reverse("admin:studio_framemember_add")).status_code == 403
    assert client.post(reverse("admin:studio_framemember_delete", args=[member.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:studio_framemember_changelist"), {"action": "delete_selected", "_selected_action": [member.pk], "post": "yes"}).status_code in (200, 302)
    assert FrameMember.objects.filter(pk=member.pk).exists()
    # Without the permission, nothing of it.
    assert client_for(staff_make("other@example.com", permissions=["studio.view_device"])).get(reverse("admin:studio_framemember_changelist")).status_code == 403
