"""Bounded reads for the synchronous Redfish path: a body cap, a decompression cap, a deadline.

The ``redfish`` library reads every response whole through ``requests``: one BMC answering with
an endless body took 3 GB of memory, a gzip bomb over 1 GB, and a BMC dripping one byte a second
hung ``dcops power`` for ever (a read timeout bounds each ``recv``, not the response). This
transport adapter, mounted on the library's ``requests`` session by the connector:

* streams the body and stops at ``max_body`` bytes, counted after decompression (urllib3 2.x
  decodes at most the amount asked for per read, so a bomb never inflates past the cap);
* cuts the connection when the operation's ``deadline`` (``time.monotonic()``) passes, in the
  headers or the body: a timer shuts the socket down, the blocked read fails, and the caller
  gets ``BodyLimitError``/``DeadlineError`` instead of waiting.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dcops.bmc.redfish.jsonbody import MAX_BODY

CHUNK = 64 * 1024


class BodyLimitError(Exception):
    """The response body was larger than the cap."""


class DeadlineError(Exception):
    """The operation's deadline passed while the BMC was still answering."""


_current = threading.local()


class _Watched:
    """Remembers the connection a request runs on, so the deadline timer can cut it."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        holder = getattr(_current, "holder", None)
        if holder is not None:
            holder["conn"] = conn
            if holder.get("cut"):  # the deadline passed while we waited for a pooled connection
                raise DeadlineError("deadline reached before the request was sent")
        return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPPool(_Watched, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, HTTPSConnectionPool):
    pass


def _cut(holder: dict[str, Any]) -> None:
    holder["cut"] = True
    conn = holder.get("conn")
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


class BoundedAdapter(HTTPAdapter):
    """A ``requests`` adapter that caps bodies and enforces a deadline (see the module doc).

    ``deadline`` is set by the connector before each request (one request at a time per
    connector: it holds its lock)."""

    def __init__(self, max_body: int = MAX_BODY) -> None:
        super().__init__(max_retries=0)
        self.max_body = max_body
        self.deadline: float | None = None

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def send(self, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True,
             cert: Any = None, proxies: Any = None) -> Any:
        holder: dict[str, Any] = {}
        timer = None
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineError("deadline reached")
            timer = threading.Timer(remaining, _cut, args=(holder,))
            timer.daemon = True
            timer.start()
        _current.holder = holder
        try:
            resp = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
            try:
                body = _read_capped(resp.raw, self.max_body)
            except BaseException:
                resp.close()
                raise
        except BodyLimitError:
            raise
        except Exception as exc:
            if holder.get("cut"):
                raise DeadlineError("deadline reached while the BMC was still answering") from exc
            raise
        finally:
            _current.holder = None
            if timer is not None:
                timer.cancel()
        resp._content = body
        resp._content_consumed = True
        return resp


def _read_capped(raw: Any, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = raw.read(CHUNK, decode_content=True)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise BodyLimitError(f"response body larger than {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    raw.release_conn()
    return b"".join(chunks)
