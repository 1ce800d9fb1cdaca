"""The reference frame client lives through the site going down: against a real server process
(`manage.py runserver`) that the test stops and starts again on the same port, the client keeps
running, says what is wrong one JSON line at a time, keeps its files, and comes back to fetch
what was added meanwhile — without a traceback."""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from generation.photos import photo_normalize
from studio.devices import services as devices
from studio.models import Creation
from studio.services import creation_create
from tests.conftest import PERSON_PHOTO, ROOT, database_url_for_tests, run_job, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
CLIENT = [sys.executable, str(ROOT / "tools" / "frame_client.py")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Site:
    """`manage.py runserver` on the test database and media, started and stopped by its id."""

    def __init__(self, tmp_path, media_root):
        self.port, self.log = free_port(), tmp_path / "server.log"
        self.env = {
            **os.environ, "DATABASE_URL": database_url_for_tests(), "MEDIA_ROOT": str(media_root),
            "DJANGO_SETTINGS_MODULE": "petmemories.settings.test",
        }
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{self.port}"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        wait_for(lambda: answers(self.port) or self.process.poll() is not None, timeout=60, what="the server to listen")
        assert self.process.poll() is None, self.log.read_text()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        assert not answers(self.port)


@pytest.fixture
def site(tmp_path, media_root):
    site = Site(tmp_path, media_root)
    yield site
    if site.process and site.process.poll() is None:
        site.stop()


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_client_keeps_its_videos_while_the_site_is_down_and_fetches_what_was_added_when_it_is_back(
    site, tmp_path, user, make_creation,
):
    first, second = make_creation(user, title="Nabi"), make_creation(user, title="Coco")
    with PERSON_PHOTO.open("rb") as handle:
        photo = photo_normalize(handle)
    restored = creation_create(owner=user, photos=[photo], title="Grandpa", aspect_ratio="1:1", engine="restore")
    for creation in (first, second, restored):
        assert run_job(creation.job_id).state == "succeeded"
    first, second, restored = (Creation.objects.select_related("job").get(pk=c.pk) for c in (first, second, restored))
    site.start()
    state, downloads = tmp_path / "frame.json", tmp_path / "videos"
    registered = subprocess.run([*CLIENT, "--server", site.url, "--state", str(state), "register", "--name", "Hall"], capture_output=True, text=True, timeout=60)
    assert registered.returncode == 0, registered.stderr
    device = devices.device_pair(user=user, code=json.loads(registered.stdout)["pairing_code"])
    devices.playlist_add(device=device, creation=first, by=user)

    out, err = tmp_path / "client.out", tmp_path / "client.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        client = subprocess.Popen(
            [*CLIENT, "--state", str(state), "--timeout", "5", "--min-backoff", "0.2", "--max-backoff", "1", "poll", "--downloads", str(downloads), "--every", "0.5"],
            stdout=stdout, stderr=stderr,
        )
    try:
        video = downloads / f"{first.pk}.mp4"
        wait_for(lambda: video.exists(), timeout=60, what="the first video")
        assert sha256(video) == first.job.video.sha256

        site.stop()
        seen = len(lines(out))
        wait_for(lambda: sum("error" in line for line in lines(out)[seen:]) >= 3, timeout=30, what="the client to say the site is down")
        assert client.poll() is None  # still running
        errors = [line for line in lines(out)[seen:] if "error" in line]
        assert all(line["kept"] == [video.name] and 0.2 <= line["retry_in"] <= 1 for line in errors)
        assert sha256(video) == first.job.video.sha256

        # Meanwhile the owner adds a video and a restored photo (a still).
        devices.playlist_add(device=device, creation=second, by=user)
        devices.playlist_add(device=device, creation=restored, by=user)
        site.start()  # the same port
        still = downloads / f"{restored.pk}.{restored.job.images[0].extension}"
        wait_for(lambda: (downloads / f"{second.pk}.mp4").exists() and still.exists(), timeout=60, what="the client to fetch what was added")
        assert sha256(downloads / f"{second.pk}.mp4") == second.job.video.sha256 and sha256(still) == restored.job.images[0].sha256
        assert video.exists()
        back = [line for line in lines(out) if line.get("status") == 200 and line["fetched"]][-1]
        assert set(back["items"]) == {str(first.pk), str(second.pk), str(restored.pk)}
    finally:
        client.send_signal(signal.SIGINT)
        returncode = client.wait(timeout=20)
    assert returncode == 0  # Ctrl-C: quietly
    assert "Traceback" not in out.read_text() + err.read_text()
    assert err.read_text() == ""


def test_the_client_says_one_line_for_a_state_it_cannot_read(tmp_path):
    state = tmp_path / "frame.json"
    state.write_text("not json")
    result = subprocess.run([*CLIENT, "--state", str(state), "poll", "--downloads", str(tmp_path / "videos"), "--once"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert "error" in json.loads(result.stderr)


def test_the_client_keeps_trying_to_register_while_the_site_is_down(site, tmp_path):
    state, out = tmp_path / "frame.json", tmp_path / "register.out"
    with out.open("w") as stdout:
        registering = subprocess.Popen(
            [*CLIENT, "--server", site.url, "--state", str(state), "--min-backoff", "0.2", "--max-backoff", "0.5", "register"],
            stdout=stdout, stderr=subprocess.PIPE, text=True,
        )
    try:
        wait_for(lambda: lines(out), timeout=30, what="the client to say the site is down")
        site.start()
        _stdout, stderr = registering.communicate(timeout=60)
    finally:
        if registering.poll() is None:
            registering.kill()
    said = lines(out)
    assert "error" in said[0] and "pairing_code" in said[-1]
    assert registering.returncode == 0 and "Traceback" not in stderr and json.loads(state.read_text())["token"]


class Misbehaving:
    """A stand-in site that answers the playlist with a 500, then with something that is not
    JSON, then properly; and a still's download cut short, then wrong, then whole (from where
    the cut one stopped, by a byte range)."""

    def __init__(self, still: bytes):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.still, self.playlist_answers, self.media_answers, self.ranges = still, ["500", "garbage"], ["cut", "wrong"], []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/api/frames/playlist":
                    owner.answer_playlist(self)
                else:
                    owner.answer_media(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer_playlist(self, handler):
        answer = self.playlist_answers.pop(0) if self.playlist_answers else "ok"
        if answer == "500":
            handler.send_response(500)
            handler.end_headers()
            return
        item = {"id": "still-1", "kind": "still", "url": self.url + "/media/still", "content_type": "image/png",
                "bytes": len(self.still), "sha256": hashlib.sha256(self.still).hexdigest(), "drift": True}
        body = b"{not json" if answer == "garbage" else json.dumps({"paired": True, "items": [item], "poll_seconds": 60}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("ETag", '"one"')
        handler.end_headers()
        handler.wfile.write(body)

    def answer_media(self, handler):
        answer = self.media_answers.pop(0) if self.media_answers else "ok"
        start = int(handler.headers.get("Range", "bytes=0-").removeprefix("bytes=").rstrip("-"))
        self.ranges.append(start)
        body = {"cut": self.still[:100], "wrong": b"x" * len(self.still)}.get(answer, self.still[start:])
        handler.send_response(206 if start else 200)
        # A cut download promises the whole file and sends a part, as a dropped connection does.
        handler.send_header("Content-Length", str(len(self.still) - start if answer == "cut" else len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        if answer == "cut":
            handler.close_connection = True

    def __enter__(self):
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_a_5xx_bad_json_a_cut_download_and_a_wrong_checksum_are_each_one_line_and_the_still_arrives(tmp_path):
    from tests.conftest import image_bytes

    still = image_bytes("PNG", size=(64, 48))
    state, downloads = tmp_path / "frame.json", tmp_path / "videos"
    with Misbehaving(still) as site:
        state.write_text(json.dumps({"server": site.url, "token": "t"}))
        out = tmp_path / "client.out"
        with out.open("w") as stdout:
            client = subprocess.Popen(
                [*CLIENT, "--state", str(state), "--min-backoff", "0.05", "--max-backoff", "0.1", "poll", "--downloads", str(downloads), "--every", "0.1"],
                stdout=stdout, stderr=subprocess.PIPE, text=True,
            )
        try:
            wait_for(lambda: (downloads / "still-1.png").exists(), timeout=30, what="the still")
        finally:
            client.send_signal(signal.SIGINT)
            _none, stderr = client.communicate(timeout=20)
    assert client.returncode == 0 and stderr == ""
    assert (downloads / "still-1.png").read_bytes() == still and not list(downloads.glob("*.part"))
    errors = [line["error"] for line in lines(out) if "error" in line]
    assert "HTTP 500" in errors[0] and "not JSON" in errors[1]
    assert any("stopped" in error for error in errors) and any("checksum" in error for error in errors)
    assert site.ranges == [0, 100, 0]  # the cut download went on from its 100th byte; the wrong one was thrown away
