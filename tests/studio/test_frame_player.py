"""The web frame player's page, service worker and pairing QR code, and the pairing page that
its QR code opens with the code filled in. The player itself plays in a real browser in
tests/integration/test_browser_frame_player.py."""
import re
from urllib.parse import unquote

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from tests.studio.test_frames import register

pytestmark = pytest.mark.django_db


def test_the_player_is_a_bare_page_that_runs_only_our_own_script(client):
    response = client.get(reverse("studio:frame-player"))
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert "media-src 'self' blob:" in csp  # it plays the files it kept, as blob: URLs
    assert response["Cache-Control"] == "no-cache, max-age=0" and response["Referrer-Policy"] == "no-referrer"
    # No inline script, nothing from elsewhere, none of the site's navigation.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts == [(f' src="{static("js/frame_player.js")}" defer', "")]
    assert "<nav" not in html and "https://" not in html.replace(response.wsgi_request.build_absolute_uri("/"), "")
    assert 'data-register-url="/api/frames/register"' in html and 'data-playlist-url="/api/frames/playlist"' in html
    assert 'data-pair-url="http://testserver/frames/pair/"' in html
    assert finders.find("js/frame_player.js") and finders.find("css/frame_player.css")


def test_the_service_worker_is_served_fresh_from_the_players_scope_and_names_the_shell(client):
    response = client.get(reverse("studio:frame-player-worker"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/frames/player/"
    assert response["Cache-Control"] == "no-cache, max-age=0"
    script = response.content.decode()
    shell = re.search(r"const SHELL = (\[.*?\])\.map", script).group(1)
    assert shell == f'["/frames/player/", "{static("css/frame_player.css")}", "{static("js/frame_player.js")}"]'
    assert re.search(r'const SHELL_CACHE = "frame-shell-" \+ "[0-9a-f]{12}";', script)
    assert "{{" not in script and "{%" not in script


def qr_decode(svg: str) -> str:
    """Read a QR code drawn as segno's SVG (rows of horizontal strokes, one module wide) the
    way a phone does: paint its modules, then OpenCV's detector reads the picture."""
    import cv2
    import numpy as np

    scale = 8
    side = int(re.search(r'viewBox="0 0 (\d+)', svg).group(1)) // scale
    modules = np.full((side, side), 255, np.uint8)
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", re.search(r'class="qrline"[^>]*d="([^"]+)"', svg).group(1)):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            modules[int(y), int(x):int(x + float(first))] = 0
            x += float(first)
    picture = cv2.resize(modules, (side * scale, side * scale), interpolation=cv2.INTER_NEAREST)
    return cv2.QRCodeDetector().detectAndDecode(picture)[0]


def test_the_qr_code_is_an_svg_that_reads_as_the_pairing_link_with_the_code(client):
    code = register()["pairing_code"]
    response = client.get(reverse("studio:frame-player-qr"), {"code": code.lower()})
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "private, max-age=900"
    svg = response.content.decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox=') and "<script" not in svg
    assert qr_decode(svg) == f"http://testserver/frames/pair/?code={code}"


@pytest.mark.parametrize("code", ["", "ABC", "K7QM2X0", "K7QM2O", "<svg>"])
def test_the_qr_code_is_drawn_only_for_a_pairing_code(client, code):
    assert client.get(reverse("studio:frame-player-qr"), {"code": code}).status_code == 400


def test_the_pairing_page_comes_with_the_code_from_the_qr_code(owner_client):
    response = owner_client.get(reverse("studio:frame-pair"), {"code": "K7QM2X"})
    assert response.status_code == 200
    assert re.search(r'<input[^>]*name="code"[^>]*value="K7QM2X"', response.content.decode())
    assert '<a href="http://testserver/frames/player/">' in response.content.decode()  # and how to make a frame of any screen


def test_the_qr_codes_link_survives_the_login_and_pairs(client, user):
    code = register()["pairing_code"]
    response = client.get(reverse("studio:frame-pair"), {"code": code})
    assert response.status_code == 302 and response["Location"].endswith("next=/frames/pair/%3Fcode%3D" + code)
    client.force_login(user)
    page = client.get(unquote(response["Location"].split("next=")[1]))
    assert f'value="{code}"' in page.content.decode()
    paired = client.post(reverse("studio:frame-pair"), {"code": code, "name": "Hall"})
    assert paired.status_code == 302
