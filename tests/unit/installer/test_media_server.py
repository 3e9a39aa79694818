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


def test_https_media_with_a_private_ca(tmp_path: Path) -> None:
    """iLO and iDRAC mount HTTPS: the server presents the operator's certificate, a client that
    trusts the CA reads ranges and calls the completion URL, one that does not is refused."""
    import ssl

    from dcops.sim.runner import make_certificates

    ca, cert, key = make_certificates(tmp_path / "tls")
    with MediaServer(tmp_path / "media", tls_cert=str(cert), tls_key=str(key)) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        token = new_token()
        url, _ = srv.publish("h1", token, "h1-install.iso", b"0123456789" * 1000)
        trusted = ssl.create_default_context(cafile=str(ca))
        req = urllib.request.Request(url, headers={"Range": "bytes=10-19"})
        with urllib.request.urlopen(req, timeout=10, context=trusted) as resp:
            assert resp.status == 206 and resp.read() == b"0123456789"
        req = urllib.request.Request(srv.done_url(token) + "?status=ok", data=b"keys", method="POST")
        with urllib.request.urlopen(req, timeout=10, context=trusted) as resp:
            assert resp.status == 200
        assert srv.completion(token_hash(token)) is not None
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(url, timeout=10, context=ssl.create_default_context())


def test_a_bad_certificate_is_named(tmp_path: Path) -> None:
    from dcops.errors import InvalidInputError

    bad = tmp_path / "cert.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(InvalidInputError, match="media server certificate .*cert.pem"):
        MediaServer(tmp_path / "media", tls_cert=str(bad))


def test_large_images_are_streamed_from_disk(tmp_path: Path) -> None:
    """A per-host installer ISO is gigabytes: written by a callback, served in chunks with ranges."""
    with MediaServer(tmp_path / "media") as srv:
        token = new_token()
        blob = bytes(range(256)) * 12 * 1024  # 3 MiB: more than one chunk

        def write(path: Path) -> None:
            path.write_bytes(blob)

        url, digest = srv.publish_file("h1", token, "h1-install.iso", write)
        assert digest == hashlib.sha256(blob).hexdigest()
        status, body, _ = _get(url)
        assert status == 200 and body == blob
        status, body, headers = _get(url, {"Range": f"bytes={len(blob) - 5}-"})
        assert status == 206 and body == blob[-5:] and headers["Content-Range"] == f"bytes {len(blob) - 5}-" \
            f"{len(blob) - 1}/{len(blob)}"
        assert not list((tmp_path / "media" / "h1").glob(".*tmp"))


def test_a_standing_server_serves_what_another_process_publishes(tmp_path: Path) -> None:
    """``dcops serve`` listens; ``provision run --media-listen external`` publishes into the same
    directory and reads the completion the standing server recorded (here two objects, as the two
    processes would be): the URL works by its token, the call is single-use across both."""
    with MediaServer(tmp_path / "media") as standing:
        run = MediaServer(tmp_path / "media", None, url=standing.url)
        token = new_token()
        url, _ = run.publish("h1", token, "h1-oemdrv.img", b"answer")
        assert url.startswith(standing.url + "/media/")
        assert _get(url)[:2] == (200, b"answer")
        assert run.wait(token_hash(token), 0.01) is None
        assert _post(run.done_url(token) + "?status=ok", b"ssh-ed25519 AAAA key") == 200
        done = run.wait(token_hash(token), 5)
        assert done is not None and done.status == "ok" and done.text == "ssh-ed25519 AAAA key"
        assert _post(run.done_url(token) + "?status=failed") == 410
        # A new attempt (new token) does not inherit the last one's outcome.
        token2 = new_token()
        run.publish("h1", token2, "h1-oemdrv.img", b"answer 2")
        assert run.completion(token_hash(token2)) is None and _get(run.image_url(token2, "h1-oemdrv.img"))[1] == \
            b"answer 2"
        run.withdraw("h1", token_hash(token2))
        assert _get(run.image_url(token2, "h1-oemdrv.img"))[0] == 404
        run.close()


def test_an_external_server_needs_its_url(tmp_path: Path) -> None:
    from dcops.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="--media-url"):
        MediaServer(tmp_path / "media", None)


def test_an_old_token_neither_serves_nor_settles_a_newer_attempt(tmp_path: Path) -> None:
    with MediaServer(tmp_path / "media") as standing:
        run = MediaServer(tmp_path / "media", None, url=standing.url)
        old, new = new_token(), new_token()
        run.publish("h1", old, "h1-oemdrv.img", b"attempt 1")
        assert _get(run.image_url(old, "h1-oemdrv.img"))[1] == b"attempt 1"
        run.publish("h1", new, "h1-oemdrv.img", b"attempt 2")
        assert _get(run.image_url(old, "h1-oemdrv.img"))[0] == 404
        assert _post(run.done_url(old) + "?status=ok") == 404
        assert _get(run.image_url(new, "h1-oemdrv.img"))[1] == b"attempt 2"
