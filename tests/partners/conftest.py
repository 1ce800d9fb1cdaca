"""Two organisations, each with a manager and a staff member, and a case with everything a
case can hold: a photo, a portrait chosen for its memorial, a living video, a delivery."""
import datetime

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from generation.models import JobOutput
from partners.models import CaseProduct, Membership
from partners.services import case_create, case_photo_add, case_portrait_choose, delivery_set, organisation_create, organisation_logo_set
from studio.models import Creation
from tests.factories import finished_job_make, user_make

from ..conftest import CAT_PHOTO


def member_make(organisation, email: str, role: str = Membership.Role.STAFF):
    person = user_make(email)
    Membership.objects.create(organisation=organisation, user=person, role=role)
    return person


@pytest.fixture
def org_a(db):
    return organisation_create(name="Haneul Funeral Services", slug="haneul")


@pytest.fixture
def org_b(db):
    return organisation_create(name="Sarang Memorial Hall", slug="sarang")


@pytest.fixture
def manager_a(org_a):
    return member_make(org_a, "manager@haneul.example", Membership.Role.MANAGER)


@pytest.fixture
def staff_a(org_a):
    return member_make(org_a, "staff@haneul.example")


@pytest.fixture
def staff_b(org_b):
    return member_make(org_b, "staff@sarang.example")


def product_make(case, kind: str, engine: str, kinds) -> CaseProduct:
    """A product whose job has succeeded, as a worker leaves it (the files are small stand-ins)."""
    job = finished_job_make(owner=case.organisation.account, engine=engine, kinds=kinds)
    creation = Creation.objects.create(owner=case.organisation.account, photo=ContentFile(b"x", name="photo.jpg"), job=job)
    return CaseProduct.objects.create(case=case, kind=kind, creation=creation)


def full_case_make(organisation, staff, *, pin: str = ""):
    from generation.photos import photo_normalize

    case = case_create(organisation=organisation, created_by=staff, name="Kim Okja", birth_year=1942, death_year=2026, death_month=11)
    with CAT_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    case_photo_add(case=case, photo=photo, uploaded_by=staff)
    if not organisation.logo:
        organisation_logo_set(organisation=organisation, photo=photo)
    portraits = product_make(case, CaseProduct.Kind.PORTRAIT, "memorial-portrait", [JobOutput.Kind.IMAGE] * 2 + [JobOutput.Kind.POSTER])
    product_make(case, CaseProduct.Kind.VIDEO, "living-photo", [JobOutput.Kind.VIDEO, JobOutput.Kind.POSTER])
    case_portrait_choose(case=case, output=portraits.creation.job.outputs.get(position=0))
    delivery_set(case=case, expires_at=timezone.now() + datetime.timedelta(days=30), pin=pin, created_by=staff)
    case.refresh_from_db()
    return case


@pytest.fixture
def case_a(org_a, staff_a):
    return full_case_make(org_a, staff_a)


@pytest.fixture
def case_b(org_b, staff_b):
    return full_case_make(org_b, staff_b)
