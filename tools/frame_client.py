#!/usr/bin/env python3
"""A reference client for a PetMemories digital frame, with nothing but Python's standard library.

    python tools/frame_client.py --server https://petmemories.example --state frame.json register
    python tools/frame_client.py --state frame.json poll --downloads videos/ [--once]

`register` asks for a device id, a token and a pairing code (saved in the state file) and prints
the code, as a frame shows it on screen. `poll` fetches the playlist (sending the last ETag, so an
unchanged playlist costs a 304), downloads new videos and stills, checks each one's SHA-256 and
size, removes the ones no longer listed, and prints one JSON line per poll. A revoked token (the
frame was unpaired) exits with status 3.

A frame hangs on a wall for years: when the site is down or answers nonsense (no connection, a
timeout, a 5xx, bad JSON, a download that does not match its checksum) it prints one JSON line
with the error, keeps every file it has, and tries again after a back-off that doubles from
--min-backoff up to --max-backoff (with jitter, so frames do not come back all at once), and
returns to its usual pace after a poll that works. A download cut short resumes where it stopped
on the next poll. Ctrl-C stops it quietly (status 0); nothing it meets prints a traceback.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

UNPAIRED_EXIT = 3  # the token was revoked: register again
REFUSED_EXIT = 2  # the site refused what we asked, or the state file has no registration
UNREACHABLE_EXIT = 4  # --once, and the site could not be reached or answered nonsense
EXTENSIONS = {"video/mp4": ".mp4", "image/jpeg": ".jpg", "image/png": ".png"}
CHUNK = 1 << 16


class Unavailable(Exception):
    """The site could not be reached, or answered something unusable: try again later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Refused(Exception):
    """The site answered with a 4xx that trying again will not change."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _http_error(error: urllib.error.HTTPError) -> Exception:
    """Unavailable for what may pass (5xx, 408, 429), Refused for the rest."""
    try:
        message = json.loads(error.read() or b"{}").get("error") or error.reason
    except (ValueError, AttributeError, OSError, http.client.HTTPException):
        message = error.reason
    message = f"HTTP {error.code}: {message}"
    if error.code >= 500 or error.code in (408, 429):
        retry_after = error.headers.get("Retry-After", "") if error.headers else ""
        return Unavailable(message, float(retry_after) if retry_after.isdigit() else None)
    return Refused(error.code, message)


def _open(request: urllib.request.Request, timeout: float):
    """urlopen, with every way of not getting an answer turned into Unavailable or Refused."""
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        raise _http_error(error) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise Unavailable(f"cannot reach the site: {getattr(error, 'reason', None) or error}") from None


class FrameClient:
    def __init__(self, state_path: Path, server: str | None = None, timeout: float = 30):
        self.state_path, self.timeout = state_path, timeout
        self.state = json.loads(state_path.read_text()) if state_path.exists() else {}
        if server:
            self.state["server"] = server.rstrip("/")

    def save(self) -> None:
        # Written whole, then renamed: Ctrl-C or a power cut never leaves half a state file.
        partial = self.state_path.with_name(self.state_path.name + ".tmp")
        partial.write_text(json.dumps(self.state, indent=2))
        os.replace(partial, self.state_path)

    def _json(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, dict | None]:
        """(status, headers, the JSON object answered, or None for a 304)."""
        if not self.state.get("server"):
            raise Refused(0, "no server: give --server once, it is then kept in the state file")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.state["server"] + path, data=data, method=method, headers={
            "Accept": "application/json", **({"Content-Type": "application/json"} if data else {}), **(headers or {}),
        })
        try:
            response = _open(request, self.timeout)
        except Refused as refused:
            if refused.status == 304:
                return 304, {}, None
            raise
        try:
            with response:
                answer = json.loads(response.read())
        except ValueError:
            raise Unavailable(f"the site answered {method} {path} with something that is not JSON") from None
        except (OSError, http.client.HTTPException) as error:
            raise Unavailable(f"the answer to {method} {path} was cut short: {error}") from None
        if not isinstance(answer, dict):
            raise Unavailable(f"the site answered {method} {path} with JSON that is not an object")
        return response.status, dict(response.headers), answer

    def register(self, *, name: str = "", width: int = 1920, height: int = 1080) -> dict:
        _status, _headers, answer = self._json("POST", "/api/frames/register", {"name": name, "screen_width": width, "screen_height": height})
        try:
            self.state.update(device_id=answer["device_id"], token=answer["token"], etag=None, playlist=None)
            shown = {"device_id": answer["device_id"], "pairing_code": answer["pairing_code"], "pair_at": answer["pair_at"]}
        except KeyError as missing:
            raise Unavailable(f"the registration lacks {missing}") from None
        self.save()
        return shown

    def poll(self) -> tuple[int, dict]:
        """(HTTP status, playlist): 200 with a new playlist, 304 with the saved one."""
        if not self.state.get("token"):
            raise Refused(0, "this frame is not registered: run `register` first")
        headers = {"Authorization": f"Bearer {self.state['token']}"}
        if self.state.get("etag") and self.state.get("playlist"):
            headers["If-None-Match"] = self.state["etag"]
        status, response_headers, playlist = self._json("GET", "/api/frames/playlist", headers=headers)
        if status == 304:
            return 304, self.state["playlist"]
        if not isinstance(playlist.get("items"), list) or not all(isinstance(item, dict) for item in playlist["items"]) or "paired" not in playlist:
            raise Unavailable("the playlist lacks its items")
        self.state.update(etag=response_headers.get("ETag"), playlist=playlist)
        self.save()
        return status, playlist

    def forget_etag(self) -> None:
        """Ask for the whole playlist next time (with fresh links), not a 304."""
        self.state["etag"] = None
        self.save()

    def sync(self, folder: Path, playlist: dict) -> list[str]:
        """Make ``folder`` hold exactly the playlist's videos and stills, each checked; returns the
        names fetched. Raises Unavailable at the first download that fails, having removed
        nothing: what the frame has stays until the whole playlist is there."""
        folder.mkdir(parents=True, exist_ok=True)
        wanted, fetched = set(), []
        for item in playlist["items"]:
            try:
                extension = EXTENSIONS.get(item.get("content_type"))
                if item.get("kind", "video") not in ("video", "still") or extension is None:
                    continue  # a kind this client does not know how to show
                name = f"{item['id']}{extension}"
                wanted.add(name)
                target = folder / name
                if target.exists() and target.stat().st_size == item["bytes"] and _sha256(target) == item["sha256"]:
                    continue
                self._download(item["url"], target, size=int(item["bytes"]), sha256=str(item["sha256"]))
            except (KeyError, TypeError, ValueError) as error:
                raise Unavailable(f"a playlist item is malformed: {error!r}") from None
            fetched.append(name)
        for stale in folder.iterdir():
            kept = stale.name.removesuffix(".part")
            if stale.is_file() and Path(kept).suffix in EXTENSIONS.values() and kept not in wanted:
                stale.unlink()
        return fetched

    def _download(self, url: str, target: Path, *, size: int, sha256: str) -> None:
        """Fetch into ``<name>.part``, going on from what an earlier try left there, and keep it
        under its name only once its size and SHA-256 match."""
        partial = target.with_name(target.name + ".part")
        have = partial.stat().st_size if partial.exists() else 0
        if have >= size:
            partial.unlink()
            have = 0
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            response = _open(request, self.timeout * 4)
        except Refused as refused:
            if refused.status == 416:  # what we kept is no longer a start of this file
                partial.unlink(missing_ok=True)
            raise Unavailable(f"{target.name}: {refused}") from None
        try:
            with response, partial.open("ab" if response.status == 206 else "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as error:
            raise Unavailable(f"{target.name}: the download stopped ({error}); it goes on at the next poll") from None
        got = partial.stat().st_size
        if got < size:  # the connection ended early: what came is kept, to go on from
            raise Unavailable(f"{target.name}: the download stopped at {got} of {size} bytes; it goes on at the next poll")
        if got != size or _sha256(partial) != sha256:
            partial.unlink()
            raise Unavailable(f"{target.name}: the download does not match its checksum; it is not kept")
        partial.replace(target)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Backoff:
    """Seconds to wait after each failure in a row: doubling from ``low`` up to ``high``, each
    drawn between half and all of that ("equal jitter"), never under ``low``; back to the start
    after a success."""

    def __init__(self, low: float, high: float):
        self.low, self.high, self.failures = low, max(low, high), 0

    def next(self, at_least: float | None = None) -> float:
        self.failures += 1
        ceiling = min(self.high, self.low * 2 ** (self.failures - 1))
        return min(self.high, max(at_least or 0, random.uniform(max(self.low, ceiling / 2), ceiling)))

    def reset(self) -> None:
        self.failures = 0


def _say(**line) -> None:
    print(json.dumps(line), flush=True)


def _register(client: FrameClient, args, backoff: Backoff) -> int:
    while True:
        try:
            shown = client.register(name=args.name, width=args.width, height=args.height)
        except Unavailable as error:
            wait = backoff.next(error.retry_after)
            _say(error=str(error), retry_in=round(wait, 2))
            time.sleep(wait)
            continue
        _say(**shown)
        return 0


def _poll(client: FrameClient, args, backoff: Backoff) -> int:
    while True:
        try:
            status, playlist = client.poll()
            try:
                fetched = client.sync(args.downloads, playlist) if playlist["paired"] else []
            except Unavailable:
                client.forget_etag()  # a link may have expired: the next poll brings fresh ones
                raise
        except Refused as refused:
            if refused.status == 401:
                _say(status=401, error="this frame was unpaired; register it again")
                return UNPAIRED_EXIT
            _say(status=refused.status or None, error=str(refused))
            return REFUSED_EXIT
        except Unavailable as error:
            kept = sorted(path.name for path in args.downloads.glob("*") if path.suffix in EXTENSIONS.values()) if args.downloads.is_dir() else []
            if args.once:
                _say(error=str(error), kept=kept)
                return UNREACHABLE_EXIT
            wait = backoff.next(error.retry_after)
            _say(error=str(error), kept=kept, retry_in=round(wait, 2))
            time.sleep(wait)
            continue
        backoff.reset()
        _say(
            status=status, paired=playlist["paired"], pairing_code=playlist.get("pairing_code"),
            items=[item.get("id") for item in playlist["items"]], fetched=fetched,
        )
        if args.once:
            return 0
        time.sleep(args.every or playlist.get("poll_seconds") or 60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="the site, e.g. https://petmemories.example (saved in the state file)")
    parser.add_argument("--state", type=Path, required=True, help="where the device id, token and last playlist are kept")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for the site's answer (downloads: four times this)")
    parser.add_argument("--min-backoff", type=float, default=5, help="seconds to wait after a first failure (default 5)")
    parser.add_argument("--max-backoff", type=float, default=300, help="the longest wait between tries (default 300)")
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register")
    register.add_argument("--name", default="")
    register.add_argument("--width", type=int, default=1920)
    register.add_argument("--height", type=int, default=1080)
    poll = commands.add_parser("poll")
    poll.add_argument("--downloads", type=Path, required=True)
    poll.add_argument("--once", action="store_true")
    poll.add_argument("--every", type=float, default=None, help="seconds between polls (default: what the server says)")
    args = parser.parse_args(argv)

    client = FrameClient(args.state, args.server, timeout=args.timeout)
    backoff = Backoff(args.min_backoff, args.max_backoff)
    try:
        return (_register if args.command == "register" else _poll)(client, args, backoff)
    except Refused as refused:
        _say(status=refused.status or None, error=str(refused))
        return REFUSED_EXIT


def _stop(_signal, _frame):
    raise KeyboardInterrupt


def run(argv: list[str] | None = None) -> int:
    """``main`` as a frame runs it: Ctrl-C (or SIGTERM, as a service manager stops it) ends it
    quietly, and whatever else goes wrong is one line, never a traceback."""
    # Also when started in the background by a shell, which would have it ignore Ctrl-C.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        return main(argv)
    except KeyboardInterrupt:
        return 0
    except Exception as error:  # noqa: BLE001 — the last guard: one line and a non-zero status
        try:
            print(json.dumps({"error": f"unexpected {type(error).__name__}: {error}"}), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 — even a closed stderr must not print a traceback
            pass
        return 1


if __name__ == "__main__":
    sys.exit(run())
