"""`make test` finds a browser for the browser tests by itself, and says which in one line."""
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BROWSER_TEST = "tests/integration/test_browser_frames.py::test_a_visitor_arrives_through_a_campaign_and_signs_up_with_its_videos"


def run_pytest(tmp_path, path: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PETMEMORIES_REQUIRE_SERVICES"}
    env |= {
        "PATH": path,
        # Playwright's own browsers: none yet, and a download that fails at once (no network here).
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "browsers"),
        "PLAYWRIGHT_DOWNLOAD_HOST": "http://127.0.0.1:9",
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", BROWSER_TEST, "-q", "-p", "no:cacheprovider", "--collect-only"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def browser_lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("browser: ")]


def test_without_any_chromium_it_tries_playwrights_install_and_says_why_it_skips(tmp_path):
    result = run_pytest(tmp_path, str(Path(sys.executable).parent))
    assert result.returncode == 0, result.stdout + result.stderr
    [line] = browser_lines(result)
    assert "skipping browser tests" in line and "playwright install chromium` failed" in line


def test_a_system_chromium_is_used_when_there_is_one(tmp_path):
    chromium = tmp_path / "bin" / "chromium"
    chromium.parent.mkdir()
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    result = run_pytest(tmp_path, f"{chromium.parent}:{Path(sys.executable).parent}")
    assert browser_lines(result) == [f"browser: system Chromium at {chromium}"], result.stdout + result.stderr


def test_runs_without_browser_tests_look_for_no_browser(tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/petmemories/test_health.py", "-q", "-p", "no:cacheprovider", "--collect-only"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0 and browser_lines(result) == [], result.stdout + result.stderr
