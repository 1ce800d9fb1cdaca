#!/usr/bin/env python3
"""A reference client for a PetMemories digital frame, with nothing but Python's standard library.

    python tools/frame_client.py --server https://petmemories.example --state frame.json register
    python tools/frame_client.py --state frame.json poll --downloads videos/ [--once]

`register` asks for a device id, a token and a pairing code (saved in the state file) and prints
the code, as a frame shows it on screen. `poll` fetches the playlist (sending the last ETag, so an
unchanged playlist costs a 304), downloads new videos, checks each one's SHA-256 and size, removes
the ones no longer listed, and prints one JSON line per poll. A revoked token (the frame was
unpaired) exits with status 3.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

UNPAIRED_EXIT = 3


class FrameClient:
    def __init__(self, state_path: Path, server: str | None = None):
        self.state_path = state_path
        self.state = json.loads(state_path.read_text()) if state_path.exists() else {}
        if server:
            self.state["server"] = server.rstrip("/")

    def save(self) -> None:
        self.state_path.write_text(json.dumps(self.state, indent=2))

    def _request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.state["server"] + path, data=data, method=method, headers={
            "Accept": "application/json", **({"Content-Type": "application/json"} if data else {}), **(headers or {}),
        })
        return urllib.request.urlopen(request, timeout=30)

    def register(self, *, name: str = "", width: int = 1920, height: int = 1080) -> dict:
        with self._request("POST", "/api/frames/register", {"name": name, "screen_width": width, "screen_height": height}) as response:
            answer = json.loads(response.read())
        self.state.update(device_id=answer["device_id"], token=answer["token"], etag=None, playlist=None)
        self.save()
        return answer

    def poll(self) -> tuple[int, dict]:
        """(HTTP status, playlist): 200 with a new playlist, 304 with the saved one."""
        headers = {"Authorization": f"Bearer {self.state['token']}"}
        if self.state.get("etag"):
            headers["If-None-Match"] = self.state["etag"]
        try:
            with self._request("GET", "/api/frames/playlist", headers=headers) as response:
                playlist = json.loads(response.read())
                self.state.update(etag=response.headers["ETag"], playlist=playlist)
                self.save()
                return response.status, playlist
        except urllib.error.HTTPError as error:
            if error.code == 304:
                return 304, self.state["playlist"]
            raise

    def sync(self, folder: Path, playlist: dict) -> list[str]:
        """Make ``folder`` hold exactly the playlist's videos, each checked; returns the names fetched."""
        folder.mkdir(parents=True, exist_ok=True)
        wanted, fetched = {}, []
        for item in playlist["items"]:
            name = f"{item['id']}.mp4"
            wanted[name] = item
            target = folder / name
            if target.exists() and _sha256(target) == item["sha256"]:
                continue
            with urllib.request.urlopen(item["url"], timeout=120) as response:
                data = response.read()
            if len(data) != item["bytes"] or hashlib.sha256(data).hexdigest() != item["sha256"]:
                raise ValueError(f"{name}: the download does not match its checksum; it is not kept")
            partial = target.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(target)
            fetched.append(name)
        for stale in folder.glob("*.mp4"):
            if stale.name not in wanted:
                stale.unlink()
        return fetched


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="the site, e.g. https://petmemories.example (saved in the state file)")
    parser.add_argument("--state", type=Path, required=True, help="where the device id, token and last playlist are kept")
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

    client = FrameClient(args.state, args.server)
    if args.command == "register":
        answer = client.register(name=args.name, width=args.width, height=args.height)
        print(json.dumps({"device_id": answer["device_id"], "pairing_code": answer["pairing_code"], "pair_at": answer["pair_at"]}))
        return 0
    while True:
        try:
            status, playlist = client.poll()
        except urllib.error.HTTPError as error:
            if error.code == 401:
                print(json.dumps({"status": 401, "error": "this frame was unpaired; register it again"}))
                return UNPAIRED_EXIT
            raise
        fetched = client.sync(args.downloads, playlist) if playlist["paired"] else []
        print(json.dumps({
            "status": status, "paired": playlist["paired"], "pairing_code": playlist.get("pairing_code"),
            "items": [item["id"] for item in playlist["items"]], "fetched": fetched,
        }), flush=True)
        if args.once:
            return 0
        time.sleep(args.every or playlist.get("poll_seconds", 60))


if __name__ == "__main__":
    sys.exit(main())
