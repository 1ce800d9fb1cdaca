import io
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

# The Stripe emulator's session-wide `stripe_emulator` fixture.
pytest_plugins = ["tools.stripe_emulator"]

ROOT = Path(__file__).resolve().parent.parent
CAT_PHOTO = Path(__file__).resolve().parent / "cat.jpg"
PERSON_PHOTO = Path(__file__).resolve().parent / "person.jpg"


def pytest_addoption(parser):
    parser.addoption(
        "--ci",
        action="store_true",
        help="CI mode: PostgreSQL, Redis and Chromium must be there; a suite that needs them fails instead of skipping.",
    )


def pytest_configure(config):
    if config.getoption("--ci"):
        os.environ["PETMEMORIES_REQUIRE_SERVICES"] = "1"


def require(condition: bool, reason: str) -> None:
    """Skip a test whose prerequisite is missing on a developer's machine; fail it in CI."""
    if condition:
        return
    if os.environ.get("PETMEMORIES_REQUIRE_SERVICES") == "1":
        pytest.fail(f"Required in CI but missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def ci_uses_real_services(django_db_setup, django_db_blocker):
    """In CI mode the suite must really run against PostgreSQL and a broker server, not the defaults."""
    if os.environ.get("PETMEMORIES_REQUIRE_SERVICES") != "1":
        return
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql", f"CI mode needs DATABASE_URL to be PostgreSQL, not {connection.vendor}"
    assert settings.CELERY_BROKER_URL.startswith(("redis://", "amqp://")), "CI mode needs CELERY_BROKER_URL to be Redis or RabbitMQ"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counters kept in the cache (rate limits, the share pages' visits) start at zero in every test."""
    from django.core.cache import cache

    from studio.viewcounts import views_take_own

    cache.clear()
    views_take_own()  # this process's visits not yet written
    yield
    cache.clear()
    views_take_own()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test stores its files in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": settings.MEDIA_ROOT}},
    }
    return settings.MEDIA_ROOT


@pytest.fixture
def photo_bytes():
    return CAT_PHOTO.read_bytes()


def image_bytes(fmt="JPEG", size=(640, 480), color=(180, 120, 90), **save_options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save_options)
    return out.getvalue()


def two_faces_bytes() -> bytes:
    """A wide photo of two people: the portrait of tests/person.jpg on the left and its mirror
    image on the right, half a portrait apart, on grey."""
    from PIL import ImageOps

    portrait = Image.open(PERSON_PHOTO).convert("RGB")
    width, height = portrait.size
    canvas = Image.new("RGB", (2 * width + width // 2, height), (128, 128, 128))
    canvas.paste(portrait, (0, 0))
    canvas.paste(ImageOps.mirror(portrait), (width + width // 2, 0))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(email="owner@example.com", password="a-long-pass-phrase")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(email="stranger@example.com", password="a-long-pass-phrase")


@pytest.fixture
def owner_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def small_render_params():
    """Knobs that keep a test render quick while still making a real video."""
    return {"height": 240, "seconds": 2.0, "fps": 12}


# --- A real worker process ------------------------------------------------------------------

def database_url_for_tests() -> str:
    """A DATABASE_URL that points a child process at the test database this run created."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    raise RuntimeError(f"No URL form for {connection.vendor}")


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, media_root):
    """Start `celery worker` as a separate process on the cpu queue, as `make run` does, and
    stop it by its process id afterwards."""
    from core.celery import app

    app.control.purge()  # messages left by earlier tests name jobs that no longer exist
    from django.conf import settings

    env = {
        **os.environ, "DATABASE_URL": database_url_for_tests(), "MEDIA_ROOT": str(media_root), "DJANGO_SETTINGS_MODULE": "petmemories.settings.test",
        # An engine a test registered is registered in the worker too, and so are its limits.
        "GENERATION_EXTRA_ENGINES": ",".join(settings.GENERATION_EXTRA_ENGINES),
        "GENERATION_TIME_LIMITS": ",".join(f"{name}={seconds}" for name, seconds in settings.GENERATION_TIME_LIMITS.items()),
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "petmemories", "worker", "--queues", "cpu", "--concurrency", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    worker_log = tmp_path / "worker.log"
    deadline = time.monotonic() + 60
    while "ready." not in worker_log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"The worker did not start:\n{worker_log.read_text()}")
        time.sleep(0.2)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    print(worker_log.read_text()[-3000:])


def wait_for(predicate, *, timeout=90, interval=0.3, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


# --- The browser the browser tests drive ----------------------------------------------------

@dataclass(frozen=True)
class Browser:
    executable: str | None  # None: Playwright's own Chromium
    found: bool
    description: str


def system_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")  # Debian's is /usr/bin/chromium


def playwright_chromium() -> str | None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if os.path.exists(path) else None


def browser_find() -> Browser:
    """A system Chromium where there is one; otherwise Playwright's own, installed the usual way
    (`playwright install chromium`) if it is not there yet. That download needs its CDN; when it
    fails, the browser tests skip (or fail, in CI) with the reason."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return Browser(None, False, "skipping browser tests: Playwright is not installed (make test installs it)")
    path = system_chromium()
    if path:
        return Browser(path, True, f"system Chromium at {path}")
    if playwright_chromium() is None:
        try:
            install = subprocess.run(
                [sys.executable, "-m", "playwright", "install", "chromium"], capture_output=True, text=True, timeout=600,
            )
        except subprocess.TimeoutExpired:
            return Browser(None, False, "skipping browser tests: no Chromium, and `playwright install chromium` timed out")
        if install.returncode != 0:
            reason = (install.stderr or install.stdout).strip().splitlines()[:1] or ["no output"]
            return Browser(None, False, f"skipping browser tests: no Chromium, and `playwright install chromium` failed ({reason[0]}); apt-get install chromium")
    path = playwright_chromium()
    if path is None:
        return Browser(None, False, "skipping browser tests: no Chromium found after `playwright install chromium`")
    return Browser(None, True, f"Playwright's Chromium at {path}")


def pytest_collection_finish(session):
    """Look for a browser once, only when browser tests are to run, and say in one line which."""
    if not any(item.get_closest_marker("browser") for item in session.items):
        return
    session.config.petmemories_browser = browser = browser_find()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter:
        reporter.write_line(f"browser: {browser.description}")


@pytest.fixture(scope="session")
def browser_executable(pytestconfig):
    """The Chromium to launch (None: Playwright's own); the test skips when there is none."""
    browser = getattr(pytestconfig, "petmemories_browser", None) or browser_find()
    require(browser.found, browser.description)
    return browser.executable


@pytest.fixture
def make_creation(django_capture_on_commit_callbacks, small_render_params):
    """A creation made through the product's own service, its job queued (not yet run)."""
    from generation.photos import photo_normalize
    from studio.services import creation_create

    def make(owner, *, aspect_ratio="1:1", title="Chelsea", params=None):
        with CAT_PHOTO.open("rb") as handle:
            photo = photo_normalize(handle)
        return creation_create(
            owner=owner, photos=[photo], title=title, aspect_ratio=aspect_ratio, engine="living-photo",
            params=params if params is not None else small_render_params,
        )

    return make


def run_job(job_id: int):
    """Run a queued job to its end in this process, the way a worker does: each message-like
    call of ``services.job_run_next`` takes the next job of the queue (Premium first), until this
    one has ended or nothing is left. Returns the job, as it is then."""
    import itertools

    from generation.engines import get_engine
    from generation.models import Job
    from generation.services import job_run_next

    queue = get_engine(Job.objects.get(pk=job_id).engine).queue
    for n in itertools.count():
        if Job.objects.get(pk=job_id).state != Job.State.QUEUED or job_run_next(queue=queue, ticket=f"test-{job_id}-{n}") is None:
            return Job.objects.get(pk=job_id)


@pytest.fixture
def finished_creation(make_creation, user):
    """A creation whose job has run to the end in this process."""
    creation = make_creation(user)
    run_job(creation.job_id)
    creation.refresh_from_db()
    assert creation.job.state == "succeeded", creation.job.error_detail
    return creation


@pytest.fixture
def make_premium(db):
    """Put a user on Premium as Stripe's webhooks would: a customer and an active subscription."""
    from shop.models import BillingCustomer, Plan, Subscription

    def make(user, status="active"):
        customer, _ = BillingCustomer.objects.get_or_create(user=user, defaults={"stripe_customer_id": f"cus_test{user.pk}"})
        return Subscription.objects.create(
            user=user, stripe_subscription_id=f"sub_test{user.pk}_{status}", stripe_customer_id=customer.stripe_customer_id,
            plan=Plan.objects.get(code="premium"), status=status,
        )

    return make


SHIPPING = {"name": "Minji Kim", "address": {"line1": "12 Sejong-daero", "line2": "", "city": "Seoul", "state": "", "postal_code": "04524", "country": "KR"}}


@pytest.fixture
def stripe_api(stripe_emulator, settings, db):
    """Our site wired to the Stripe emulator, as production is to Stripe (keys, API base), with
    the demo frames and Premium's prices created in it by `stripe_setup`. No webhooks are sent
    to us unless a test registers an endpoint."""
    from django.core.management import call_command

    from shop.models import Plan, PlanPrice

    stripe_emulator.reset()
    settings.STRIPE_SECRET_KEY = "sk_test_petmemories"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_petmemories"
    settings.STRIPE_API_BASE = stripe_emulator.api_base
    call_command("load_demo")
    # Premium as the data migration makes it (a transactional test starts without it).
    premium, _ = Plan.objects.get_or_create(code="premium", defaults={
        "name": "Premium", "monthly_credits": 60, "max_height": 1080, "watermark": False, "gpu_engines": True, "priority": True, "sort_order": 1,
    })
    for interval, currency, amount in [("month", "KRW", 9900), ("year", "KRW", 99000), ("month", "USD", "7.99")]:
        PlanPrice.objects.get_or_create(plan=premium, interval=interval, currency=currency, defaults={"amount": amount})
    call_command("stripe_setup", verbosity=0)
    return stripe_emulator


def buy(client, user, sku, *, currency="KRW", quantity=1, **form):
    """Put a frame in the cart and check out: the pending order, its Checkout page opened."""
    from django.urls import reverse

    from shop.models import FrameVariant, Order

    client.force_login(user)
    client.post(reverse("shop:currency"), {"currency": currency})
    client.post(reverse("shop:cart-add"), {"variant": FrameVariant.objects.get(sku=sku).pk, "quantity": quantity})
    response = client.post(reverse("shop:checkout"), form)
    assert response.status_code == 302 and "/pay/cs_" in response.url, response.content.decode()[:2000]
    return Order.objects.get(checkout_session_id=response.url.rsplit("/", 1)[1])
