"""Partner staff see only their own organisation's cases: every URL of the partners app that
names a case or a file answers 404 to another organisation's staff, and the family's link
gives no file without its PIN or after it has expired."""
import datetime

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from generation.models import JobOutput
from partners.selectors import case_outputs
from tests.factories import client_for

from .conftest import full_case_make

pytestmark = pytest.mark.django_db

# The arguments that pick out one organisation's things. A new URL taking any of them is
# checked below without being listed; one taking something else fails until it is thought of.
SCOPED = {"case_id", "photo_id", "output_id"}
FAMILY = {"token", "output_id"}


def partner_urls() -> list[tuple[str, set[str]]]:
    patterns = get_resolver().namespace_dict["partners"][1].url_patterns
    return [(pattern.name, set(pattern.pattern.converters)) for pattern in patterns]


STAFF_URLS = [name for name, params in partner_urls() if params & SCOPED and "token" not in params]
FAMILY_FILE_URLS = [name for name, params in partner_urls() if "token" in params and name not in ("delivery", "delivery-unlock", "invitation")]


def test_every_url_argument_is_one_the_isolation_tests_know():
    for name, params in partner_urls():
        assert params <= SCOPED | FAMILY, f"{name} takes {params - SCOPED - FAMILY}: add it to the isolation tests"
    assert {"case", "case-edit", "case-photo", "case-file", "case-delivery", "case-animate"} <= set(STAFF_URLS)


def arguments_of(case) -> dict:
    return {"case_id": case.pk, "photo_id": case.photos.get().pk, "output_id": case_outputs(case=case, kinds=list(JobOutput.Kind)).first().pk}


# 404 for the method the page takes (the other method's 405 comes before any look-up).
NOT_FOUND = ({404}, {404, 405})


def answers(client, url: str) -> set[int]:
    return {client.get(url).status_code, client.post(url).status_code}


def url_for(name: str, case) -> str:
    patterns = dict(partner_urls())
    return reverse(f"partners:{name}", kwargs={key: value for key, value in arguments_of(case).items() if key in patterns[name]})


@pytest.mark.parametrize("name", STAFF_URLS)
def test_another_organisations_staff_get_404_for_every_case_url(name, case_a, case_b, staff_a):
    client = client_for(staff_a)
    assert answers(client, url_for(name, case_b)) in NOT_FOUND
    # and a mix of their own case and the other's file is no way round it
    if {"photo_id", "output_id"} & dict(partner_urls())[name]:
        mixed = reverse(f"partners:{name}", kwargs={
            key: (case_a.pk if key == "case_id" else value) for key, value in arguments_of(case_b).items() if key in dict(partner_urls())[name]
        })
        assert client.get(mixed).status_code == 404


@pytest.mark.parametrize("name", STAFF_URLS)
def test_own_staff_reach_every_case_url(name, case_a, staff_a):
    assert client_for(staff_a).get(url_for(name, case_a)).status_code in (200, 405)


def test_every_file_of_another_organisations_case_is_404(case_a, case_b, staff_a):
    client = client_for(staff_a)
    files = list(case_outputs(case=case_b, kinds=list(JobOutput.Kind)))
    assert len(files) == 5
    for output in files:
        assert client.get(reverse("partners:case-file", args=[case_b.pk, output.pk])).status_code == 404
        assert client.get(reverse("partners:case-file", args=[case_a.pk, output.pk])).status_code == 404
    for photo in case_b.photos.all():
        assert client.get(reverse("partners:case-photo", args=[case_a.pk, photo.pk])).status_code == 404


def test_the_case_list_shows_only_the_own_organisations_cases(case_a, case_b, staff_a, staff_b):
    case_b.memorial.name = "Park Minsu"
    case_b.memorial.save()
    page = client_for(staff_a).get(reverse("partners:cases")).content.decode()
    assert "Kim Okja" in page and "Park Minsu" not in page


def test_people_outside_any_organisation_get_404_and_visitors_the_log_in_page(case_a, other_user):
    for name in STAFF_URLS:
        assert answers(client_for(other_user), url_for(name, case_a)) in NOT_FOUND
        assert answers(Client(), url_for(name, case_a)) <= {302, 405}  # to the log-in page


def family_urls(case) -> list[str]:
    patterns = dict(partner_urls())
    urls = []
    for name in FAMILY_FILE_URLS:
        outputs = case_outputs(case=case) if "output_id" in patterns[name] else [None]
        urls += [reverse(f"partners:{name}", kwargs={"token": case.delivery.token, **({"output_id": o.pk} if o else {})}) for o in outputs]
    return urls


def test_the_family_link_without_its_pin_fetches_no_file(org_a, staff_a):
    case = full_case_make(org_a, staff_a, pin="2468")
    visitor = Client()
    assert visitor.get(case.delivery.get_absolute_url()).status_code == 200  # the PIN form
    assert all(visitor.get(url).status_code == 404 for url in family_urls(case))
    visitor.post(reverse("partners:delivery-unlock", args=[case.delivery.token]), {"pin": "2468"})
    assert all(visitor.get(url).status_code == 200 for url in family_urls(case))


def test_an_expired_family_link_fetches_no_file(case_a):
    visitor = Client()
    assert all(visitor.get(url).status_code == 200 for url in family_urls(case_a))
    case_a.delivery.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    case_a.delivery.save()
    assert visitor.get(case_a.delivery.get_absolute_url()).status_code == 410
    assert all(visitor.get(url).status_code == 404 for url in family_urls(case_a))


def test_one_familys_link_opens_no_file_of_another_case(case_a, case_b):
    other = case_outputs(case=case_b).first()
    assert Client().get(reverse("partners:delivery-file", args=[case_a.delivery.token, other.pk])).status_code == 404
