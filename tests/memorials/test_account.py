"""A customer's memorials are in their data export and go with their account."""
import pytest

from accounts.services import account_delete
from accounts.signals import account_exporting
from memorials.models import GuestbookMessage, Memorial
from memorials.services import guestbook_message_create, memorial_create
from tests.factories import finished_job_make, user_make

pytestmark = pytest.mark.django_db


def test_the_data_export_holds_the_memorials_and_their_guestbook():
    owner = user_make()
    portrait = finished_job_make(owner=owner).outputs.first()
    memorial = memorial_create(owner=owner, name="Kim Okja", birth_year=1942, portrait=portrait)
    guestbook_message_create(memorial=memorial, name="Minsu", message="We miss you.")
    sections = [section for _, sections in account_exporting.send(sender=None, user=owner) for section in sections]
    [exported] = next(section for section in sections if section.name == "memorials").data
    assert exported["name"] == "Kim Okja" and exported["born"] == [1942, None, None] and exported["portrait"] == portrait.file.name
    assert exported["guestbook"][0]["message"] == "We miss you."


def test_deleting_the_account_deletes_its_memorials():
    owner = user_make()
    memorial = memorial_create(owner=owner, name="Kim Okja", portrait=finished_job_make(owner=owner).outputs.first())
    guestbook_message_create(memorial=memorial, name="Minsu", message="We miss you.")
    account_delete(user=owner)
    assert not Memorial.objects.exists() and not GuestbookMessage.objects.exists()
