"""Usage per organisation and month, in the admin and as CSV, for staff who hold "Can see and
export partners' usage"; a failed job is not counted."""
import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import Job, JobOutput
from partners.models import Case, CaseProduct
from partners.selectors import usage_by_month
from tests.factories import client_for, staff_make

from .conftest import full_case_make, product_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def usage(org_a, org_b, staff_a, staff_b):
    """Haneul: two cases, one last month; Sarang: one case, with a portrait job that failed."""
    full_case_make(org_a, staff_a)
    older = full_case_make(org_a, staff_a)
    last_month = older.created_at - datetime.timedelta(days=40)
    Case.objects.filter(pk=older.pk).update(created_at=last_month)
    CaseProduct.objects.filter(case=older).update(created_at=last_month)
    sarang = full_case_make(org_b, staff_b)
    product_make(sarang, CaseProduct.Kind.PASTIME, "pastime-images", [JobOutput.Kind.IMAGE] * 3 + [JobOutput.Kind.POSTER])
    failed = product_make(sarang, CaseProduct.Kind.PORTRAIT, "memorial-portrait", [JobOutput.Kind.IMAGE])
    Job.objects.filter(pk=failed.creation.job_id).update(state=Job.State.FAILED)
    return last_month


def test_usage_counts_cases_and_succeeded_products_per_organisation_and_month(usage, org_a, org_b):
    rows = {(row.organisation.slug, row.month.strftime("%Y-%m")): (row.cases, row.portraits, row.images, row.videos, row.pastimes) for row in usage_by_month()}
    this_month = timezone.localdate().strftime("%Y-%m")
    assert rows == {
        ("haneul", this_month): (1, 1, 0, 1, 0), ("haneul", usage.strftime("%Y-%m")): (1, 1, 0, 1, 0), ("sarang", this_month): (1, 1, 0, 1, 1),
    }


def test_staff_holding_the_usage_permission_see_it_and_download_it_as_csv(usage):
    client = client_for(staff_make(permissions=["partners.view_usage"]))
    page = client.get(reverse("admin:partners_organisation_usage"))
    assert page.status_code == 200 and "Sarang Memorial Hall" in page.content.decode()
    download = client.get(reverse("admin:partners_organisation_usage") + "?format=csv")
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(download.content.decode())))
    assert table[0] == ["organisation", "slug", "month", "cases", "portraits", "images", "videos", "pastimes"] and len(table) == 4


def test_staff_without_it_get_403(usage):
    client = client_for(staff_make(permissions=["partners.view_organisation"]))
    assert client.get(reverse("admin:partners_organisation_usage")).status_code == 403
    assert client.get(reverse("admin:partners_organisation_usage") + "?format=csv").status_code == 403
    assert "Usage per month" not in client.get(reverse("admin:partners_organisation_changelist")).content.decode()


def test_the_export_action_needs_the_usage_permission(usage, org_a):
    changelist = reverse("admin:partners_organisation_changelist")
    without = client_for(staff_make("a@example.com", permissions=["partners.view_organisation"]))
    assert "export_usage" not in without.get(changelist).content.decode()
    holder = client_for(staff_make("b@example.com", permissions=["partners.view_organisation", "partners.view_usage"]))
    assert "export_usage" in holder.get(changelist).content.decode()
    response = holder.post(changelist, {"action": "export_usage", "_selected_action": [org_a.pk]})
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[1] for row in table[1:]] == ["haneul", "haneul"]
