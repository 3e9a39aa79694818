"""The media server: serves each host's answer image to its BMC over HTTP and hears the
installer's completion call, on an address the operator chooses (``--media-listen``; the URL the
BMC and the installer use is ``--media-url`` when a proxy or NAT sits between).

Paths carry a per-host random token (``/media/<token>/<file>``, ``/done/<token>``): a host can
fetch only its own answer file, and the completion URL is single-use: the first call settles the
install, later ones get 410 Gone. Only a hash of a token is kept beyond the image (which holds
it): the state store records the hash, and a resumed run registers the same image again.
BMCs read virtual media with ``Range`` requests (iDRAC, iLO, XCC stream the image), so ranges are
served; HEAD answers the size; ``Digest`` carries the SHA-256 (RFC 3230).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dcops.errors import InvalidInputError

log = logging.getLogger(__name__)
_MAX_REPORT = 64 * 1024  # the log tail an installer may send
_CHUNK = 1024 * 1024  # images are streamed from disk: a per-host installer ISO is gigabytes


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Completion:
    """What the installer said: ``status`` ok | failed, and the text it sent (log tail)."""

    status: str
    text: str
    at: float


@dataclass
class _Entry:
    host: str
    path: Path  # the image on disk
    sha256: str
    done: Completion | None = None
    fetched: int = 0  # GETs served (ranges included)
    files: dict[str, Path] = field(default_factory=dict)


class MediaServer:
    """A threaded HTTP server (one per ``provision run`` or ``dcops serve``)."""

    def __init__(self, directory: str | Path, listen: str | None = "127.0.0.1", port: int = 0,
                 url: str | None = None, *, tls_cert: str | None = None, tls_key: str | None = None,
                 tls_ca: str | None = None) -> None:
        self.directory = Path(directory)
        # The CA (PEM) of an HTTPS media server's certificate, rendered into every answer file:
        # the installer's curl trusts only public CAs (issue 16). None: plain HTTP or a public CA.
        self.ca_pem: str | None = None
        if tls_ca:
            try:
                self.ca_pem = Path(tls_ca).read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInputError(f"media CA {tls_ca}: {exc}") from exc
            if "-----BEGIN CERTIFICATE-----" not in self.ca_pem:
                raise InvalidInputError(f"media CA {tls_ca}: no PEM certificate in it")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, _Entry] = {}  # token hash -> entry
        self._tokens: dict[str, str] = {}  # token hash -> token, for the tokens this process made
        self._lock = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        if listen is None:
            # External: another process (``dcops serve`` with provision.media_listen) serves
            # ``directory`` at ``url``; this one publishes there and reads the completions it
            # records on disk.
            if not url:
                raise InvalidInputError("an external media server needs its URL (--media-url)")
            self.url = url.rstrip("/")
            return
        server = self

        class Handler(_Handler):
            media = server

        self._httpd = ThreadingHTTPServer((listen, port), Handler)
        self._httpd.daemon_threads = True
        scheme = "http"
        if tls_cert:
            # HTTPS: iLO 5/6 and iDRAC 9 mount virtual media over HTTPS (iLO checks the
            # certificate against its imported CA certificates when "Verify" is on, iDRAC 9
            # 6.x only with its HTTPS certificate validation enabled); the installer's completion
            # call uses the same URL, so the answer file carries the CA (``tls_ca``) for curl --cacert.
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            try:
                context.load_cert_chain(tls_cert, tls_key)
            except (OSError, ssl.SSLError) as exc:
                self._httpd.server_close()
                raise InvalidInputError(f"media server certificate {tls_cert}: {exc}") from exc
            # The handshake happens in the handler thread (on its first read), not in the accept loop.
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True,
                                                     do_handshake_on_connect=False)
            scheme = "https"
        host, bound = self._httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        self.url = (url or f"{scheme}://{shown}:{bound}").rstrip("/")
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="dcops-media", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ registry
    def image_url(self, token: str, name: str) -> str:
        return f"{self.url}/media/{token}/{name}"

    def done_url(self, token: str) -> str:
        return f"{self.url}/done/{token}"

    def publish(self, host: str, token: str, name: str, data: bytes) -> tuple[str, str]:
        """Write ``data`` as the host's image ``name`` (atomically) and serve it; returns (url, sha256)."""
        folder = self.directory / host
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / name
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.chmod(0o600)  # the image holds the completion token
        tmp.replace(path)
        with self._lock:
            self._tokens[token_hash(token)] = token
        return self.image_url(token, name), self.adopt(host, token_hash(token), path)

    def publish_file(self, host: str, token: str, name: str, write: Callable[[Path], None]) -> tuple[str, str]:
        """Like ``publish`` for an image too large for memory (a per-host installer ISO):
        ``write(path)`` writes it to a temporary file, renamed when complete."""
        folder = self.directory / host
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / name
        tmp = folder / f".{name}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            write(tmp)
            tmp.chmod(0o600)  # the image holds the completion token
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._tokens[token_hash(token)] = token
        return self.image_url(token, name), self.adopt(host, token_hash(token), path)

    def adopt(self, host: str, token_sha: str, path: Path) -> str:
        """Serve an image already on disk under its token's hash (a resumed run: the BMC still
        holds the URL); returns its SHA-256. The hash is written next to it (``.token``), so a
        media server in another process finds the image by its URL."""
        marker = path.parent / _TOKEN_FILE
        if not marker.is_file() or marker.read_text().strip() != token_sha:
            _write_atomically(marker, token_sha.encode())
            (path.parent / _DONE_FILE).unlink(missing_ok=True)  # an earlier attempt's outcome
        hasher = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(_CHUNK):
                hasher.update(block)
        digest = hasher.hexdigest()
        with self._lock:
            entry = self._entries.setdefault(token_sha, _Entry(host, path, digest))
            entry.files[path.name] = path
            entry.path, entry.sha256 = path, digest
        return digest

    def url_for(self, token_sha: str) -> str | None:
        """``<url>/media/<token>`` when this process made the token (None after a restart)."""
        with self._lock:
            token = self._tokens.get(token_sha)
        return f"{self.url}/media/{token}" if token else None

    def image_path(self, host: str, name: str) -> Path:
        return self.directory / host / name

    def withdraw(self, host: str, token_sha: str | None = None) -> None:
        """Stop serving a host's media and delete it (the install is over)."""
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.host == host and (token_sha in (None, k))]:
                del self._entries[key]
                self._tokens.pop(key, None)
        folder = self.directory / host
        if folder.is_dir():
            for item in folder.iterdir():
                item.unlink(missing_ok=True)
            folder.rmdir()

    def completion(self, token_sha: str) -> Completion | None:
        with self._lock:
            entry = self._entries.get(token_sha)
            if entry is None:
                return None
            if entry.done is None:
                entry.done = _read_done(entry.path.parent)  # heard by a media server in another process
            return entry.done

    def fetched(self, token_sha: str) -> int:
        with self._lock:
            entry = self._entries.get(token_sha)
            return entry.fetched if entry else 0

    def wait(self, token_sha: str, timeout: float) -> Completion | None:
        """Block up to ``timeout`` seconds for the installer's call."""
        end = time.monotonic() + timeout
        with self._lock:
            while True:
                entry = self._entries.get(token_sha)
                if entry is not None and entry.done is None:
                    entry.done = _read_done(entry.path.parent)
                if entry is not None and entry.done is not None:
                    return entry.done
                left = end - time.monotonic()
                if left <= 0:
                    return None
                # Woken at once by a call this process hears; the disk (another process's
                # media server) is looked at every quarter second.
                self._lock.wait(min(left, 0.25))

    def close(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> MediaServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests
    def _lookup(self, token: str) -> _Entry | None:
        sha = token_hash(token)
        with self._lock:
            entry = self._entries.get(sha)
        if entry is None:
            return self._from_disk(sha)
        try:
            current = (entry.path.parent / _TOKEN_FILE).read_text().strip()
        except OSError:
            current = None
        if current != sha:
            # Withdrawn, or replaced by a newer attempt (perhaps by another process): the old
            # URL must not serve the new image nor settle the new install.
            with self._lock:
                self._entries.pop(sha, None)
            return None
        return entry

    def _from_disk(self, sha: str) -> _Entry | None:
        """An image another process published in ``directory`` (found by its ``.token``)."""
        for folder in self.directory.iterdir() if self.directory.is_dir() else ():
            marker = folder / _TOKEN_FILE
            try:
                if not marker.is_file() or marker.read_text().strip() != sha:
                    continue
            except OSError:
                continue
            images = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
            if not images:
                return None
            for image in images:
                self.adopt(folder.name, sha, image)
            with self._lock:
                return self._entries.get(sha)
        return None

    def _complete(self, token: str, status: str, text: str) -> int:
        entry = self._lookup(token)
        with self._lock:
            if entry is None:
                return 404
            if entry.done is None:
                entry.done = _read_done(entry.path.parent)
            if entry.done is not None:
                return 410  # single use (whichever process heard the first call)
            entry.done = Completion(status, text, time.time())
            # On disk too: the ``provision run`` waiting for it may be another process.
            _write_atomically(entry.path.parent / _DONE_FILE, json.dumps(
                {"status": status, "text": text, "at": entry.done.at}).encode())
            self._lock.notify_all()
            return 200

    def _count(self, entry: _Entry) -> None:
        with self._lock:
            entry.fetched += 1


_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_TOKEN_FILE, _DONE_FILE = ".token", ".done.json"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    tmp.replace(path)


def _read_done(folder: Path) -> Completion | None:
    try:
        raw = json.loads((folder / _DONE_FILE).read_text())
        return Completion(str(raw["status"]), str(raw.get("text") or ""), float(raw.get("at") or 0))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def listen_address(value: str) -> tuple[str | None, int]:
    """``ADDR[:PORT]`` / ``[v6]:PORT`` of ``--media-listen``; ``external`` is (None, 0): another
    process (``dcops serve``) serves the media directory."""
    if value == "external":
        return None, 0
    host, _, port = value.rpartition(":") if value.count(":") == 1 or value.startswith("[") else (value, "", "")
    host = (host or value).strip("[]")
    try:
        return host, int(port) if port else 0
    except ValueError as exc:
        raise InvalidInputError(f"media listen address {value!r}: the port must be a number") from exc


class _Handler(BaseHTTPRequestHandler):
    media: MediaServer
    server_version = "dcops-media"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        # The path holds the host's token: log the method and the outcome, never the path.
        log.debug("media: %s %s", self.command, args[1] if len(args) > 1 else "")

    def _reply(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _image(self) -> tuple[_Entry, Path] | None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "media":
            return None
        entry = self.media._lookup(parts[1])
        if entry is None or parts[2] not in entry.files or not entry.files[parts[2]].is_file():
            return None
        return entry, entry.files[parts[2]]

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        found = self._image()
        if found is None:
            self._reply(404, b"not found\n")
            return
        entry, path = found
        size = path.stat().st_size
        digest = base64.b64encode(bytes.fromhex(entry.sha256)).decode()
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
                   "Digest": f"sha-256={digest}", "ETag": f'"{entry.sha256}"'}
        if self.command == "GET":
            self.media._count(entry)
        wanted = _RANGE.match(self.headers.get("Range", "").strip())
        code, start, end = 200, 0, size - 1
        if wanted and (wanted.group(1) or wanted.group(2)):
            first, last = wanted.group(1), wanted.group(2)
            if first:
                start, end = int(first), min(int(last) if last else size - 1, size - 1)
            else:
                start, end = max(0, size - int(last)), size - 1
            if start >= size or start > end:
                self._reply(416, b"", {"Content-Range": f"bytes */{size}"})
                return
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            code = 206
        self._stream(code, path, start, end - start + 1, headers)

    def _stream(self, code: int, path: Path, start: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(max(0, length)))
        self.end_headers()
        if self.command == "HEAD" or length <= 0:
            return
        with path.open("rb") as fh:
            fh.seek(start)
            left = length
            while left > 0:
                block = fh.read(min(_CHUNK, left))
                if not block:
                    break
                self.wfile.write(block)
                left -= len(block)

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 16 * _MAX_REPORT))[-_MAX_REPORT:] if length else b""
        if len(parts) != 2 or parts[0] != "done":
            self._reply(404, b"not found\n")
            return
        status = (parse_qs(url.query).get("status") or ["ok"])[0]
        if status not in ("ok", "failed"):
            self._reply(400, b"status must be ok or failed\n")
            return
        code = self.media._complete(parts[1], status, body.decode("utf-8", "replace"))
        self._reply(code, {200: b"recorded\n", 404: b"unknown token\n", 410: b"already used\n"}[code])


def media_dir_for(state_url: str | None, default_state_url: str) -> Path:
    """The default media directory: ``media`` next to the SQLite state database."""
    state = state_url or default_state_url
    base = state if state.startswith("sqlite:///") else default_state_url
    return Path(base.removeprefix("sqlite:///")).parent / "media"


def open_media_server(setting: Callable[[str], Any], default_dir: Path) -> MediaServer:
    """The media server configured by ``setting(name)`` (``media_listen``, ``media_url``,
    ``media_dir``, ``media_cert``, ``media_key``, ``media_ca``: provision options or the config's
    ``provision:`` section). Raises InvalidInputError on a bad value or an address it cannot
    listen on."""
    listen = str(setting("media_listen") or "127.0.0.1")
    host, port = listen_address(listen)
    directory = Path(str(setting("media_dir") or default_dir)).expanduser()
    try:
        return MediaServer(directory, host, port, setting("media_url"), tls_cert=setting("media_cert"),
                           tls_key=setting("media_key"), tls_ca=setting("media_ca"))
    except OSError as exc:
        raise InvalidInputError(f"media server: cannot listen on {listen}: {exc.strerror or exc}") from exc
