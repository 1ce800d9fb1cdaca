"""The Stripe emulator itself, driven as the product drives Stripe: stripe-python over HTTP, webhooks checked by a receiver
that verifies signatures with stripe-python's own ``Webhook.construct_event``."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import stripe

from tools.stripe_emulator import EmulatorError, StripeEmulator, format_amount
from tools.stripe_emulator import stripe_emulator as _session_emulator  # noqa: F401 - registers the `stripe_emulator` fixture

SUCCESS_URL = "https://petmemories.test/checkout/done?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://petmemories.test/checkout/cancelled"


class Receiver:
    """A webhook endpoint on a thread: keeps the events whose signature verifies, counts the rest."""

    def __init__(self, secret: str):
        self.secret = secret
        self.events: list[dict] = []
        self.rejected: list[str] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    stripe.Webhook.construct_event(body, self.headers.get("Stripe-Signature"), receiver.secret)
                except (stripe.SignatureVerificationError, ValueError) as error:
                    receiver.rejected.append(str(error))
                    self.send_response(400)
                else:
                    with receiver._changed:
                        receiver.events.append(json.loads(body))
                        receiver._changed.notify_all()
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/stripe/webhook"

    def of_type(self, event_type: str) -> list[dict]:
        with self._changed:
            return [event for event in self.events if event["type"] == event_type]

    def wait_for(self, event_type: str, match=lambda obj: True, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if event["type"] == event_type and match(event["data"]["object"]):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event_type} within {timeout} s; got {[e['type'] for e in self.events]}")
                self._changed.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def emulator(stripe_emulator: StripeEmulator) -> StripeEmulator:
    stripe_emulator.reset()
    return stripe_emulator


@pytest.fixture
def receiver(emulator: StripeEmulator):
    endpoint = Receiver("whsec_emulator_test")
    emulator.set_webhook(endpoint.url, endpoint.secret)
    yield endpoint
    endpoint.close()
    assert endpoint.rejected == [], "the emulator sent a webhook whose signature does not verify"


@pytest.fixture
def client(emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base}, max_network_retries=0)


def _payment_session(client, currency: str, items: list[tuple[int, int]], **extra):
    line_items = [
        {"quantity": quantity, "price_data": {"currency": currency, "unit_amount": amount, "product_data": {"name": f"Print {n}"}}}
        for n, (amount, quantity) in enumerate(items)
    ]
    params = {"mode": "payment", "line_items": line_items, "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL, **extra}
    return client.v1.checkout.sessions.create(params=params)


def _plan(client, product: str | dict, amount: int, interval: str, nickname: str):
    return client.v1.plans.create(
        params={"amount": amount, "currency": "krw", "interval": interval, "nickname": nickname, "product": product}
    )


def test_payment_checkout_in_krw_and_usd_charges_the_sum_and_signs_the_webhook(emulator, receiver, client):
    for currency, items, total in (("krw", [(39000, 1), (5000, 2)], 49000), ("usd", [(1999, 2), (500, 1)], 4498)):
        session = _payment_session(
            client, currency, items, customer_email="buyer@example.com", client_reference_id="PM-1",
            metadata={"order": "PM-1"}, payment_intent_data={"metadata": {"order": "PM-1"}},
        )
        assert (session.object, session.status, session.payment_status) == ("checkout.session", "open", "unpaid")
        assert (session.amount_total, session.currency) == (total, currency)
        assert session.url == f"{emulator.api_base}/pay/{session.id}"
        lines = client.v1.checkout.sessions.line_items.list(session.id)
        assert [line.amount_total for line in lines.data] == [amount * quantity for amount, quantity in items]

        done = emulator.complete_checkout(session.id)
        assert (done["status"], done["payment_status"], done["customer_details"]["email"]) == ("complete", "paid", "buyer@example.com")
        payment_intent = client.v1.payment_intents.retrieve(done["payment_intent"])
        assert (payment_intent.status, payment_intent.amount, payment_intent.currency) == ("succeeded", total, currency)
        assert payment_intent.metadata["order"] == "PM-1"
        # Delivered before complete_checkout returned: no waiting needed.
        [event] = [e for e in receiver.of_type("checkout.session.completed") if e["data"]["object"]["id"] == session.id]
        assert event["data"]["object"]["payment_intent"] == payment_intent.id
        assert event["data"]["object"]["metadata"] == {"order": "PM-1"}
    assert [d["status"] for d in emulator.deliveries()] == [200, 200]


def test_hosted_page_collects_shipping_and_redirects_before_the_webhook(emulator, receiver, client):
    session = _payment_session(client, "krw", [(39000, 1)], shipping_address_collection={"allowed_countries": ["KR"]})
    page = requests.get(session.url, timeout=10)
    assert page.status_code == 200
    for needle in ("PetMemories test checkout — not Stripe", "₩39,000", 'id="card"', "4242424242424242", 'id="shipping-line1"',
                   'id="shipping-country"', '<button id="pay"', f'href="{CANCEL_URL}"'):
        assert needle in page.text
    form = {"email": "buyer@example.com", "card": "4242424242424242", "shipping-name": "Kim Minji", "shipping-line1": "1 Sejong-daero",
            "shipping-city": "Seoul", "shipping-postal-code": "04524", "shipping-country": "US"}
    refused = requests.post(session.url, data=form, allow_redirects=False, timeout=10)
    assert refused.status_code == 400 and "does not ship to US" in refused.text

    paid = requests.post(session.url, data={**form, "shipping-country": "kr"}, allow_redirects=False, timeout=10)
    assert paid.status_code == 303
    assert paid.headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    event = receiver.wait_for("checkout.session.completed", lambda obj: obj["id"] == session.id)
    shipping = event["data"]["object"]["collected_information"]["shipping_details"]
    assert shipping["name"] == "Kim Minji" and shipping["address"]["country"] == "KR" and shipping["address"]["line2"] is None
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_declined_card_leaves_the_session_open_and_sends_nothing(emulator, receiver, client):
    session = _payment_session(client, "usd", [(1999, 1)])
    with pytest.raises(EmulatorError) as declined:
        emulator.complete_checkout(session.id, card="4000000000000002")
    assert declined.value.status == 402
    assert (declined.value.error["type"], declined.value.error["code"]) == ("card_error", "card_declined")
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert (again.status, again.payment_status, again.payment_intent) == ("open", "unpaid", None)
    assert emulator.deliveries() == [] and receiver.events == []

    # Still payable with a good card afterwards.
    assert emulator.complete_checkout(session.id)["status"] == "complete"
    assert [d["type"] for d in emulator.deliveries()] == ["checkout.session.completed"]


def test_an_open_session_expires_once_and_then_cannot_be_paid_and_a_paid_one_cannot_expire(emulator, receiver, client):
    session = _payment_session(client, "krw", [(39000, 1)])
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.id, expired.status, expired.payment_status, expired.url) == (session.id, "expired", "unpaid", None)
    assert receiver.wait_for("checkout.session.expired", lambda obj: obj["id"] == session.id)["data"]["object"]["status"] == "expired"
    with pytest.raises(EmulatorError) as unpaid:
        emulator.complete_checkout(session.id)
    assert unpaid.value.status == 400
    assert "This checkout session has expired." in requests.get(session.url, timeout=10).text  # the page opened before
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.checkout.sessions.expire(session.id)
    assert twice.value.http_status == 400 and "This session is expired" in twice.value.user_message

    paid = _payment_session(client, "krw", [(39000, 1)])
    emulator.complete_checkout(paid.id)
    with pytest.raises(stripe.InvalidRequestError) as too_late:
        client.v1.checkout.sessions.expire(paid.id)
    assert "This session is complete" in too_late.value.user_message
    assert client.v1.checkout.sessions.retrieve(paid.id).status == "complete"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.expire("cs_test_missing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


def test_subscription_checkout_starts_an_active_subscription(emulator, receiver, client):
    plan = _plan(client, {"name": "PetMemories Plus"}, 9900, "month", "Plus monthly")
    session = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "line_items": [{"price": plan.id, "quantity": 1}], "customer_email": "member@example.com",
        "subscription_data": {"metadata": {"user_id": "42"}}, "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
    })
    assert (session.amount_total, session.currency) == (9900, "krw")
    assert session.url == f"{emulator.api_base}/pay/{session.id}"
    assert "₩9,900 / month" in requests.get(session.url, timeout=10).text

    done = emulator.complete_checkout(session.id)
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    subscription = client.v1.subscriptions.retrieve(done["subscription"])
    assert (subscription.status, subscription.customer, subscription.plan.id) == ("active", done["customer"], plan.id)
    assert subscription.metadata["user_id"] == "42"
    customer = client.v1.customers.retrieve(done["customer"])
    assert customer.email == "member@example.com" and customer.invoice_settings.default_payment_method

    assert receiver.of_type("checkout.session.completed")[0]["data"]["object"]["subscription"] == subscription.id
    created = receiver.wait_for("customer.subscription.created", lambda obj: obj["id"] == subscription.id)  # sent by localstripe
    assert created["data"]["object"]["status"] == "active"


def test_portal_cancel_and_switch_update_the_subscription_and_send_updated_events(emulator, receiver, client):
    product = client.v1.products.create(params={"name": "PetMemories Plus"})
    monthly = _plan(client, product.id, 9900, "month", "Plus monthly")
    yearly = _plan(client, product.id, 99000, "year", "Plus yearly")
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    payment_method = client.v1.payment_methods.create(params={"type": "card", "card": card})
    customer = client.v1.customers.create(params={
        "email": "member@example.com", "payment_method": payment_method.id,
        "invoice_settings": {"default_payment_method": payment_method.id},
    })
    subscription = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"plan": monthly.id}]})
    assert subscription.status == "active"

    portal = client.v1.billing_portal.sessions.create(params={"customer": customer.id, "return_url": "https://petmemories.test/account"})
    assert (portal.object, portal.customer) == ("billing_portal.session", customer.id)
    assert portal.url == f"{emulator.api_base}/portal/{portal.id}"
    page = requests.get(portal.url, timeout=10).text
    for needle in ("Plus monthly", format_amount(9900, "krw") + " / month", "Cancel plan", "Switch to Plus yearly",
                   'href="https://petmemories.test/account"', "Return to PetMemories"):
        assert needle in page

    assert emulator.portal_action(portal.id, "cancel", subscription.id)["cancel_at_period_end"] is True
    assert client.v1.subscriptions.retrieve(subscription.id).cancel_at_period_end is True
    [cancelled] = receiver.of_type("customer.subscription.updated")  # localstripe never sends this one; the fake does
    assert cancelled["data"]["object"]["cancel_at_period_end"] is True
    assert cancelled["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert "Renew plan" in requests.get(portal.url, timeout=10).text

    # The hosted page's Switch button, as a browser would press it.
    pressed = requests.post(f"{portal.url}/action", data={"action": "switch", "subscription": subscription.id, "plan": yearly.id},
                            allow_redirects=False, timeout=10)
    assert pressed.status_code == 303 and pressed.headers["Location"] == f"/portal/{portal.id}"
    assert client.v1.subscriptions.retrieve(subscription.id).plan.id == yearly.id
    switched = receiver.of_type("customer.subscription.updated")[-1]
    assert switched["data"]["previous_attributes"]["plan"]["id"] == monthly.id


def test_stripe_errors_reach_stripe_python_with_the_parameter(emulator, client):
    good = {"mode": "payment", "success_url": SUCCESS_URL,
            "line_items": [{"quantity": 1, "price_data": {"currency": "krw", "unit_amount": 39000, "product_data": {"name": "Mug"}}}]}
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.create(params={**good, "allow_promo_codes": True})
    assert (unknown.value.http_status, unknown.value.param, unknown.value.code) == (400, "allow_promo_codes", "parameter_unknown")
    assert "Received unknown parameter: allow_promo_codes" in unknown.value.user_message

    nested = {**good, "line_items": [{"quantity": 1, "price_data": {**good["line_items"][0]["price_data"], "colour": "red"}}]}
    with pytest.raises(stripe.InvalidRequestError) as deep:
        client.v1.checkout.sessions.create(params=nested)
    assert deep.value.param == "line_items[0][price_data][colour]"

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.create(params={key: value for key, value in good.items() if key != "success_url"})
    assert (missing.value.param, missing.value.code) == ("success_url", "parameter_missing")

    with pytest.raises(stripe.InvalidRequestError) as no_price:
        client.v1.checkout.sessions.create(params={"mode": "subscription", "success_url": SUCCESS_URL,
                                                   "line_items": [{"price": "plan_missing", "quantity": 1}]})
    assert (no_price.value.param, no_price.value.code) == ("line_items[0][price]", "resource_missing")

    with pytest.raises(stripe.InvalidRequestError) as no_session:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert (no_session.value.http_status, no_session.value.code) == (404, "resource_missing")

    # Idempotency keys behave as Stripe's: same key and parameters give the first answer, other parameters an error.
    first = client.v1.checkout.sessions.create(params=good, options={"idempotency_key": "order-PM-7"})
    assert client.v1.checkout.sessions.create(params=good, options={"idempotency_key": "order-PM-7"}).id == first.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params={**good, "client_reference_id": "other"}, options={"idempotency_key": "order-PM-7"})


def test_invoice_items_make_a_draft_invoice_that_finalizes_once_and_says_so(emulator, receiver, client):
    customer = client.v1.customers.create(params={"name": "Haneul Funeral Services", "metadata": {"organisation": "1"}})
    for amount, description in ((30000, "3 portraits"), (50000, "1 living video")):
        client.v1.invoice_items.create(params={"customer": customer.id, "amount": amount, "currency": "krw", "description": description})
    assert len(client.v1.invoice_items.list(params={"customer": customer.id}).data) == 2
    invoice = client.v1.invoices.create(params={"customer": customer.id, "pending_invoice_items_behavior": "include"})
    assert (invoice.status, invoice.total, invoice.currency) == ("draft", 80000, "krw")
    assert client.v1.invoice_items.list(params={"customer": customer.id}).data == []  # the invoice took them
    finalized = client.v1.invoices.finalize_invoice(invoice.id)
    assert finalized.status == "open" and finalized.status_transitions.finalized_at
    assert receiver.wait_for("invoice.finalized", lambda obj: obj["id"] == invoice.id)["data"]["object"]["total"] == 80000
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.invoices.finalize_invoice(invoice.id)
    assert again.value.code == "invoice_not_editable"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.invoices.finalize_invoice("in_missing")
    assert missing.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as nothing:  # no pending item left
        client.v1.invoices.create(params={"customer": customer.id, "pending_invoice_items_behavior": "include"})
    assert nothing.value.code == "invoice_no_customer_line_items"
