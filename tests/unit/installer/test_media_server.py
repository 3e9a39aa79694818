"""The media server over real HTTP on loopback: per-host images under a token, ranges as BMCs
read them, the SHA-256 digest, single-use completion URLs, withdrawal deletes the image."""

from __future__ import annotations

import base64
import hashlib
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dcops.installer.server import MediaServer, new_token, token_hash


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _post(url: str, body: bytes = b"") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def server(tmp_path: Path) -> MediaServer:
    with MediaServer(tmp_path / "media") as srv:
        yield srv  # type: ignore[misc]


def test_images_ranges_and_digest(server: MediaServer) -> None:
    token = new_token()
    data = bytes(range(256)) * 40
    url, sha = server.publish("h1", token, "h1-oemdrv.img", data)
    assert sha == hashlib.sha256(data).hexdigest() and url == f"{server.url}/media/{token}/h1-oemdrv.img"
    status, body, headers = _get(url)
    assert status == 200 and body == data
    assert headers["Digest"] == "sha-256=" + base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert _get(url, {"Range": "bytes=10-19"})[:2] == (206, data[10:20])
    assert _get(url, {"Range": "bytes=-5"})[1] == data[-5:]
    assert _get(url, {"Range": f"bytes={len(data)}-"})[0] == 416
    # Another token, another host's name, a guessed path: nothing.
    assert _get(f"{server.url}/media/{new_token()}/h1-oemdrv.img")[0] == 404
    assert _get(f"{server.url}/media/{token}/h2-oemdrv.img")[0] == 404
    assert server.fetched(token_hash(token)) == 4


def test_the_completion_url_is_single_use_and_wakes_the_waiter(server: MediaServer) -> None:
    token = new_token()
    server.publish("h1", token, "a.img", b"x")
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(server.wait(token_hash(token), 60)))
    waiter.start()
    assert _post(f"{server.done_url(token)}?status=failed", b"anaconda: no disk\n") == 200
    waiter.join(60)
    done = got[0]
    assert done is not None and done.status == "failed" and "no disk" in done.text  # type: ignore[attr-defined]
    assert _post(f"{server.done_url(token)}?status=ok") == 410  # single use: the first call settles it
    assert _post(f"{server.done_url(new_token())}?status=ok") == 404
    assert _post(f"{server.done_url(token)}?status=maybe") == 400


def test_withdraw_deletes_the_image_and_adopt_serves_it_again(server: MediaServer, tmp_path: Path) -> None:
    token = new_token()
    url, _ = server.publish("h1", token, "a.img", b"image")
    path = server.image_path("h1", "a.img")
    with MediaServer(tmp_path / "media") as other:  # a resumed run: knows the hash, not the token
        assert other.url_for(token_hash(token)) is None
        other.adopt("h1", token_hash(token), path)
        assert _get(url.replace(server.url, other.url))[:2] == (200, b"image")
    server.withdraw("h1")
    assert not path.exists() and _get(url)[0] == 404
