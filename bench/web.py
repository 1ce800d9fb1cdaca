"""How many requests a second the site answers, started as production starts it, each page as a
ratio to /healthz measured in the same run (the figure that survives a busy or a faster machine).

The site runs under gunicorn (2 sync workers, DEBUG off, the manifest's static files:
petmemories.settings.bench) on a fresh data folder this script makes: migrated, one account
with a finished creation (a real small MP4 rendered by the living-photo engine) shared, and a
frame paired to it with that video in its playlist. wrk (a compiled load generator; installed
with apt-get when missing) then loads each address for --seconds with 8 connections, every
address once per round, --rounds rounds, alternating:

    /healthz, /s/<token>/ (anonymous), / (home), /shop/, /api/frames/playlist (the frame's token)

Printed per address: the median requests a second over the rounds with their range, and the
median ratio to /healthz of the same round. Targets: the share page and the playlist >= 0.5x,
home and shop >= 0.3x.

Also counted: rows the anonymous share page writes. The web processes flush their visits once
an hour here (SHARE_VIEWS_FLUSH_SECONDS), so any row added anywhere and any visit written while
the share page is loaded is a synchronous write (the target is none). Then the visits are
flushed (gunicorn is stopped gracefully and each worker hands its own on as it exits, to the
database or to Redis; then, with Redis, what the beat task does) and must equal the visits wrk
completed (plus, at most, one request per connection still in flight when wrk stopped).

    .venv/bin/python bench/web.py [--db embedded|postgres] [--seconds 8] [--rounds 2] [--json]

--db embedded: SQLite and the per-process cache, the defaults of a laptop. --db postgres:
PostgreSQL (a temporary database made on the server of DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/postgres, dropped at the end) and Redis (CACHE_URL, default
redis://127.0.0.1:6379/12). Every process started is stopped by its id.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "cat.jpg"
CONNECTIONS = 8
TARGETS = {"share": 0.5, "playlist": 0.5, "home": 0.3, "shop": 0.3}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wrk_path() -> str:
    """wrk, installed from Debian's archive when missing."""
    if shutil.which("wrk") is None:
        print("Installing wrk (apt-get install -y wrk) ...", file=sys.stderr)
        installed = subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if installed.returncode != 0 or shutil.which("wrk") is None:
            raise SystemExit(f"wrk is needed and could not be installed (run `apt-get install -y wrk` as root):\n{installed.stderr[-2000:]}")
    return shutil.which("wrk")


def environment(args, var_dir: Path) -> dict:
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "petmemories.settings.bench", "VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"), "SHARE_VIEWS_FLUSH_SECONDS": "3600", "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    if args.db == "postgres":
        env["DATABASE_URL"] = args.database_url
        env["CACHE_URL"] = os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/12")
    return env


def postgres_database(action: str, server_url: str, name: str) -> str:
    """Create or drop the bench's database on the server of ``server_url``; its URL."""
    import psycopg

    base, _, _ = server_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        if action == "create":
            connection.execute(f'CREATE DATABASE "{name}"')
        else:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"{base}/{name}"


def prepare() -> dict:
    """Migrate, collect the static files and make what the pages show (runs in this process,
    on the bench's settings)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.contrib.auth import get_user_model

    from generation.engines import get_engine
    from generation.models import Job
    from generation.photos import photo_normalize
    from generation.services import job_run_next
    from studio.devices.services import device_pair, device_register, playlist_set
    from studio.services import creation_create, creation_set_shared

    owner = get_user_model().objects.create_user(email="bench@example.com", password="a-long-pass-phrase")
    with PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    creation = creation_create(owner=owner, photos=[photo], title="Nabi", aspect_ratio="1:1", engine="living-photo",
                               params={"height": 240, "seconds": 2.0, "fps": 12})
    queue = get_engine("living-photo").queue
    for n in range(20):  # as a worker does: take the queue's next job until this one has run
        if Job.objects.get(pk=creation.job_id).state != Job.State.QUEUED or job_run_next(queue=queue, ticket=f"bench-{n}") is None:
            break
    creation.refresh_from_db()
    if creation.job.state != Job.State.SUCCEEDED:
        raise SystemExit(f"The bench's video was not made: {creation.job.error_detail}")
    creation_set_shared(creation=creation, shared=True)
    registration = device_register(name="Bench frame")
    device = device_pair(user=owner, code=registration.device.pairing_code)
    playlist_set(device=device, creations=[creation])
    return {"share": creation.get_share_url(), "frame_token": registration.token}


def rows_written() -> tuple[int, int]:
    """Rows in every table of ours and Django's, and the visits written to the creations."""
    from django.db import connection
    from django.db.models import Sum

    from studio.models import Creation

    with connection.cursor() as cursor:
        rows = 0
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            rows += cursor.fetchone()[0]
    views = Creation.objects.aggregate(total=Sum("share_views"))["total"] or 0
    connection.close()
    return rows, views


def gunicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "petmemories.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop gracefully (its workers finish their requests and run their exit handlers)."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def load(wrk: str, url: str, seconds: int, headers: dict) -> dict:
    command = [wrk, "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    done = int(re.search(r"(\d+) requests in", output).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {"rate": rate, "requests": done, "failed": int(failed.group(1)) if failed else 0, "socket_errors": errors.group(1) if errors else ""}


def run(args) -> dict:
    wrk = wrk_path()
    var_dir = Path(tempfile.mkdtemp(prefix="petmemories-bench-web-"))
    database = f"petmemories_bench_{os.getpid()}"
    if args.db == "postgres":
        args.database_url = postgres_database("create", args.database_url, database)
    env = environment(args, var_dir)
    os.environ.clear()
    os.environ.update(env)  # this process prepares and counts on the very settings gunicorn runs
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from studio.services import share_views_flush

    server = None
    try:
        made = prepare()
        share_views_flush()  # Redis: what an earlier run left in the hash
        port = free_port()
        server = gunicorn(env, port, var_dir / "gunicorn.log")
        base = f"http://127.0.0.1:{port}"
        pages = {
            "healthz": ("/healthz", {}),
            "share": (made["share"], {"Accept-Language": "en"}),
            "home": ("/", {"Accept-Language": "en"}),
            "shop": ("/shop/", {"Accept-Language": "en"}),
            "playlist": ("/api/frames/playlist", {"Authorization": f"Bearer {made['frame_token']}"}),
        }
        warm_views = 0
        for name, (path, headers) in pages.items():  # each worker's first render and connection, out of the figure
            for _ in range(4):
                urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=30).read()
                warm_views += name == "share"
        rounds, share_requests, share_writes, share_views_meanwhile = [], 0, 0, 0
        for _ in range(args.rounds):
            figures = {}
            for name, (path, headers) in pages.items():
                before = rows_written() if name == "share" else None
                figures[name] = load(wrk, base + path, args.seconds, headers)
                if name == "share":
                    after = rows_written()
                    share_writes += after[0] - before[0]
                    share_views_meanwhile += after[1] - before[1]
                    share_requests += figures[name]["requests"]
            rounds.append(figures)
        _, views_before = rows_written()
        stop(server)  # each worker hands its visits on as it exits: to the database, or to Redis
        if args.db == "postgres":
            share_views_flush()  # what the beat task does: Redis's hash to the database
        _, views_after = rows_written()
    finally:
        if server is not None:
            stop(server)
        if args.db == "postgres":
            from django.db import connections

            connections.close_all()
            postgres_database("drop", args.database_url, database)
        shutil.rmtree(var_dir, ignore_errors=True)
    result = {"db": args.db, "seconds": args.seconds, "rounds": args.rounds, "connections": CONNECTIONS, "pages": {}}
    for name, (path, _) in pages.items():
        rates = [figures[name]["rate"] for figures in rounds]
        ratios = [figures[name]["rate"] / figures["healthz"]["rate"] for figures in rounds]
        result["pages"][name] = {
            "path": path if name != "share" else "/s/<token>/", "median": statistics.median(rates), "min": min(rates), "max": max(rates),
            "ratio": statistics.median(ratios), "target": TARGETS.get(name),
            "failed": sum(figures[name]["failed"] for figures in rounds), "socket_errors": [figures[name]["socket_errors"] for figures in rounds if figures[name]["socket_errors"]],
        }
    flushed = views_after - views_before
    result["share_rows"] = {
        "requests": share_requests, "rows_added_during_load": share_writes, "views_written_during_load": share_views_meanwhile,
        "views_written_by_flush": flushed, "warm_up_views": warm_views,
        # wrk counts the responses it read; up to one request per connection was still being answered when it stopped.
        "flush_matches": share_requests + warm_views <= flushed <= share_requests + warm_views + CONNECTIONS * args.rounds,
    }
    return result


def report(result: dict) -> None:
    print(f"bench/web.py --db {result['db']}: gunicorn 2 workers, wrk {result['connections']} connections, {result['seconds']} s x {result['rounds']} rounds")
    print(f"{'page':<10} {'path':<22} {'req/s median':>12} {'min-max':>17} {'x /healthz':>10}  target")
    for name, page in result["pages"].items():
        target = f">= {page['target']}x {'ok' if page['ratio'] >= page['target'] else 'MISSED'}" if page["target"] else ""
        problems = f"  {page['failed']} non-2xx/3xx" if page["failed"] else ""
        problems += f"  socket errors: {'; '.join(page['socket_errors'])}" if page["socket_errors"] else ""
        print(f"{name:<10} {page['path']:<22} {page['median']:>12.0f} {page['min']:>8.0f}-{page['max']:<8.0f} {page['ratio']:>9.3f}x  {target}{problems}")
    rows = result["share_rows"]
    print(
        f"share page, anonymous: {rows['requests']} requests, {rows['rows_added_during_load']} rows added and "
        f"{rows['views_written_during_load']} visits written while loaded (target 0); after the flush "
        f"{rows['views_written_by_flush']} visits written for {rows['requests']} + {rows['warm_up_views']} warm-up requests "
        f"({'ok' if rows['flush_matches'] else 'MISMATCH'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["embedded", "postgres"], default="embedded")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    args = parser.parse_args()
    args.database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
    ok = result["share_rows"]["rows_added_during_load"] == 0 and result["share_rows"]["views_written_during_load"] == 0
    sys.exit(0 if ok and result["share_rows"]["flush_matches"] else 1)


if __name__ == "__main__":
    main()
