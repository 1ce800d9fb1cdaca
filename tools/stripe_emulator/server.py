"""The emulator server: localstripe's aiohttp app, plus Checkout Sessions, the Billing Portal, finalizing an invoice
and control endpoints.

localstripe (a stateful fake of most of Stripe's core API) has neither Checkout nor the Billing Portal, so those
are faked here on top of its objects: completing a Checkout Session creates real localstripe PaymentMethods,
PaymentIntents, Customers and Subscriptions, and the product then reads them back through the ordinary API.

Routes added to localstripe's app:

    POST /v1/checkout/sessions                    GET  /v1/checkout/sessions[/{id}[/line_items]]
    POST /v1/checkout/sessions/{id}/expire        POST /v1/billing_portal/sessions
    POST /v1/invoices (of pending invoice items)  POST /v1/invoices/{id}/finalize   (localstripe: only for subscriptions)
    GET|POST /pay/{id}        the hosted Checkout page      GET /portal/{id}, POST /portal/{id}/action   the portal
    /_emulator/...            control endpoints for tests (no API key needed; the server binds 127.0.0.1 only)
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import hashlib
import html
import json
import re
import secrets
import string
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from localstripe import resources
from localstripe import server as ls_server
from localstripe import webhooks as ls_webhooks
from localstripe.errors import UserError
from localstripe.resources import Customer, Event, Invoice, InvoiceItem, PaymentIntent, PaymentMethod, Plan, Product, Subscription, store

from . import format_amount, stripe_signature_header

DEFAULT_API_VERSION = "2026-10-28.clover"
DEFAULT_EMAIL = "customer@example.com"  # what the test endpoint pays with when neither the test nor the session names one
TEST_CARD = "4242424242424242"
PAGE_TITLE = "PetMemories test checkout — not Stripe"
_ALPHANUMERIC = string.ascii_letters + string.digits
_INTERVALS = ("day", "week", "month", "year")


def _random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def _json(data: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=lambda value: json.dumps(value, indent=2) + "\n")


class ApiError(UserError):
    """A Stripe-shaped error. Subclassing localstripe's UserError lets its error middleware turn it into the response."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, **extra: Any):
        super().__init__(status, message)
        error: dict[str, Any] = {"type": type, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            error["param"] = param
        error.update(extra)
        self.body = {"error": error}


def _missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def _no_such(kind: str, ident: Any, param: str | None = None, status: int = 400) -> ApiError:
    # Stripe answers 404 for a missing object in the path and 400 for one named by a parameter.
    return ApiError(status, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def _card_error(message: str, code: str, **extra: Any) -> ApiError:
    return ApiError(402, message, type="card_error", code=code, **extra)


# --- parameters -------------------------------------------------------------------------------------------------

_MAP = "map"  # free-form string-to-string hash (metadata)
_SCALAR = "scalar"

_PRICE_DATA = {
    "currency": _SCALAR,
    "unit_amount": _SCALAR,
    "product": _SCALAR,
    "product_data": {"name": _SCALAR, "description": _SCALAR, "images": [_SCALAR], "metadata": _MAP},
    "recurring": {"interval": _SCALAR, "interval_count": _SCALAR},
}
_CHECKOUT_CREATE = {
    "mode": _SCALAR,
    "line_items": [{"price": _SCALAR, "price_data": _PRICE_DATA, "quantity": _SCALAR}],
    "success_url": _SCALAR,
    "cancel_url": _SCALAR,
    "customer": _SCALAR,
    "customer_email": _SCALAR,
    "client_reference_id": _SCALAR,
    "metadata": _MAP,
    "shipping_address_collection": {"allowed_countries": [_SCALAR]},
    "subscription_data": {"metadata": _MAP, "trial_period_days": _SCALAR},
    "payment_intent_data": {"metadata": _MAP},
    "locale": _SCALAR,
    "expand": [_SCALAR],
}
_CHECKOUT_RETRIEVE = {"expand": [_SCALAR]}
_CHECKOUT_LIST = {"limit": _SCALAR, "starting_after": _SCALAR, "customer": _SCALAR, "payment_intent": _SCALAR,
                  "subscription": _SCALAR, "status": _SCALAR, "expand": [_SCALAR]}
_LINE_ITEMS_LIST = {"limit": _SCALAR, "starting_after": _SCALAR, "expand": [_SCALAR]}
_EXPIRE = {"expand": [_SCALAR]}
_FINALIZE = {"auto_advance": _SCALAR, "expand": [_SCALAR]}
_PORTAL_CREATE = {"customer": _SCALAR, "return_url": _SCALAR, "locale": _SCALAR, "expand": [_SCALAR]}


def _check_params(value: Any, schema: Any, name: str = "") -> None:
    """Reject what Stripe would: unknown parameters (named as Stripe names them) and values of the wrong shape."""
    if isinstance(schema, dict):
        if value == "" and name:  # stripe-python sends "" for an emptied hash
            return
        if not isinstance(value, dict):
            raise ApiError(400, f"Invalid object{': ' + name if name else ''}", code="parameter_invalid_empty", param=name or None)
        for key, sub_value in value.items():
            full = f"{name}[{key}]" if name else key
            if key not in schema:
                raise ApiError(400, f"Received unknown parameter: {full}", code="parameter_unknown", param=full)
            _check_params(sub_value, schema[key], full)
    elif isinstance(schema, list):
        if value == "":
            return
        if not isinstance(value, list):
            raise ApiError(400, f"Invalid array: {name}", param=name)
        for index, item in enumerate(value):
            _check_params(item, schema[0], f"{name}[{index}]")
    elif schema == _MAP:
        if value == "":
            return
        if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
            raise ApiError(400, f"Invalid hash: {name} must map keys to strings", param=name)
    elif isinstance(value, dict | list):
        raise ApiError(400, f"Invalid string: {name}", param=name)


def _metadata(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _as_int(value: Any, param: str, minimum: int | None = None) -> int:
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param) from None
    if minimum is not None and number < minimum:
        raise ApiError(400, f"This value must be greater than or equal to {minimum}.", code="parameter_invalid_integer", param=param)
    return number


def _expand_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


async def _form(request: web.Request) -> dict:
    """A request's parameters as localstripe decodes them (form encoding, ``a[b][0]=c``, or a JSON body)."""
    if request.method == "GET":
        return ls_server.unflatten_data(request.query) or {}
    data = await ls_server.get_post_data(request)
    return dict(data) if data else {}


def _is_url(value: Any) -> bool:
    parts = urlsplit(str(value))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --- state ------------------------------------------------------------------------------------------------------

@dataclass
class _Checkout:
    obj: dict  # the public checkout.session
    line_items: list[dict]
    new_prices: dict[str, dict]  # price_data prices: created in localstripe as Plans only when a subscription starts
    payment_intent_metadata: dict[str, str]
    subscription_metadata: dict[str, str]
    trial_period_days: int | None


@dataclass
class _State:
    api_version: str = DEFAULT_API_VERSION
    checkouts: dict[str, _Checkout] = field(default_factory=dict)
    portals: dict[str, dict] = field(default_factory=dict)
    deliveries: list[dict] = field(default_factory=list)
    idempotent: dict[str, tuple[str, int, bytes, str]] = field(default_factory=dict)
    tasks: set[asyncio.Future] = field(default_factory=set)
    http: aiohttp.ClientSession | None = None


STATE = _State()


def _spawn(coroutine) -> asyncio.Future:
    """Run in the background, but remembered, so reset() can cancel deliveries still waiting to go out."""
    task = asyncio.ensure_future(coroutine)
    STATE.tasks.add(task)
    task.add_done_callback(STATE.tasks.discard)
    return task


def _schedule_localstripe_webhook(event) -> None:
    # localstripe stamps its events with a 2017 API version and leaves out two fields; make them look like the fake's.
    event.api_version = STATE.api_version
    event.pending_webhooks = len(_endpoints_for(event.type))
    event.request = {"id": None, "idempotency_key": None}
    # localstripe's own sender (it waits 1 s, then signs and posts to every registered endpoint), tracked for reset().
    _spawn(ls_webhooks._send_webhook(event))


@contextlib.contextmanager
def _held_localstripe_events():
    """Hold back the events localstripe emits inside the block, so they can be corrected (localstripe cannot make a
    subscription ``trialing``, for one) before they go out. They are sent when the block ends, even on error."""
    held: list = []
    resources.schedule_webhook = held.append
    try:
        yield held
    finally:
        resources.schedule_webhook = _schedule_localstripe_webhook
        for event in held:
            _schedule_localstripe_webhook(event)


def _stored(kind: str, ident: Any):
    return store.get(f"{kind}:{ident}") if isinstance(ident, str) else None


# --- events -----------------------------------------------------------------------------------------------------

class _Snapshot:
    """A plain dict dressed as a localstripe object: localstripe's Event stores ``data._export()``. Keeping the fake's
    events in localstripe's store lets ``GET /v1/events/{id}`` find them like any other."""

    def __init__(self, obj: dict):
        self._obj = obj

    def _export(self, expand=None) -> dict:
        return copy.deepcopy(self._obj)


def _endpoints_for(event_type: str) -> list:
    return [hook for hook in ls_webhooks._webhooks.values() if hook.events is None or event_type in hook.events]


def _new_event(event_type: str, obj: dict, previous_attributes: dict | None = None) -> dict:
    event = Event(event_type, _Snapshot(obj))
    event.api_version = STATE.api_version
    event.pending_webhooks = len(_endpoints_for(event_type))
    event.request = {"id": None, "idempotency_key": None}
    if previous_attributes is not None:
        event.data["previous_attributes"] = previous_attributes
    return event._export()


async def _deliver(event: dict) -> list[dict]:
    """POST ``event``, signed as Stripe signs, to every endpoint that wants it; log each attempt. No retries."""
    payload = json.dumps(event, indent=2).encode("utf-8")
    results = []
    for hook in _endpoints_for(event["type"]):
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe_signature_header(payload, hook.secret, timestamp),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        entry: dict[str, Any] = {"event": event["id"], "type": event["type"], "url": hook.url, "status": None, "error": None,
                                 "delivered_at": timestamp}
        try:
            async with STATE.http.post(hook.url, data=payload, headers=headers) as response:
                await response.read()
                entry["status"] = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            entry["error"] = f"{type(error).__name__}: {error}"
        STATE.deliveries.append(entry)
        results.append(entry)
    return results


def _changed(before: dict, after: dict) -> dict:
    """Stripe's ``previous_attributes``: the old values of the top-level fields that changed."""
    return {key: before.get(key) for key in after if before.get(key) != after[key]}


# --- checkout sessions ------------------------------------------------------------------------------------------

def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _price_from_plan(plan) -> dict:
    return {
        "id": plan.id, "object": "price", "active": plan.active, "billing_scheme": plan.billing_scheme, "created": plan.created,
        "currency": plan.currency, "custom_unit_amount": None, "livemode": False, "lookup_key": None, "metadata": dict(plan.metadata),
        "nickname": plan.nickname, "product": plan.product,
        "recurring": {"interval": plan.interval, "interval_count": plan.interval_count, "meter": None,
                      "trial_period_days": plan.trial_period_days, "usage_type": plan.usage_type},
        "tax_behavior": "unspecified", "tiers_mode": plan.tiers_mode, "transform_quantity": None, "type": "recurring",
        "unit_amount": plan.amount, "unit_amount_decimal": str(plan.amount),
    }


def _line_item(index: int, item: dict, mode: str) -> tuple[dict, dict | None]:
    """One ``line_items[i]`` parameter as Stripe's LineItem, and the Plan to create for it if it is a new recurring price."""
    prefix = f"line_items[{index}]"
    if not isinstance(item, dict):
        raise ApiError(400, f"Invalid object: {prefix}", param=prefix)
    if "quantity" not in item:
        raise _missing(f"{prefix}[quantity]")
    quantity = _as_int(item["quantity"], f"{prefix}[quantity]", 1)
    if "price" in item and "price_data" in item:
        raise ApiError(400, "You may only specify one of these parameters: price, price_data.", param=f"{prefix}[price]")
    new_plan = None
    if "price" in item:
        plan = _stored("plan", item["price"])
        if plan is None:  # localstripe has no one-time Prices; a price id is one of its Plans
            raise _no_such("price", item["price"], f"{prefix}[price]")
        price = _price_from_plan(plan)
        product = _stored("product", plan.product)
        description = product.name if product is not None else plan.nickname or plan.id
    elif "price_data" in item:
        data = item["price_data"] or {}
        for key in ("currency", "unit_amount"):
            if key not in data:
                raise _missing(f"{prefix}[price_data][{key}]")
        currency = str(data["currency"]).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise ApiError(400, f"Invalid currency: {data['currency']}", param=f"{prefix}[price_data][currency]")
        unit_amount = _as_int(data["unit_amount"], f"{prefix}[price_data][unit_amount]", 0)
        if "product" in data and "product_data" in data:
            raise ApiError(400, "You may only specify one of these parameters: product, product_data.",
                           param=f"{prefix}[price_data][product]")
        if "product" in data:
            product = _stored("product", data["product"])
            if product is None:
                raise _no_such("product", data["product"], f"{prefix}[price_data][product]")
            product_id, description, product_spec = product.id, product.name, None
        elif "product_data" in data:
            product_data = data["product_data"] or {}
            if not product_data.get("name"):
                raise _missing(f"{prefix}[price_data][product_data][name]")
            product_id, description = _random_id("prod_", 14), str(product_data["name"])
            product_spec = {"name": description, "description": product_data.get("description") or None,
                            "metadata": _metadata(product_data.get("metadata"))}
        else:
            raise _missing(f"{prefix}[price_data][product_data]")
        recurring = None
        if data.get("recurring"):
            interval = data["recurring"].get("interval")
            if interval not in _INTERVALS:
                raise ApiError(400, f"Invalid recurring[interval]: must be one of {', '.join(_INTERVALS)}",
                               param=f"{prefix}[price_data][recurring][interval]")
            count = _as_int(data["recurring"].get("interval_count", 1), f"{prefix}[price_data][recurring][interval_count]", 1)
            recurring = {"interval": interval, "interval_count": count, "meter": None, "trial_period_days": None,
                         "usage_type": "licensed"}
        price = {
            "id": _random_id("price_", 14), "object": "price", "active": False, "billing_scheme": "per_unit", "created": int(time.time()),
            "currency": currency, "custom_unit_amount": None, "livemode": False, "lookup_key": None, "metadata": {}, "nickname": None,
            "product": product_id, "recurring": recurring, "tax_behavior": "unspecified", "tiers_mode": None,
            "transform_quantity": None, "type": "recurring" if recurring else "one_time", "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }
        if recurring:
            new_plan = {"id": price["id"], "amount": unit_amount, "currency": currency, "interval": recurring["interval"],
                        "interval_count": recurring["interval_count"], "product": product_id, "product_spec": product_spec}
    else:
        raise _missing(f"{prefix}[price]")
    if mode == "payment" and price["recurring"]:
        raise ApiError(400, "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode "
                       "or use only one-time prices.", param=f"{prefix}[price]")
    amount = price["unit_amount"] * quantity
    line = {
        "id": _random_id("li_"), "object": "item", "adjustable_quantity": None, "amount_discount": 0, "amount_subtotal": amount,
        "amount_tax": 0, "amount_total": amount, "currency": price["currency"], "description": description, "metadata": {},
        "price": price, "quantity": quantity,
    }
    return line, new_plan


def _line_item_list(checkout: _Checkout, query: dict | None = None) -> dict:
    return _page(checkout.line_items, query or {}, f"/v1/checkout/sessions/{checkout.obj['id']}/line_items")


def _page(items: list[dict], query: dict, url: str) -> dict:
    limit = min(_as_int(query.get("limit", 10), "limit", 1), 100)
    start = 0
    if query.get("starting_after"):
        ids = [item["id"] for item in items]
        if query["starting_after"] not in ids:
            raise _no_such("object", query["starting_after"], "starting_after")
        start = ids.index(query["starting_after"]) + 1
    return {"object": "list", "data": copy.deepcopy(items[start:start + limit]), "has_more": start + limit < len(items), "url": url}


_EXPANDABLE = {"payment_intent": PaymentIntent, "subscription": Subscription, "customer": Customer, "invoice": Invoice}


def _export_session(checkout: _Checkout, expand: list[str] | None = None) -> dict:
    obj = copy.deepcopy(checkout.obj)
    for path in expand or []:
        if path == "line_items":
            obj["line_items"] = _line_item_list(checkout)
        elif path in _EXPANDABLE:
            if obj[path]:
                obj[path] = _EXPANDABLE[path]._api_retrieve(obj[path])._export()
        else:
            raise ApiError(400, f"This property cannot be expanded ({path}).", param="expand")
    return obj


def _checkout_or_404(session_id: str) -> _Checkout:
    checkout = STATE.checkouts.get(session_id)
    if checkout is None:
        raise _no_such("checkout.session", session_id, "id", status=404)
    return checkout


async def checkout_create(request: web.Request) -> web.Response:
    data = await _form(request)
    _check_params(data, _CHECKOUT_CREATE)
    mode = data.get("mode")
    if not mode:
        raise _missing("mode")
    if mode not in ("payment", "subscription"):
        raise ApiError(400, f"Invalid mode: {mode}; the emulator supports payment and subscription", param="mode")
    if not data.get("success_url"):
        raise _missing("success_url")
    for key in ("success_url", "cancel_url"):
        if data.get(key) and not _is_url(data[key]):
            raise ApiError(400, f"Not a valid URL: {data[key]}", code="url_invalid", param=key)
    if not data.get("line_items"):
        raise _missing("line_items")
    if data.get("customer") and data.get("customer_email"):
        raise ApiError(400, "You may only specify one of these parameters: customer, customer_email.", param="customer_email")
    customer = data.get("customer") or None
    if customer and _stored("customer", customer) is None:
        raise _no_such("customer", customer, "customer")
    if mode == "payment" and data.get("subscription_data"):
        raise ApiError(400, "You can not pass `subscription_data` in `payment` mode.", param="subscription_data")
    if mode == "subscription" and data.get("payment_intent_data"):
        raise ApiError(400, "You can not pass `payment_intent_data` in `subscription` mode.", param="payment_intent_data")

    lines, new_prices = [], {}
    for index, item in enumerate(data["line_items"]):
        line, new_plan = _line_item(index, item, mode)
        lines.append(line)
        if new_plan:
            new_prices[new_plan["id"]] = new_plan
    currency = lines[0]["currency"]
    if any(line["currency"] != currency for line in lines):
        raise ApiError(400, "All line items must use the same currency.", param="line_items")
    total = sum(line["amount_total"] for line in lines)
    if mode == "payment" and total <= 0:
        raise ApiError(400, "The Checkout Session's total amount due must be greater than zero.", param="line_items")
    if mode == "subscription":
        # localstripe subscriptions hold exactly one item, so one recurring line item is all the fake can start.
        if len(lines) != 1:
            raise ApiError(400, "The Stripe emulator supports exactly one line item in `subscription` mode.", param="line_items")
        if not lines[0]["price"]["recurring"]:
            raise ApiError(400, "You must provide at least one recurring price in `subscription` mode when using prices.",
                           param="line_items[0][price]")

    trial = None
    subscription_data = data.get("subscription_data") or {}
    if subscription_data.get("trial_period_days") not in (None, ""):
        trial = _as_int(subscription_data["trial_period_days"], "subscription_data[trial_period_days]", 1)
    shipping = None
    if data.get("shipping_address_collection"):
        countries = data["shipping_address_collection"].get("allowed_countries") or []
        if not countries:
            raise _missing("shipping_address_collection[allowed_countries]")
        countries = [str(country).upper() for country in countries]
        bad = [country for country in countries if not re.fullmatch(r"[A-Z]{2}", country)]
        if bad:
            raise ApiError(400, f"Invalid country: {bad[0]}", param="shipping_address_collection[allowed_countries]")
        shipping = {"allowed_countries": countries}

    session_id = _random_id("cs_test_", 58)
    created = int(time.time())
    obj = {
        "id": session_id, "object": "checkout.session", "mode": mode, "status": "open", "payment_status": "unpaid",
        "amount_subtotal": total, "amount_total": total, "currency": currency,
        "customer": customer, "customer_email": data.get("customer_email") or None, "customer_details": None,
        "client_reference_id": data.get("client_reference_id") or None, "metadata": _metadata(data.get("metadata")),
        "payment_intent": None, "subscription": None, "invoice": None,
        "success_url": data["success_url"], "cancel_url": data.get("cancel_url") or None,
        "url": f"{_base_url(request)}/pay/{session_id}", "created": created, "expires_at": created + 86400,
        "livemode": False, "locale": data.get("locale") or None, "shipping_address_collection": shipping,
        "collected_information": None, "payment_method_types": ["card"], "ui_mode": "hosted",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    }
    checkout = _Checkout(
        obj=obj, line_items=lines, new_prices=new_prices,
        payment_intent_metadata=_metadata((data.get("payment_intent_data") or {}).get("metadata")),
        subscription_metadata=_metadata(subscription_data.get("metadata")), trial_period_days=trial,
    )
    expand = _expand_list(data.get("expand"))
    response = _export_session(checkout, expand)  # before storing: a bad expand must not leave a session behind
    STATE.checkouts[session_id] = checkout
    return _json(response)


async def checkout_retrieve(request: web.Request) -> web.Response:
    query = await _form(request)
    _check_params(query, _CHECKOUT_RETRIEVE)
    checkout = _checkout_or_404(request.match_info["id"])
    return _json(_export_session(checkout, _expand_list(query.get("expand"))))


async def checkout_list(request: web.Request) -> web.Response:
    query = await _form(request)
    _check_params(query, _CHECKOUT_LIST)
    sessions = list(reversed(STATE.checkouts.values()))  # newest first, as Stripe lists them
    for key in ("customer", "payment_intent", "subscription", "status"):
        if query.get(key):
            sessions = [c for c in sessions if c.obj[key] == query[key]]
    page = _page([c.obj for c in sessions], query, "/v1/checkout/sessions")
    expand = [path.removeprefix("data.") for path in _expand_list(query.get("expand"))]
    page["data"] = [_export_session(STATE.checkouts[item["id"]], expand) for item in page["data"]]
    return _json(page)


async def checkout_line_items(request: web.Request) -> web.Response:
    query = await _form(request)
    _check_params(query, _LINE_ITEMS_LIST)
    return _json(_line_item_list(_checkout_or_404(request.match_info["id"]), query))


async def checkout_expire(request: web.Request) -> web.Response:
    data = await _form(request)
    _check_params(data, _EXPIRE)
    checkout = _checkout_or_404(request.match_info["id"])
    if checkout.obj["status"] != "open":
        raise ApiError(400, f'Only Checkout Sessions with a status in ["open"] can be expired. This session is '
                       f'{checkout.obj["status"]}.')
    checkout.obj.update(status="expired", url=None)
    # Real Stripe sends this one asynchronously, after answering.
    _spawn(_deliver(_new_event("checkout.session.expired", _export_session(checkout))))
    return _json(_export_session(checkout, _expand_list(data.get("expand"))))


def _shipping_details(checkout: _Checkout, shipping: Any) -> dict | None:
    collection = checkout.obj["shipping_address_collection"]
    if not collection:
        if shipping:
            raise ApiError(400, "This Checkout Session does not collect a shipping address.", param="shipping")
        return None
    if not isinstance(shipping, dict) or not shipping:
        raise ApiError(400, "This Checkout Session needs a shipping address.", code="parameter_missing", param="shipping")
    unknown = set(shipping) - {"name", "address"}
    address = shipping.get("address") or {}
    if not isinstance(address, dict):
        raise ApiError(400, "Invalid object: shipping[address]", param="shipping[address]")
    fields = ("line1", "line2", "city", "state", "postal_code", "country")
    unknown |= {f"address[{key}]" for key in set(address) - set(fields)}
    if unknown:
        first = sorted(unknown)[0]
        raise ApiError(400, f"Received unknown parameter: shipping[{first}]", code="parameter_unknown", param=f"shipping[{first}]")
    clean = {key: (str(address.get(key) or "").strip() or None) for key in fields}
    name = str(shipping.get("name") or "").strip()
    if not name:
        raise _missing("shipping[name]")
    for key in ("line1", "city", "postal_code", "country"):
        if not clean[key]:
            raise _missing(f"shipping[address][{key}]")
    clean["country"] = clean["country"].upper()
    if clean["country"] not in collection["allowed_countries"]:
        raise ApiError(400, f"This Checkout Session does not ship to {clean['country']}; it ships to "
                       f"{', '.join(collection['allowed_countries'])}.", param="shipping[address][country]")
    return {"name": name, "address": {key: clean[key] for key in sorted(clean)}}


def _card_payment_method(card: Any, email: str, name: str | None):
    number = re.sub(r"[\s-]", "", str(card or ""))
    if not re.fullmatch(r"\d{16}", number):
        raise _card_error("Your card number is incorrect.", "incorrect_number", param="card")
    payment_method = PaymentMethod._api_create(
        type="card", card={"number": number, "exp_month": 12, "exp_year": time.gmtime().tm_year + 5, "cvc": "123"},
        billing_details={"email": email, "name": name},
    )
    # localstripe declines 4000000000000002 only when a card is attached and 4000000000000341 only when it is charged;
    # Checkout refuses both before it creates anything, as real Checkout does.
    if payment_method._attaching_is_declined() or payment_method._charging_is_declined():
        raise _card_error("Your card was declined.", "card_declined", decline_code="generic_decline")
    return payment_method


def _pass_3ds(payment_intent) -> None:
    # On the hosted page the customer would pass 3-D Secure; localstripe leaves such cards in requires_action.
    if payment_intent.status == "requires_action":
        PaymentIntent._api_authenticate(payment_intent.id, client_secret=payment_intent.client_secret, success=True)


def _pay(checkout: _Checkout, payment_method) -> None:
    obj = checkout.obj
    try:
        payment_intent = PaymentIntent._api_create(
            amount=obj["amount_total"], currency=obj["currency"], customer=obj["customer"], payment_method=payment_method.id,
            metadata=dict(checkout.payment_intent_metadata), confirm=True,
        )
    except UserError as error:
        raise _card_error(error.body.get("error", {}).get("message") or "Your card was declined.", "card_declined") from None
    _pass_3ds(payment_intent)
    if payment_intent.status != "succeeded":
        raise _card_error("Your card was declined.", "card_declined", payment_intent=payment_intent.id)
    obj["payment_intent"] = payment_intent.id


def _subscribe(checkout: _Checkout, payment_method, email: str, name: str | None) -> None:
    obj = checkout.obj
    line = checkout.line_items[0]
    plan_id = line["price"]["id"]
    spec = checkout.new_prices.get(plan_id)
    if spec and _stored("plan", plan_id) is None:
        if spec["product_spec"] and _stored("product", spec["product"]) is None:
            Product._api_create(id=spec["product"], type="service", **spec["product_spec"])
        Plan._api_create(id=plan_id, amount=spec["amount"], currency=spec["currency"], interval=spec["interval"],
                         interval_count=spec["interval_count"], product=spec["product"])
    if obj["customer"]:
        PaymentMethod._api_attach(payment_method.id, customer=obj["customer"])
        Customer._api_update(obj["customer"], invoice_settings={"default_payment_method": payment_method.id})
        customer_id = obj["customer"]
    else:
        customer_id = Customer._api_create(
            email=email, name=name, payment_method=payment_method.id,
            invoice_settings={"default_payment_method": payment_method.id},
        ).id
    with _held_localstripe_events() as held:
        subscription = Subscription._api_create(
            customer=customer_id, items=[{"plan": plan_id, "quantity": line["quantity"]}],
            metadata=dict(checkout.subscription_metadata), trial_period_days=checkout.trial_period_days,
        )
        if checkout.trial_period_days:
            # localstripe skips the first invoice for a trial but leaves the subscription "incomplete"; Stripe says trialing.
            now = int(time.time())
            subscription.status = "trialing"
            subscription.trial_start = now
            subscription.trial_end = now + checkout.trial_period_days * 86400
        elif subscription.status == "incomplete" and subscription.latest_invoice:
            invoice = Invoice._api_retrieve(subscription.latest_invoice)
            if invoice.payment_intent:
                _pass_3ds(PaymentIntent._api_retrieve(invoice.payment_intent))
        # The held customer.subscription.* events were snapshotted before the corrections above.
        for event in held:
            if event.type.startswith("customer.subscription."):
                event.data["object"] = subscription._export()
    if subscription.status not in ("active", "trialing"):
        raise _card_error("Your card was declined.", "card_declined")
    obj.update(customer=customer_id, subscription=subscription.id, invoice=subscription.latest_invoice)


async def _complete(checkout: _Checkout, *, card: Any, email: Any, shipping: Any, wait: bool) -> dict:
    """Pay ``checkout`` with ``card``: what the hosted page's Pay button does. Raises ApiError and changes nothing
    visible in the session when the card is declined or the form is incomplete."""
    obj = checkout.obj
    if obj["status"] != "open":
        raise ApiError(400, f"This Checkout Session is {obj['status']}; only open sessions can be paid.", param="id")
    shipping_details = _shipping_details(checkout, shipping)
    customer = _stored("customer", obj["customer"])
    email = str(email or obj["customer_email"] or (customer.email if customer is not None else None) or DEFAULT_EMAIL)
    name = shipping_details["name"] if shipping_details else (customer.name if customer is not None else None)
    payment_method = _card_payment_method(card, email, name)
    if obj["mode"] == "payment":
        _pay(checkout, payment_method)
        payment_status = "paid"
    else:
        _subscribe(checkout, payment_method, email, name)
        payment_status = "no_payment_required" if checkout.trial_period_days else "paid"
    obj.update(
        status="complete", payment_status=payment_status, url=None,
        customer_details={"address": None, "email": email, "name": name, "phone": None, "tax_exempt": "none", "tax_ids": []},
        collected_information={"shipping_details": shipping_details} if shipping_details else None,
    )
    delivery = _deliver(_new_event("checkout.session.completed", _export_session(checkout)))
    if wait:
        await delivery
    else:
        _spawn(delivery)
    return _export_session(checkout)


# --- the hosted checkout page -------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
.notice { background: #fff4d6; padding: .5rem .75rem; border-radius: 4px; }
.error { background: #fde2e1; color: #8a1c14; padding: .5rem .75rem; border-radius: 4px; }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; } td, th { padding: .35rem; border-bottom: 1px solid #ddd; text-align: left; }
label { display: block; margin-top: .6rem; } input { width: 100%; padding: .4rem; box-sizing: border-box; }
button { margin-top: 1rem; padding: .6rem 1.5rem; font-size: 1rem; } form.inline { display: inline; } form.inline button { margin-right: .5rem; }
"""


def _page_html(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>\n")


def _interval_text(recurring: dict | None) -> str:
    if not recurring:
        return ""
    count, interval = recurring["interval_count"], recurring["interval"]
    return f" / {interval}" if count == 1 else f" every {count} {interval}s"


def _input(ident: str, label: str, value: Any = "", **attributes: str) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{html.escape(val)}"' for key, val in attributes.items())
    return (f'<label for="{ident}">{html.escape(label)}</label>'
            f'<input id="{ident}" name="{ident}" value="{html.escape(str(value or ""))}"{extra}>')


def _checkout_page(checkout: _Checkout, *, form: dict | None = None, error: str | None = None) -> str:
    obj, form = checkout.obj, form or {}
    esc = html.escape
    if obj["status"] != "open":
        text = "This payment is complete." if obj["status"] == "complete" else "This checkout session has expired."
        link = obj["success_url"].replace("{CHECKOUT_SESSION_ID}", obj["id"]) if obj["status"] == "complete" else obj["cancel_url"]
        back = f'<p><a id="back" href="{esc(link)}">Back to PetMemories</a></p>' if link else ""
        return _page_html(PAGE_TITLE, f'<h1>PetMemories test checkout</h1><p id="status">{text}</p>{back}')
    rows = "".join(
        f'<tr class="line-item"><td>{esc(line["description"] or "")}</td><td>{line["quantity"]}</td>'
        f'<td>{esc(format_amount(line["amount_total"], line["currency"]) + _interval_text(line["price"]["recurring"]))}</td></tr>'
        for line in checkout.line_items
    )
    recurring = checkout.line_items[0]["price"]["recurring"] if obj["mode"] == "subscription" else None
    total = format_amount(obj["amount_total"], obj["currency"]) + _interval_text(recurring)
    trial = f'<p id="trial">Free for {checkout.trial_period_days} days, then {esc(total)}.</p>' if checkout.trial_period_days else ""
    shipping = ""
    if obj["shipping_address_collection"]:
        countries = obj["shipping_address_collection"]["allowed_countries"]
        default_country = countries[0] if len(countries) == 1 else ""
        shipping = (
            "<fieldset><legend>Shipping address</legend>"
            + _input("shipping-name", "Full name", form.get("shipping-name"), autocomplete="name")
            + _input("shipping-line1", "Address line 1", form.get("shipping-line1"), autocomplete="address-line1")
            + _input("shipping-line2", "Address line 2", form.get("shipping-line2"), autocomplete="address-line2")
            + _input("shipping-city", "City", form.get("shipping-city"), autocomplete="address-level2")
            + _input("shipping-state", "State / province", form.get("shipping-state"), autocomplete="address-level1")
            + _input("shipping-postal-code", "Postal code", form.get("shipping-postal-code"), autocomplete="postal-code")
            + _input("shipping-country", f"Country ({', '.join(countries)})", form.get("shipping-country", default_country),
                     autocomplete="country")
            + "</fieldset>"
        )
    email = form.get("email", obj["customer_email"] or "")
    cancel = f' <a id="cancel" href="{esc(obj["cancel_url"])}">Cancel</a>' if obj["cancel_url"] else ""
    body = (
        "<h1>PetMemories test checkout</h1>"
        '<p class="notice">A local Stripe emulator for tests. This is not Stripe and no money moves.</p>'
        + (f'<p id="error" class="error" role="alert">{esc(error)}</p>' if error else "")
        + f'<table id="line-items"><thead><tr><th>Item</th><th>Qty</th><th>Amount</th></tr></thead><tbody>{rows}</tbody>'
        f'<tfoot><tr><th colspan="2">Total</th><td id="total">{esc(total)}</td></tr></tfoot></table>{trial}'
        f'<form id="checkout-form" method="post" action="/pay/{esc(obj["id"])}">'
        + _input("email", "Email", email, type="email", autocomplete="email")
        + shipping
        + _input("card", "Card number", form.get("card", TEST_CARD), inputmode="numeric", autocomplete="off")
        + f'<button id="pay" name="pay" type="submit">Pay</button>{cancel}</form>'
    )
    return _page_html(PAGE_TITLE, body)


async def pay_page(request: web.Request) -> web.Response:
    checkout = STATE.checkouts.get(request.match_info["id"])
    if checkout is None:
        return web.Response(status=404, content_type="text/html", text=_page_html(PAGE_TITLE, "<p>No such checkout session.</p>"))
    return web.Response(content_type="text/html", text=_checkout_page(checkout))


async def pay_submit(request: web.Request) -> web.StreamResponse:
    checkout = STATE.checkouts.get(request.match_info["id"])
    if checkout is None:
        return web.Response(status=404, content_type="text/html", text=_page_html(PAGE_TITLE, "<p>No such checkout session.</p>"))
    form = {key: str(value) for key, value in (await request.post()).items()}
    shipping = None
    if checkout.obj["shipping_address_collection"]:
        shipping = {"name": form.get("shipping-name", ""), "address": {
            "line1": form.get("shipping-line1"), "line2": form.get("shipping-line2"), "city": form.get("shipping-city"),
            "state": form.get("shipping-state"), "postal_code": form.get("shipping-postal-code"), "country": form.get("shipping-country"),
        }}
    try:
        # Like real Checkout, redirect at once; the webhook follows in the background and may lose the race.
        await _complete(checkout, card=form.get("card"), email=form.get("email"), shipping=shipping, wait=False)
    except ApiError as error:
        page = _checkout_page(checkout, form=form, error=error.body["error"]["message"])
        return web.Response(status=error.code, content_type="text/html", text=page)
    raise web.HTTPSeeOther(checkout.obj["success_url"].replace("{CHECKOUT_SESSION_ID}", checkout.obj["id"]))


# --- the billing portal -----------------------------------------------------------------------------------------

async def portal_create(request: web.Request) -> web.Response:
    data = await _form(request)
    _check_params(data, _PORTAL_CREATE)
    if not data.get("customer"):
        raise _missing("customer")
    if _stored("customer", data["customer"]) is None:
        raise _no_such("customer", data["customer"], "customer")
    if data.get("return_url") and not _is_url(data["return_url"]):
        raise ApiError(400, f"Not a valid URL: {data['return_url']}", code="url_invalid", param="return_url")
    if _expand_list(data.get("expand")):
        raise ApiError(400, f"This property cannot be expanded ({_expand_list(data['expand'])[0]}).", param="expand")
    portal_id = _random_id("bps_")
    obj = {
        "id": portal_id, "object": "billing_portal.session", "configuration": "bpc_emulator", "created": int(time.time()),
        "customer": data["customer"], "flow": None, "livemode": False, "locale": data.get("locale") or None,
        "on_behalf_of": None, "return_url": data.get("return_url") or None, "url": f"{_base_url(request)}/portal/{portal_id}",
    }
    STATE.portals[portal_id] = obj
    return _json(obj)


def _portal_or_404(portal_id: str) -> dict:
    portal = STATE.portals.get(portal_id)
    if portal is None:
        raise _no_such("billing_portal.session", portal_id, "id", status=404)
    return portal


def _plan_label(plan) -> str:
    if plan.nickname:
        return plan.nickname
    product = _stored("product", plan.product)
    return product.name if product is not None else plan.id


def _other_plans(subscription) -> list:
    current = subscription.plan
    plans = Plan._api_list_all(None, product=current.product, active=True)._list
    return sorted((plan for plan in plans if plan.id != current.id), key=lambda plan: (plan.amount, plan.id))


def _portal_apply(portal: dict, action: Any, subscription_id: Any, plan_id: Any = None) -> tuple[dict, dict | None]:
    """Press a portal button: update the subscription in localstripe and build the ``customer.subscription.updated``
    event localstripe would not send (None when nothing changed)."""
    subscription = _stored("subscription", subscription_id)
    if subscription is None or subscription.customer != portal["customer"]:
        raise _no_such("subscription", subscription_id, "subscription", status=404)
    if subscription.status in ("canceled", "incomplete_expired"):
        raise ApiError(400, f"Subscription {subscription.id} is {subscription.status}.", param="subscription")
    before = subscription._export()
    if action == "cancel":  # the portal's default: cancel at the end of the period
        Subscription._api_update(subscription.id, cancel_at_period_end=True)
        subscription.cancel_at = subscription.current_period_end
        subscription.canceled_at = int(time.time())
        subscription.cancellation_details = {"comment": None, "feedback": None, "reason": "cancellation_requested"}
    elif action == "renew":
        Subscription._api_update(subscription.id, cancel_at_period_end=False)
        subscription.cancel_at = None
        subscription.canceled_at = None
        subscription.cancellation_details = {"comment": None, "feedback": None, "reason": None}
    elif action == "switch":
        if plan_id in (None, ""):
            raise _missing("plan")
        if plan_id not in {plan.id for plan in _other_plans(subscription)}:
            raise ApiError(400, f"Cannot switch {subscription.id} to {plan_id}: not another active plan of the same product.",
                           param="plan")
        item = subscription.items._list[0]
        Subscription._api_update(subscription.id, items=[{"id": item.id, "plan": plan_id, "quantity": subscription.quantity}])
    else:
        raise ApiError(400, f"Invalid action: {action}; must be one of cancel, renew, switch", param="action")
    after = subscription._export()
    previous = _changed(before, after)
    event = _new_event("customer.subscription.updated", after, previous) if previous else None
    return after, event


async def portal_action(request: web.Request) -> web.Response:
    portal = _portal_or_404(request.match_info["id"])
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise ApiError(400, "The body must be JSON.") from None
    subscription, event = _portal_apply(portal, data.get("action"), data.get("subscription"), data.get("plan"))
    if event:
        await _deliver(event)
    return _json(subscription)


def _portal_page(portal: dict, error: str | None = None) -> str:
    esc = html.escape
    subscriptions = Subscription._api_list_all(None, customer=portal["customer"])._list
    sections = []
    for subscription in sorted(subscriptions, key=lambda s: s.created):
        plan = subscription.plan
        price = format_amount(plan.amount * subscription.quantity, plan.currency)
        recurring = {"interval": plan.interval, "interval_count": plan.interval_count}
        ending = ""
        if subscription.cancel_at_period_end:
            ending = f'<p class="ending">Cancels at the end of the period ({time.strftime("%Y-%m-%d", time.gmtime(subscription.current_period_end))}).</p>'

        def button(action: str, label: str, ident: str, plan_id: str = "", sub=subscription) -> str:
            return (f'<form class="inline" method="post" action="/portal/{esc(portal["id"])}/action">'
                    f'<input type="hidden" name="action" value="{action}"><input type="hidden" name="subscription" value="{esc(sub.id)}">'
                    f'<input type="hidden" name="plan" value="{esc(plan_id)}">'
                    f'<button type="submit" id="{esc(ident)}">{esc(label)}</button></form>')

        buttons = [button("renew", "Renew plan", f"renew-{subscription.id}") if subscription.cancel_at_period_end
                   else button("cancel", "Cancel plan", f"cancel-{subscription.id}")]
        buttons += [button("switch", f"Switch to {_plan_label(other)}", f"switch-{subscription.id}-{other.id}", other.id)
                    for other in _other_plans(subscription)]
        sections.append(
            f'<section class="subscription" id="subscription-{esc(subscription.id)}"><h2>{esc(_plan_label(plan))}</h2>'
            f'<p class="price">{esc(price + _interval_text(recurring))}</p><p class="status">Status: {esc(subscription.status)}</p>'
            f'{ending}<div class="actions">{"".join(buttons)}</div></section>'
        )
    body = (
        "<h1>PetMemories test billing portal</h1>"
        '<p class="notice">A local Stripe emulator for tests. This is not Stripe and no money moves.</p>'
        + (f'<p id="error" class="error" role="alert">{esc(error)}</p>' if error else "")
        + ("".join(sections) or '<p id="no-subscriptions">No subscriptions.</p>')
        + (f'<p><a id="return" href="{esc(portal["return_url"])}">Return to PetMemories</a></p>' if portal["return_url"] else "")
    )
    return _page_html("PetMemories test billing portal — not Stripe", body)


async def portal_page(request: web.Request) -> web.Response:
    portal = STATE.portals.get(request.match_info["id"])
    if portal is None:
        return web.Response(status=404, content_type="text/html", text=_page_html("Not found", "<p>No such portal session.</p>"))
    return web.Response(content_type="text/html", text=_portal_page(portal))


async def portal_submit(request: web.Request) -> web.StreamResponse:
    portal = STATE.portals.get(request.match_info["id"])
    if portal is None:
        return web.Response(status=404, content_type="text/html", text=_page_html("Not found", "<p>No such portal session.</p>"))
    form = await request.post()
    try:
        _, event = _portal_apply(portal, form.get("action"), form.get("subscription"), form.get("plan") or None)
    except UserError as error:
        message = error.body.get("error", {}).get("message") or "That did not work."
        return web.Response(status=error.code, content_type="text/html", text=_portal_page(portal, message))
    if event:
        await _deliver(event)  # delivered before the page comes back, so the product has heard of it by then
    raise web.HTTPSeeOther(f"/portal/{portal['id']}")


# --- control endpoints --------------------------------------------------------------------------------------------

async def _json_body(request: web.Request) -> dict:
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise ApiError(400, "The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return data


async def invoice_finalize(request: web.Request) -> web.Response:
    """A draft invoice becomes open (or paid, when nothing is due), and ``invoice.finalized`` is sent, as Stripe does."""
    data = await _form(request)
    _check_params(data, _FINALIZE)
    invoice = _stored("invoice", request.match_info["id"])
    if invoice is None:
        raise _no_such("invoice", request.match_info["id"], status=404)
    if invoice.status != "draft":
        raise ApiError(400, "This invoice is already finalized, you can't re-finalize a non-draft invoice.", code="invoice_not_editable")
    invoice._finalize()
    resources.schedule_webhook(Event("invoice.finalized", invoice))
    return _json(invoice._export(expand=_expand_list(data.get("expand"))))


async def control_health(request: web.Request) -> web.Response:
    import localstripe

    return _json({"ok": True, "localstripe": localstripe.__version__, "api_version": STATE.api_version})


async def control_reset(request: web.Request) -> web.Response:
    for task in list(STATE.tasks):
        task.cancel()
    STATE.tasks.clear()
    store.clear()
    ls_webhooks._webhooks.clear()
    STATE.checkouts.clear()
    STATE.portals.clear()
    STATE.deliveries.clear()
    STATE.idempotent.clear()
    return _json({"ok": True})


async def control_webhooks(request: web.Request) -> web.Response:
    data = await _json_body(request)
    url, secret, events = data.get("url"), data.get("secret"), data.get("events")
    if not _is_url(url) or not isinstance(secret, str) or not secret:
        raise ApiError(400, "Give a webhook url (http or https) and a secret.")
    if events is not None and (not isinstance(events, list) or not all(isinstance(e, str) for e in events)):
        raise ApiError(400, "events must be a list of event types.", param="events")
    # localstripe's own registry, as POST /_config/webhooks/{id} fills it: its events and the fake's go to the same place.
    ls_webhooks.register_webhook(str(data.get("id") or "emulator"), url, secret, events)
    return _json({"ok": True})


async def control_deliveries(request: web.Request) -> web.Response:
    return _json({"data": STATE.deliveries})


async def control_event(request: web.Request) -> web.Response:
    data = await _json_body(request)
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise _missing("type")
    if not isinstance(data.get("object"), dict):
        raise _missing("object")
    previous = data.get("previous_attributes")
    event = _new_event(data["type"], data["object"], previous if isinstance(previous, dict) else None)
    await _deliver(event)
    return _json(event)


async def control_complete(request: web.Request) -> web.Response:
    checkout = _checkout_or_404(request.match_info["id"])
    data = await _json_body(request)
    unknown = set(data) - {"card", "shipping", "email"}
    if unknown:
        raise ApiError(400, f"Received unknown parameter: {sorted(unknown)[0]}", code="parameter_unknown", param=sorted(unknown)[0])
    return _json(await _complete(checkout, card=data.get("card", TEST_CARD), email=data.get("email"),
                                 shipping=data.get("shipping"), wait=True))


# --- middleware and app -------------------------------------------------------------------------------------------

_PUBLIC = ("/pay/", "/portal/", "/_emulator/")


@web.middleware
async def _auth(request: web.Request, handler):
    # The hosted pages are opened by a browser and the control endpoints by tests: neither carries an API key.
    if request.path.startswith(_PUBLIC):
        return await handler(request)
    return await ls_server.auth_middleware(request, handler)


@web.middleware
async def _idempotency(request: web.Request, handler):
    """Stripe's idempotent requests: a POST repeated with the same ``Idempotency-Key`` gets the first answer back (stripe-python
    sends keys on its retries, and the product sends its own); the same key with other parameters is an error."""
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    fingerprint = hashlib.sha256(request.path.encode() + b"\0" + await request.read()).hexdigest()
    saved = STATE.idempotent.get(key)
    if saved is not None:
        if saved[0] != fingerprint:
            raise ApiError(400, f"Keys for idempotent requests can only be used with the same parameters they were first used "
                           f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                           type="idempotency_error")
        return web.Response(status=saved[1], body=saved[2], content_type=saved[3], headers={"Idempotent-Replayed": "true"})
    try:
        response = await handler(request)
    except UserError as error:
        response = error.to_response()
    # Like Stripe, remember results (success or a card decline) but not validation errors, which may be fixed and retried.
    if isinstance(response, web.Response) and (response.status < 400 or response.status == 402):
        STATE.idempotent[key] = (fingerprint, response.status, response.body, response.content_type)
    return response


async def _open_http(app: web.Application) -> None:
    STATE.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))


async def _close_http(app: web.Application) -> None:
    for task in list(STATE.tasks):
        task.cancel()
    if STATE.http is not None:
        await STATE.http.close()


_built = False


def _renewals_fail_like_stripe() -> None:
    """localstripe charges an invoice paid through ``POST /v1/invoices/{id}/pay`` but drops a decline on the floor; Stripe
    marks the invoice's subscription past_due and sends invoice.payment_failed (and a later success makes it active)."""
    confirm = PaymentIntent._confirm

    def _confirm(self, on_failure_now):
        def failed_now():
            invoice = Invoice._api_retrieve(self.invoice) if self.invoice else None
            if invoice is not None and invoice.subscription and Subscription._api_retrieve(invoice.subscription).status != "incomplete":
                invoice._on_payment_failure_now()
            return on_failure_now()

        return confirm(self, on_failure_now=failed_now)

    PaymentIntent._confirm = _confirm


def _invoices_of_pending_items() -> None:
    """localstripe makes an invoice only for a subscription; Stripe also makes a draft of a customer's pending invoice items
    (``pending_invoice_items_behavior="include"``), which is then finalized (``invoice_finalize``)."""
    create = Invoice._api_create.__func__

    def _api_create(cls, customer=None, subscription=None, pending_invoice_items_behavior=None, description=None, metadata=None, **rest):
        if subscription is not None or pending_invoice_items_behavior != "include":
            return create(cls, customer=customer, subscription=subscription, pending_invoice_items_behavior=pending_invoice_items_behavior,
                          description=description, metadata=metadata, **rest)
        if rest:
            raise ApiError(400, f"Received unknown parameter: {sorted(rest)[0]}", code="parameter_unknown", param=sorted(rest)[0])
        if not InvoiceItem._api_list_all(None, customer=customer, limit=99)._list:  # its pending items only
            raise ApiError(400, "Nothing to invoice for customer", code="invoice_no_customer_line_items")
        return cls(customer=customer, description=description, metadata=metadata)

    Invoice._api_create = classmethod(_api_create)


def build_app(api_version: str = DEFAULT_API_VERSION) -> web.Application:
    """localstripe's module-level app with the fake's routes and fixes added; call once per process."""
    global _built
    app = ls_server.app
    STATE.api_version = api_version
    if _built:
        return app
    _built = True
    # localstripe pickles its store to /tmp/localstripe.pickle on every write; an emulator starts empty and stays in memory.
    store.dump_to_disk = lambda: None
    resources.schedule_webhook = _schedule_localstripe_webhook
    _renewals_fail_like_stripe()
    _invoices_of_pending_items()
    middlewares = app.middlewares
    middlewares[middlewares.index(ls_server.auth_middleware)] = _auth
    middlewares.append(_idempotency)
    app.on_startup.append(_open_http)
    app.on_cleanup.append(_close_http)
    router = app.router
    router.add_post("/v1/checkout/sessions", checkout_create)
    router.add_get("/v1/checkout/sessions", checkout_list)
    router.add_get("/v1/checkout/sessions/{id}", checkout_retrieve)
    router.add_get("/v1/checkout/sessions/{id}/line_items", checkout_line_items)
    router.add_post("/v1/checkout/sessions/{id}/expire", checkout_expire)
    router.add_post("/v1/billing_portal/sessions", portal_create)
    router.add_post("/v1/invoices/{id}/finalize", invoice_finalize)
    router.add_get("/pay/{id}", pay_page)
    router.add_post("/pay/{id}", pay_submit)
    router.add_get("/portal/{id}", portal_page)
    router.add_post("/portal/{id}/action", portal_submit)
    router.add_get("/_emulator/health", control_health)
    router.add_post("/_emulator/reset", control_reset)
    router.add_post("/_emulator/webhooks", control_webhooks)
    router.add_get("/_emulator/deliveries", control_deliveries)
    router.add_post("/_emulator/events", control_event)
    router.add_post("/_emulator/checkout/{id}/complete", control_complete)
    router.add_post("/_emulator/portal/{id}/action", portal_action)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.stripe_emulator", description="Local Stripe emulator for tests.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-version", default=DEFAULT_API_VERSION, help="api_version stamped on the fake's events")
    args = parser.parse_args(argv)
    app = build_app(args.api_version)
    print(f"Stripe emulator on http://127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)
