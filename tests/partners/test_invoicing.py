"""A month's usage is invoiced through Stripe (here the emulator, over HTTP): an invoice item
per kind used on the organisation's customer, in an invoice that is finalized; running it
again adds nothing."""
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from partners.models import Invoice, PricePlan

from .conftest import full_case_make


@pytest.fixture
def priced(org_a, staff_a, stripe_api):
    org_a.price_plan = PricePlan.objects.create(
        name="Funeral hall", currency="KRW", case_price=Decimal(10000), portrait_price=Decimal(30000), video_price=Decimal(50000),
    )
    org_a.save()
    full_case_make(org_a, staff_a)
    full_case_make(org_a, staff_a)
    return org_a


def stripe_client(stripe_api):
    import stripe

    return stripe.StripeClient("sk_test_petmemories", base_addresses={"api": stripe_api.api_base}, max_network_retries=0)


@pytest.mark.django_db(transaction=True)
def test_a_months_usage_becomes_a_finalized_invoice_once(priced, stripe_api):
    month = timezone.localdate().strftime("%Y-%m")
    call_command("partners_invoice", "--month", month, verbosity=0)
    priced.refresh_from_db()
    record = Invoice.objects.get()
    assert record.total == Decimal(2 * 10000 + 2 * 30000 + 2 * 50000) and record.finalized_at
    client = stripe_client(stripe_api)
    invoice = client.v1.invoices.retrieve(record.stripe_invoice_id)
    assert (invoice.status, invoice.customer, invoice.currency) == ("open", priced.stripe_customer_id, "krw")
    lines = sorted((line.amount, line.description) for line in client.v1.invoices.line_items.list(record.stripe_invoice_id).data)
    assert lines == [(20000, f"{month}: 2 cases"), (60000, f"{month}: 2 memorial portraits"), (100000, f"{month}: 2 living videos")]

    call_command("partners_invoice", "--month", month, verbosity=0)  # again: nothing new
    assert Invoice.objects.count() == 1
    assert len(client.v1.invoices.list(params={"customer": priced.stripe_customer_id}).data) == 1
    assert client.v1.invoice_items.list(params={"customer": priced.stripe_customer_id}).data == []


@pytest.mark.django_db(transaction=True)
def test_a_run_that_stopped_after_adding_items_finishes_without_adding_them_again(priced, stripe_api, monkeypatch):
    from shop import payments

    def stop(**kwargs):
        raise payments.PaymentError("Stripe could not be reached")

    month = timezone.localdate().replace(day=1)
    with monkeypatch.context() as patched:
        patched.setattr(payments, "invoice_create", stop)
        with pytest.raises(Exception, match="Not invoiced: Haneul Funeral Services"):
            call_command("partners_invoice", "--month", f"{month:%Y-%m}", verbosity=0)
    priced.refresh_from_db()
    assert len(stripe_client(stripe_api).v1.invoice_items.list(params={"customer": priced.stripe_customer_id}).data) == 3
    created = []
    monkeypatch.setattr(payments, "invoice_item_create", lambda **kwargs: created.append(kwargs))
    call_command("partners_invoice", "--month", f"{month:%Y-%m}", verbosity=0)
    assert created == []  # the pending items tell what was added (Stripe forgets idempotency keys after a day)
    assert Invoice.objects.get().total == Decimal(180000)


@pytest.mark.django_db
def test_a_month_without_usage_or_prices_is_not_invoiced(org_a, staff_a):
    last_year = (timezone.localdate() - datetime.timedelta(days=400)).strftime("%Y-%m")
    call_command("partners_invoice", "--month", last_year, verbosity=0)
    assert not Invoice.objects.exists()
