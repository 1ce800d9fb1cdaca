"""bench/web.py runs end to end in a tiny mode (1 s a page, one round): gunicorn as production
starts it, wrk against every page, and the rows an anonymous share view writes counted. The
figures of so short a run say nothing; that the script works and the share page writes nothing
is what is checked. CI installs wrk (.ci/run); elsewhere the test skips without it."""
import json
import os
import shutil
import subprocess
import sys

from tests.conftest import ROOT, require


def test_the_web_bench_loads_every_page_and_the_anonymous_share_page_writes_no_row():
    require(shutil.which("wrk") is not None, "wrk is not installed (apt-get install -y wrk)")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "web.py"), "--seconds", "1", "--rounds", "1", "--json"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout)
    assert set(figures["pages"]) == {"healthz", "share", "home", "shop", "playlist"}
    for page in figures["pages"].values():
        assert page["median"] > 0 and page["failed"] == 0
    assert figures["pages"]["healthz"]["ratio"] == 1
    rows = figures["share_rows"]
    assert rows["requests"] > 0 and rows["rows_added_during_load"] == 0 and rows["views_written_during_load"] == 0
    assert rows["flush_matches"], rows
