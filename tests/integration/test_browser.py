"""A person's journey in a real browser: sign up, upload, watch progress, play, download.

Playwright drives a system Chromium, or its own where there is none (see browser_find in
tests/conftest.py), against a live server with a real worker process behind it.
"""
import os

import pytest

from generation import media
from tests.conftest import CAT_PHOTO

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def page(browser_executable, tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test itself touches the
    # database only through the live server, which runs in a thread of its own.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        page.screenshot(path=str(tmp_path / "last-page.png"), full_page=True)
        context.close()
        browser.close()


def test_sign_up_upload_watch_progress_play_and_download(page, live_server, celery_worker_process, tmp_path):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("input[name=email]", "mia@example.com")
    page.fill("input[name=password1]", "whiskers-on-kittens-9")
    page.fill("input[name=password2]", "whiskers-on-kittens-9")
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/studio/")
    assert "You haven't made anything yet" in page.content()

    page.get_by_role("link", name="New creation").first.click()
    page.set_input_files("input[name=photo]", str(CAT_PHOTO))
    page.fill("input[name=title]", "Chelsea")
    page.select_option("select[name=aspect_ratio]", "1:1")
    page.get_by_role("button", name="Make my video").click()

    # The creation page shows the job live, without reloading, until the player appears.
    page.wait_for_selector("#job-status[data-state=queued], #job-status[data-state=running], video.player")
    page.evaluate("""() => {
        window.seenStates = [document.querySelector('#job-status').dataset.state];
        new MutationObserver(() => {
            const status = document.querySelector('#job-status');
            if (status) window.seenStates.push(status.dataset.state);
        }).observe(document.body, {childList: true, subtree: true});
    }""")
    page.wait_for_selector("video.player", timeout=120_000)
    states = page.evaluate("() => window.seenStates")
    # The page went from waiting to done by itself: the observer set up above survived, so
    # there was no reload.
    assert states[0] in ("queued", "running") and states[-1] == "succeeded", states

    # The video really plays in the browser.
    page.wait_for_function(
        "() => { const v = document.querySelector('video.player'); return v.readyState >= 2 && v.currentTime > 0.2 && !v.paused; }",
        timeout=30_000,
    )
    width, height = page.evaluate("() => [document.querySelector('video.player').videoWidth, document.querySelector('video.player').videoHeight]")
    assert (width, height) == (720, 720)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download MP4").click()
    download = download_info.value
    assert download.suggested_filename == "chelsea.mp4"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    info = media.probe_video(saved)
    assert (info.codec, info.width, info.height, info.frame_count) == ("h264", 720, 720, 96)

    # Share it, and open the public link as a stranger.
    page.get_by_role("button", name="Create a public link").click()
    link = page.input_value("input.share-link")
    stranger = page.context.browser.new_context()
    public = stranger.new_page()
    public.goto(link)
    public.wait_for_function("() => { const v = document.querySelector('video.player'); return v && v.readyState >= 2; }")
    # The page is the same for everyone (no CSRF token in it): the report form brings its own.
    public.get_by_role("link", name="Report this page").click()
    public.get_by_label("Offensive or disturbing").check()
    public.get_by_role("button", name="Send the report").click()
    public.get_by_text("Thank you. Our staff will look at this page.").wait_for()
    stranger.close()
    if os.environ.get("PETMEMORIES_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["PETMEMORIES_SCREENSHOTS"], "creation.png"), full_page=True)
