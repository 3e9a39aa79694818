"""The synchronous Redfish connector: the only importer of the DMTF ``redfish`` library.

One ``RedfishConnector`` per BMC and run. It opens one session on first use and reuses it; it
always logs out (``close``, the context manager, and an ``atexit`` sweep for anything a Ctrl-C
left open). It logs in again once on a 401 (the BMC expired the session), falls back to basic
auth where the BMC has no SessionService, retries 503s and session exhaustion a bounded number
of times honouring ``Retry-After`` -- all inside one deadline, so a dead or slow BMC costs at
most ``deadline`` seconds, never a hang. Writes send ``If-Match`` with the resource's ETag; on
412 they retry with a strong ETag read fresh, then without ``If-Match``.

Errors are translated here: a BMC that does not answer or refuses the login raises
``UnreachableError`` (exit 4); a refused write raises ``ApplyError`` (exit 5) carrying the most
severe ``@Message.ExtendedInfo`` message; a missing resource raises ``resources.FetchError`` so
the reader can record it and go on. The password is only handed to the library; it never enters
a message (``dcops.secrets.redact`` scrubs every message too).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import email.utils
import logging
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redfish
from redfish.rest.v1 import RetriesExhaustedError

from dcops.bmc.redfish.bodies import session_body
from dcops.bmc.redfish.bounded import BoundedAdapter
from dcops.bmc.redfish.docs import Doc, FetchError, most_severe_message
from dcops.bmc.redfish.jsonbody import MAX_BODY, decode
from dcops.bmc.redfish.keys import ODATA_ETAG, ROOT, SESSIONS
from dcops.errors import ApplyError, UnreachableError
from dcops.models import BmcEndpoint
from dcops.secrets import Secret, redact, remember

log = logging.getLogger(__name__)


def describe_failure(exc: BaseException) -> str:
    """Say in words why a request got no answer, from the exception and its causes. Only type
    names are used: exception texts of HTTP stacks can carry URLs and headers."""
    names: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(names) < 8:
        names.append(type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    text = " ".join(names)
    for needle, words in (("DeadlineError", "deadline reached while the BMC was still answering (it drips or hangs)"),
                          ("BodyLimitError", f"the answer is larger than {MAX_BODY // (1024 * 1024)} MB (refused)"),
                          ("SSL", "TLS handshake or certificate verification failed"),
                          ("Certificate", "TLS certificate verification failed"),
                          ("ConnectionRefused", "connection refused"),
                          ("ConnectTimeout", "no answer to connect (timeout)"),
                          ("ReadTimeout", "no answer within the read timeout"),
                          ("Timeout", "timed out"),
                          ("timeout", "timed out"),
                          ("NameResolution", "name does not resolve"),
                          ("gaierror", "name does not resolve"),
                          ("ConnectionReset", "connection reset by the BMC"),
                          ("RemoteDisconnected", "the BMC closed the connection"),
                          ("Connection", "connection failed")):
        if needle in text:
            return words
    return "no answer" if isinstance(exc, RetriesExhaustedError) else names[0]


@dataclass(frozen=True)
class Timeouts:
    """How long to wait. ``deadline`` bounds one whole operation including retries."""

    connect: float = 5.0
    read: float = 30.0
    deadline: float = 120.0
    retries: int = 4  # 503 / session exhaustion / connection reset
    backoff: float = 0.5  # first pause when the BMC gives no Retry-After; doubles each time
    max_pause: float = 30.0


LOGOUT_BUDGET = 5.0  # seconds a logout may take (retries of a busy BMC included)
_warned_insecure: set[str] = set()
_warn_lock = threading.Lock()
_open: weakref.WeakSet[RedfishConnector] = weakref.WeakSet()
_open_lock = threading.Lock()  # WeakSet is not safe against concurrent add/discard/iteration
# Logins abandoned at the deadline finish here and are logged out at once (see ``_login``).
_janitor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="dcops-logout")
_abandoned: set[concurrent.futures.Future[Any]] = set()
_abandoned_lock = threading.Lock()


def _warn_insecure(address: str) -> None:
    """Warn once per run (not once per BMC: a site of 500 hosts would bury everything else)."""
    with _warn_lock:
        if _warned_insecure:
            return
        _warned_insecure.add(address)
    log.warning("TLS certificate verification is off for %s and possibly other BMCs (verify_tls: false); "
                "set ca_bundle to the BMC CA instead", address)


def ca_file(endpoint: BmcEndpoint) -> str | bool:
    """What to verify TLS with: the endpoint's CA bundle, the default bundle, or False (warned once).

    The ``redfish`` library turns verification off unless it is given a CA file, so a bundle is
    always passed when verifying.
    """
    if endpoint.scheme != "https":
        return False
    if not endpoint.verify_tls:
        _warn_insecure(endpoint.address)
        return False
    if endpoint.ca_bundle:
        return endpoint.ca_bundle
    import certifi

    return str(certifi.where())


def retry_after(value: str | None, default: float) -> float:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class Response:
    """What a request answered (status, parsed JSON body, headers)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str], problem: str | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.problem = problem  # what is wrong with a body that is not JSON (jsonbody.decode)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class RedfishConnector:
    """A session to one BMC. Use as a context manager, or call ``close``."""

    def __init__(self, host: str, endpoint: BmcEndpoint, password: Secret,
                 timeouts: Timeouts | None = None) -> None:
        self.host = host
        self.endpoint = endpoint
        self.timeouts = timeouts or Timeouts()
        self._password = password
        self._client: Any = None
        self._auth: str | None = None  # "session" | "basic"
        self._lock = threading.RLock()
        self._session_uri: str | None = None
        self.requests = 0
        with _open_lock:
            _open.add(self)

    # -- lifecycle
    def __enter__(self) -> RedfishConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Log out (deleting the session on the BMC) and drop the HTTP connection; never raises."""
        with self._lock:
            client, self._client, self._auth = self._client, None, None
            location, self._session_uri = self._session_uri, None
        with _open_lock:
            _open.discard(self)
        if client is None:
            return
        try:
            if location:
                self._delete_session(client, location)
            else:
                client.logout()  # basic auth: nothing on the BMC to delete
        except Exception as exc:  # noqa: BLE001 - a failed logout must not mask the real outcome
            log.info("%s: logout failed: %s", self.host, redact(f"{type(exc).__name__}: {exc}"))

    def _delete_session(self, client: Any, location: str) -> None:
        """DELETE our session, retrying a busy BMC (503/429, Retry-After capped at 1 s) for at most
        ``logout_budget`` seconds: a logout lost to one 503 is a session left until it times out,
        and BMCs have few (4 on some Supermicro)."""
        path = "/" + location.split("://", 1)[1].partition("/")[2] if "://" in location else location
        end = time.monotonic() + LOGOUT_BUDGET
        for attempt in range(self.timeouts.retries + 2):
            resp = self._raw(client, "DELETE", path, None, {}, end)
            if resp.status not in (429, 500, 502, 503, 504) or time.monotonic() >= end:
                return
            time.sleep(min(retry_after(resp.header("Retry-After"), 0.2 * (attempt + 1)), 1.0,
                           max(0.0, end - time.monotonic())))

    def _new_client(self) -> Any:
        client = redfish.redfish_client(
            base_url=self.endpoint.url(), username=self.endpoint.username, password=self._password.reveal(),
            cafile=ca_file(self.endpoint) or None, timeout=(self.timeouts.connect, self.timeouts.read),
            max_retry=0, check_connectivity=False,
        )
        # BMC traffic goes straight to the BMC, never through an environment proxy (HTTP(S)_PROXY
        # is for the internet, a BMC network is not behind it); and with trust_env requests scans
        # the whole environment for proxy settings on every request (~0.5 ms of CPU each).
        session = getattr(client, "_session", None)
        if session is not None:
            session.trust_env = False
            # Bounded reads: a body cap (after decompression) and the operation's deadline, on
            # every request of this client (see bounded.py).
            adapter = BoundedAdapter()
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            client._dcops_adapter = adapter
        return client

    def _login(self, deadline: float) -> None:
        """Open a session, or fall back to basic auth when the BMC has no SessionService."""
        attempt = 0
        while True:
            client = self._new_client()
            resp = self._post_session(client, deadline)
            token = resp.header("X-Auth-Token")
            if resp.status in (200, 201, 204) and token:
                location = resp.header("Location") or (resp.body or {}).get("@odata.id") or ""
                client.set_session_key(token)
                client.set_session_location(location)
                self._client, self._auth, self._session_uri = client, "session", location
                return
            if resp.status in (401, 403, 404, 405, 501):
                # No SessionService (sushy-tools, some older BMCs; behind a basic-auth front the
                # session POST itself answers 401): basic auth on every request, if it is accepted.
                client.set_authorization_key(client_basic(self.endpoint.username, self._password))
                probe = self._raw(client, "GET", f"{ROOT}/Systems", None, {}, deadline)
                if probe.status in (401, 403):
                    said = self._message(resp) or self._message(probe) or probe.status
                    raise UnreachableError(f"{self.host}: login refused: {said}")
                self._client, self._auth = client, "basic"
                return
            if resp.status == 503 or _session_limit(resp):
                # Session exhaustion or a busy BMC: wait as told, within the deadline.
                attempt += 1
                self._pause(resp, attempt, deadline, "login")
                continue
            raise UnreachableError(f"{self.host}: login failed: HTTP {resp.status} {self._message(resp) or ''}".rstrip())

    def _post_session(self, client: Any, deadline: float) -> Response:
        """POST a new session, bounded by ``deadline``.

        A login the deadline abandons may still create a session on the BMC (a slow BMC answers
        after we stopped listening). So the POST runs in a janitor thread with the full connect
        and read timeouts; when the caller gives up first, the janitor waits for the answer and
        deletes the session it made. ``close_all`` (atexit) waits for those janitors.
        """
        body = session_body(self.endpoint.username, self._password.reveal())
        far = time.monotonic() + self.timeouts.connect + self.timeouts.read + 1.0
        future = _janitor.submit(self._raw, client, "POST", SESSIONS, body, {}, far)
        remaining = deadline - time.monotonic()
        try:
            result: Response = future.result(timeout=max(0.0, remaining))
            return result
        except concurrent.futures.TimeoutError:
            with _abandoned_lock:
                _abandoned.add(future)
            future.add_done_callback(lambda done: self._discard_session(client, done))
            raise UnreachableError(f"{self.host}: login: deadline of {self.timeouts.deadline:g}s reached "
                                   "(no answer yet; a late session will be deleted)") from None

    def _discard_session(self, client: Any, future: concurrent.futures.Future[Any]) -> None:
        """Delete the session a login abandoned at the deadline created after all."""
        try:
            resp: Response = future.result()
            token = resp.header("X-Auth-Token")
            if resp.status in (200, 201, 204) and token:
                client.set_session_key(token)
                client.set_session_location(resp.header("Location") or (resp.body or {}).get("@odata.id") or "")
                client.logout()
                log.info("%s: deleted the session of a login that answered after the deadline", self.host)
        except Exception as exc:  # noqa: BLE001 - best effort in a janitor thread; nothing to report to
            log.info("%s: late login cleanup: %s", self.host, redact(f"{type(exc).__name__}"))
        finally:
            with _abandoned_lock:
                _abandoned.discard(future)

    def _pause(self, resp: Response | None, attempt: int, deadline: float, what: str) -> None:
        if attempt > self.timeouts.retries:
            status = resp.status if resp else "no answer"
            raise UnreachableError(f"{self.host}: {what}: gave up after {attempt} attempts ({status})")
        default = min(self.timeouts.backoff * (2 ** (attempt - 1)), self.timeouts.max_pause)
        pause = min(retry_after(resp.header("Retry-After") if resp else None, default), self.timeouts.max_pause)
        if time.monotonic() + pause >= deadline:
            raise UnreachableError(f"{self.host}: {what}: deadline of {self.timeouts.deadline:g}s reached "
                                   f"(BMC busy: {resp.status if resp else 'no answer'})")
        log.info("%s: %s: BMC busy, retrying in %.1fs", self.host, what, pause)
        time.sleep(pause)

    def _raw(self, client: Any, method: str, path: str, body: Any, headers: dict[str, str],
             deadline: float) -> Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UnreachableError(f"{self.host}: {method} {path}: deadline of {self.timeouts.deadline:g}s reached")
        timeout = (min(self.timeouts.connect, remaining), min(self.timeouts.read, remaining))
        adapter = getattr(client, "_dcops_adapter", None)
        if adapter is not None:
            adapter.deadline = deadline
        self.requests += 1
        try:
            kwargs: dict[str, Any] = {"headers": headers, "timeout": timeout, "max_retry": 0}
            if method == "GET":
                resp = client.get(path, **kwargs)
            elif method == "DELETE":
                resp = client.delete(path, **kwargs)
            else:
                resp = getattr(client, method.lower())(path, body=body, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the library raises bare Exceptions of many kinds
            raise UnreachableError(f"{self.host}: {method} {path}: {describe_failure(exc)}") from None
        raw = resp.read
        parsed, problem = decode(raw.encode() if isinstance(raw, str) else raw)
        return Response(resp.status, parsed, dict(resp.getheaders()), problem)

    @staticmethod
    def _message(resp: Response) -> str | None:
        return most_severe_message(resp.body)

    # -- requests
    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                *, deadline: float | None = None) -> Response:
        """One request with session handling and retries; returns any final status (no raising on 4xx)."""
        end = deadline or time.monotonic() + self.timeouts.deadline
        attempt = 0
        relogged = False
        with self._lock:
            while True:
                if self._client is None:
                    self._login(end)
                resp = self._raw(self._client, method, path, body, dict(headers or {}), end)
                if resp.status == 401 and self._auth == "session" and not relogged:
                    # The BMC dropped our session (timeout, reboot, admin cleared it): log in again once.
                    relogged = True
                    self._client = None
                    continue
                if resp.status == 401:
                    raise UnreachableError(f"{self.host}: login refused on {path}")
                if resp.status == 503 or (resp.status == 429):
                    attempt += 1
                    self._pause(resp, attempt, end, f"{method} {path}")
                    continue
                return resp

    def get(self, path: str, *, deadline: float | None = None) -> Doc:
        """GET a JSON document. Raises FetchError for 4xx/5xx (the reader records it)."""
        resp = self.request("GET", path, deadline=deadline)
        if resp.status != 200 or not isinstance(resp.body, dict):
            reason = f"HTTP {resp.status}" + (f": {self._message(resp)}" if self._message(resp) else "")
            if resp.status == 200:
                # Not "HTTP 200": the answer came, and it is not a Redfish document.
                reason = resp.problem or ("empty body" if resp.body is None else "not a JSON object")
            raise FetchError(path, reason, resp.status)
        doc: Doc = resp.body
        etag = resp.header("ETag")
        if etag and "@odata.etag" not in doc:
            doc["@odata.etag"] = etag
        return doc

    def act(self, method: str, path: str, body: Any, what: str, *, etag: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
        """A write (POST action, PATCH, DELETE). Raises ApplyError with the BMC's own words on refusal.

        With ``etag`` a write sends ``If-Match``. On 412 (the resource changed, or the BMC hands
        out ETags it never matches) it reads the resource again and retries with the fresh ETag,
        then once without If-Match. On 428 (the BMC requires If-Match: HPE iLO for BIOS settings)
        it reads the ETag and retries with it.
        """
        end = time.monotonic() + self.timeouts.deadline
        extra = dict(headers or {})
        sent = {**extra, "If-Match": etag} if etag else extra
        resp = self.request(method, path, body, sent, deadline=end)
        if resp.status in (412, 428):
            fresh = self._etag(path, end)
            if fresh and fresh != etag:
                resp = self.request(method, path, body, {**extra, "If-Match": fresh}, deadline=end)
            if resp.status == 412:
                # Quirk (various): an ETag that never matches; the write is still wanted.
                resp = self.request(method, path, body, extra, deadline=end)
        if resp.status >= 400:
            said = self._message(resp) or f"HTTP {resp.status}"
            raise ApplyError(f'{self.host}: {what}: BMC said "{said}"')
        return resp

    def _etag(self, path: str, deadline: float) -> str | None:
        resp = self.request("GET", path, deadline=deadline)
        etag = resp.header("ETag")
        if not etag and isinstance(resp.body, dict) and isinstance(resp.body.get(ODATA_ETAG), str):
            etag = resp.body[ODATA_ETAG]
        return etag


def client_basic(username: str, password: Secret) -> str:
    import base64

    token = base64.b64encode(f"{username}:{password.reveal()}".encode()).decode()
    remember(token)  # the password in another spelling: scrubbed wherever it shows up
    return f"Basic {token}"


def _session_limit(resp: Response) -> bool:
    text = str(resp.body)
    return resp.status in (400, 403, 409, 500, 503) and ("SessionLimitExceeded" in text or "session limit" in text.lower())


@contextmanager
def connect(host: str, endpoint: BmcEndpoint, password: Secret,
            timeouts: Timeouts | None = None) -> Iterator[RedfishConnector]:
    conn = RedfishConnector(host, endpoint, password, timeouts)
    try:
        yield conn
    finally:
        conn.close()


def close_all() -> None:
    """Log out of every session still open (registered with atexit: after a Ctrl-C, a crash)."""
    with _open_lock:
        open_now = list(_open)
    for conn in open_now:
        conn.close()
    with _abandoned_lock:
        pending = list(_abandoned)
    # Logins abandoned at a deadline: let them finish and log out (each bounded by its timeouts).
    concurrent.futures.wait(pending, timeout=60)


atexit.register(close_all)
