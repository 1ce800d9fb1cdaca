"""Staff see memorials and guestbook messages in the admin as their permissions allow."""
import pytest
from django.urls import reverse

from memorials.models import GuestbookMessage
from memorials.services import guestbook_message_create, memorial_create
from tests.factories import client_for, staff_make, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def memorial():
    memorial = memorial_create(owner=user_make(), name="Kim Okja", epitaph="Loved")
    guestbook_message_create(memorial=memorial, name="Minsu", message="We miss you.")
    return memorial


def test_staff_with_only_the_view_permission_see_but_cannot_change(memorial):
    staff = client_for(staff_make(permissions=["memorials.view_memorial"]))
    change_url = reverse("admin:memorials_memorial_change", args=[memorial.pk])
    assert "Kim Okja" in staff.get(reverse("admin:memorials_memorial_changelist")).content.decode()
    page = staff.get(change_url).content.decode()
    assert "Kim Okja" in page and 'name="name"' not in page  # shown, not as a field to edit
    assert staff.post(change_url, {"name": "Changed"}).status_code == 403
    assert staff.post(reverse("admin:memorials_memorial_delete", args=[memorial.pk]), {"post": "yes"}).status_code == 403
    assert staff.get(reverse("admin:memorials_guestbookmessage_changelist")).status_code == 403
    memorial.refresh_from_db()
    assert memorial.name == "Kim Okja"


def test_staff_without_permissions_see_nothing(memorial):
    staff = client_for(staff_make(permissions=[]))
    assert staff.get(reverse("admin:memorials_memorial_changelist")).status_code == 403


def test_staff_who_may_change_messages_can_hide_one(memorial):
    staff = client_for(staff_make(permissions=["memorials.view_guestbookmessage", "memorials.change_guestbookmessage"]))
    entry = GuestbookMessage.objects.get()
    response = staff.post(
        reverse("admin:memorials_guestbookmessage_change", args=[entry.pk]), {"name": entry.name, "message": entry.message, "state": "hidden"},
    )
    assert response.status_code == 302
    assert GuestbookMessage.objects.get().state == GuestbookMessage.State.HIDDEN


def test_nobody_adds_a_memorial_in_the_admin():
    superuser = client_for(staff_make(superuser=True))
    assert superuser.get(reverse("admin:memorials_memorial_add")).status_code == 403
