"""The site's frame in a real browser: a header of one 64 px row at desktop and phone widths in
English and Korean, a phone menu that opens from the keyboard, the upload form's live slider
value, the footer's language menu, and a creation page that never reloads itself."""
import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from generation.models import Job
from tests.integration.test_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "laptop": 1024, "phone": 390}
SCREENSHOTS = os.environ.get("PETMEMORIES_SCREENSHOTS")

# Each visible item of the header: its box, and the header's.
HEADER_BOXES = """() => {
    const header = document.querySelector('.site-header').getBoundingClientRect();
    const items = [...document.querySelectorAll('.site-header .brand, .site-header .nav-toggle, .site-header .nav-links a, .site-header summary')]
        .filter(el => el.offsetParent !== null && !el.closest('.account-menu-panel'))
        .map(el => { const r = el.getBoundingClientRect(); return {text: el.textContent.trim(), top: r.top, bottom: r.bottom, left: r.left, right: r.right}; });
    return {height: header.height, top: header.top, bottom: header.bottom, width: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth, items};
}"""


@pytest.fixture
def browser(browser_executable, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """A page at a given width and language, signed in as ``user`` when given."""
    contexts = []

    def open_page(path, *, width, language="en", user=None):
        context = browser.new_context(viewport={"width": width, "height": 860}, locale=language)
        cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
        if user is not None:
            client = Client()
            client.force_login(user)
            cookies.append({"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url})
        context.add_cookies(cookies)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
def test_the_header_is_one_64px_row_at_desktop_and_phone_widths(open_page, user, language, signed_in):
    for name, width in WIDTHS.items():
        page = open_page("/", width=width, language=language, user=user if signed_in else None)
        page.wait_for_load_state("load")
        shot(page, f"header-{language}-{'in' if signed_in else 'out'}-{name}")
        boxes = page.evaluate(HEADER_BOXES)
        assert boxes["height"] == 65, (name, boxes)  # 64 px and its bottom border
        assert boxes["scrollWidth"] <= boxes["width"], f"the page scrolls sideways at {width} px"
        for item in boxes["items"]:
            assert boxes["top"] <= item["top"] and item["bottom"] <= boxes["top"] + 64, (name, item)
            assert 0 <= item["left"] and item["right"] <= boxes["width"], (name, item)
        texts = [item["text"] for item in boxes["items"]]
        if name == "phone":
            assert len(texts) == 2 and "PetMemories" in texts[0], texts  # the brand and the menu button
        elif signed_in:
            assert len(texts) == 8, texts  # brand, four places, cart, "New creation", the account menu


def test_the_phone_menu_opens_and_closes_from_the_keyboard(open_page, user):
    page = open_page("/", width=390, user=user)
    toggle = page.locator(".nav-toggle")
    assert toggle.get_attribute("aria-expanded") == "false" and not page.get_by_role("link", name="My creations").is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    page.get_by_role("link", name="My creations").wait_for(state="visible")
    page.locator(".account-menu summary").click()
    page.get_by_role("link", name="Orders").wait_for(state="visible")
    shot(page, "phone-menu-open")
    assert page.locator(".nav-links").bounding_box()["width"] == 390
    page.keyboard.press("Escape")  # closes the account menu first, then the phone menu
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    page.get_by_role("link", name="My creations").wait_for(state="hidden")
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="New creation").click()
    page.wait_for_url("**/studio/new/")


def test_the_desktop_account_menu_holds_orders_settings_and_log_out(open_page, user):
    page = open_page("/", width=1280, user=user)
    assert not page.get_by_role("link", name="Orders").is_visible()
    page.get_by_text("Account", exact=True).click()
    page.get_by_role("link", name="Orders").wait_for(state="visible")
    assert user.email in page.inner_text(".account-menu-panel")
    shot(page, "account-menu-open")
    page.mouse.click(600, 500)  # a click elsewhere closes it
    page.get_by_role("link", name="Orders").wait_for(state="hidden")
    page.get_by_text("Account", exact=True).click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").wait_for()


def test_the_footer_language_menu_is_as_wide_as_its_languages(open_page):
    page = open_page("/", width=1280)
    assert page.locator("#language").bounding_box()["width"] < 200


def test_the_motion_slider_shows_its_value_as_it_moves(open_page, user):
    page = open_page(reverse("studio:creation-new"), width=1024, user=user)
    assert page.inner_text("#motion-value") == "127"
    page.fill("input[name=motion]", "200")
    assert page.inner_text("#motion-value") == "200"


def test_the_creation_page_swaps_the_video_in_and_never_reloads(open_page, finished_creation, user):
    Job.objects.filter(pk=finished_creation.job_id).update(state="running", progress=80)
    page = open_page(finished_creation.get_absolute_url(), width=1280, user=user)
    page.evaluate("() => { window.sameDocument = true; }")
    page.wait_for_timeout(1500)  # htmx has swapped the running status in at least once
    Job.objects.filter(pk=finished_creation.job_id).update(state="succeeded", progress=100)
    page.wait_for_selector("video.player")
    page.evaluate("() => { window.firstPlayer = document.querySelector('video.player'); }")
    page.wait_for_timeout(4000)  # longer than the no-JavaScript refresh of 3 s
    assert page.evaluate("() => window.sameDocument === true && document.querySelector('video.player') === window.firstPlayer")
