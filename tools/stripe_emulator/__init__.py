"""A local Stripe for the test suite: localstripe plus fakes of Checkout Sessions and the Billing Portal.

The server (``server.py``, run as ``python -m tools.stripe_emulator --port N``) is one aiohttp process on
127.0.0.1. This module is the test side: it starts and stops that process and drives its control endpoints
over HTTP, so importing it costs no aiohttp or localstripe.

    emulator, stop = start_stripe_emulator()
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": emulator.api_base})

or, in a conftest, ``from tools.stripe_emulator import stripe_emulator`` for a session-wide fixture.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]

# Stripe's zero- and three-decimal currencies: their amounts are not in hundredths.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_SYMBOLS = {"krw": "₩", "usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}


def format_amount(amount: int, currency: str) -> str:
    """``format_amount(39000, "krw") == "₩39,000"``, ``format_amount(1999, "usd") == "$19.99"``: how the hosted pages show money."""
    code = currency.lower()
    digits = 0 if code in ZERO_DECIMAL_CURRENCIES else 3 if code in THREE_DECIMAL_CURRENCIES else 2
    text = f"{Decimal(int(amount)).scaleb(-digits):,.{digits}f}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{text}" if symbol else f"{text} {code.upper()}"


def stripe_signature_header(payload: bytes | str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``: ``t=<ts>,v1=<HMAC-SHA256(secret, "<ts>.<payload>")>``."""
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    digest = hmac.new(secret.encode("utf-8"), str(int(timestamp)).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"


class EmulatorError(Exception):
    """A control endpoint answered with an error; ``status`` and ``body`` (Stripe's ``{"error": {...}}`` shape) tell why."""

    def __init__(self, status: int, body: Any):
        self.status = status
        self.body = body
        message = body.get("error", {}).get("message") if isinstance(body, dict) else None
        super().__init__(f"HTTP {status}: {message or body}")

    @property
    def error(self) -> dict:
        return self.body.get("error", {}) if isinstance(self.body, dict) else {}


class StripeEmulator:
    """Handle on a running emulator. ``api_base`` goes into stripe-python's ``base_addresses={"api": ...}``."""

    api_key = "sk_test_emulator"  # localstripe accepts any key that starts with sk_

    def __init__(self, api_base: str, *, timeout: float = 30.0):
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.log_path: Path | None = None  # the server's stdout and stderr, when started by start_stripe_emulator

    def __repr__(self) -> str:
        return f"StripeEmulator({self.api_base!r})"

    def _call(self, method: str, path: str, payload: dict | None = None) -> Any:
        response = requests.request(method, self.api_base + path, json=payload, timeout=self.timeout)
        try:
            body = response.json()
        except ValueError:
            body = {"error": {"message": response.text}}
        if response.status_code >= 400:
            raise EmulatorError(response.status_code, body)
        return body

    def client(self, **options: Any):
        """A stripe-python client pointed at the emulator (imported lazily: not every test needs stripe)."""
        import stripe

        options.setdefault("max_network_retries", 0)
        return stripe.StripeClient(self.api_key, base_addresses={"api": self.api_base}, **options)

    def health(self) -> dict:
        return self._call("GET", "/_emulator/health")

    def reset(self) -> None:
        """Forget everything: localstripe's objects, sessions, webhook endpoints, idempotency keys, the delivery log."""
        self._call("POST", "/_emulator/reset")

    def set_webhook(self, url: str, secret: str, *, events: list[str] | None = None) -> None:
        """Send every event (localstripe's and the fake's) to ``url``, signed with ``secret``; replaces the previous endpoint."""
        payload: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            payload["events"] = events
        self._call("POST", "/_emulator/webhooks", payload)

    def complete_checkout(
        self, session_id: str, *, card: str = "4242424242424242", shipping: dict | None = None, email: str | None = None
    ) -> dict:
        """Pay a Checkout Session as its hosted page would; returns the session. ``checkout.session.completed`` has been
        delivered when this returns. A declined card raises EmulatorError with status 402 and leaves the session open."""
        payload: dict[str, Any] = {"card": card}
        if shipping is not None:
            payload["shipping"] = shipping
        if email is not None:
            payload["email"] = email
        return self._call("POST", f"/_emulator/checkout/{session_id}/complete", payload)

    def portal_action(self, portal_session_id: str, action: str, subscription: str, plan: str | None = None) -> dict:
        """Press a Billing Portal button (``cancel``, ``renew`` or ``switch`` to ``plan``); returns the updated subscription.
        ``customer.subscription.updated`` has been delivered when this returns."""
        payload: dict[str, Any] = {"action": action, "subscription": subscription}
        if plan is not None:
            payload["plan"] = plan
        return self._call("POST", f"/_emulator/portal/{portal_session_id}/action", payload)

    def send_event(self, type: str, obj: dict, *, previous_attributes: dict | None = None) -> dict:
        """Deliver a signed event of any type carrying ``obj``; returns the event once delivered."""
        payload: dict[str, Any] = {"type": type, "object": obj}
        if previous_attributes is not None:
            payload["previous_attributes"] = previous_attributes
        return self._call("POST", "/_emulator/events", payload)

    def deliveries(self) -> list[dict]:
        """The fake's own deliveries, oldest first: ``{event, type, url, status, error, delivered_at}``.
        localstripe's deliveries (customer.subscription.created, invoice.*, ...) are not listed."""
        return self._call("GET", "/_emulator/deliveries")["data"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"


def start_stripe_emulator(*, startup_timeout: float = 20.0) -> tuple[StripeEmulator, Callable[[], None]]:
    """Start the emulator on a free port in a subprocess; returns it and a callable that stops it."""
    port = _free_port()
    log = tempfile.NamedTemporaryFile(prefix="stripe-emulator-", suffix=".log", delete=False)  # closed by stop()
    log_path = Path(log.name)
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.stripe_emulator", "--port", str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    emulator = StripeEmulator(f"http://127.0.0.1:{port}")
    emulator.log_path = log_path

    def stop() -> None:
        if process.poll() is None:
            process.terminate()  # by pid: only the process started here
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if not log.closed:
            log.close()
            log_path.unlink(missing_ok=True)

    deadline = time.monotonic() + startup_timeout
    while True:
        if process.poll() is not None:
            tail = _tail(log_path)
            stop()
            raise RuntimeError(f"The Stripe emulator exited with status {process.returncode} while starting:\n{tail}")
        try:
            if requests.get(emulator.api_base + "/_emulator/health", timeout=1).ok:
                return emulator, stop
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            tail = _tail(log_path)
            stop()
            raise RuntimeError(f"The Stripe emulator did not answer within {startup_timeout:.0f} s:\n{tail}")
        time.sleep(0.1)


@pytest.fixture(scope="session", name="stripe_emulator")
def stripe_emulator() -> Iterator[StripeEmulator]:
    """One emulator for the whole session. Tests call ``stripe_emulator.reset()`` first when they need a clean slate.
    (``name=`` lets a module import this under another name without shadowing warnings from linters.)"""
    emulator, stop = start_stripe_emulator()
    try:
        yield emulator
    finally:
        stop()
