"""Handing a host over: the reachability gate on its production address and the ``delivered``
hook. Network I/O only; what to call and when is decided by the steps."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from dcops.errors import ApplyError
from dcops.secrets import redact


def wait_reachable(address: str, port: int, deadline: float, *, poll: float = 1.0,
                   now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> float:
    """Until a TCP connection to ``address:port`` succeeds; returns the seconds it took. Raises
    ApplyError at ``deadline`` with the last connection error."""
    started = now()
    last = "no attempt"
    while True:
        try:
            with socket.create_connection((address, port), timeout=max(0.5, min(5.0, deadline - now()))):
                return now() - started
        except OSError as exc:
            last = exc.strerror or str(exc)
        if now() >= deadline:
            raise ApplyError(f"production address {address}:{port} is not reachable after "
                             f"{now() - started:.0f} s (last: {last})")
        sleep(poll)


def call_hook(hook: str, facts: Mapping[str, Any], *, timeout: float = 30.0) -> dict[str, Any]:
    """The ``delivered`` hook: an http(s) URL gets the facts as a JSON POST; anything else is a
    command (run without a shell) that reads them on stdin. Returns what happened; raises
    ApplyError when the hook refuses (non-2xx, non-zero exit) so the host is not reported delivered
    to a CMDB that never heard of it."""
    body = json.dumps(facts, sort_keys=True).encode()
    if hook.startswith(("http://", "https://")):
        req = urllib.request.Request(hook, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "dcops"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the operator's URL
                return {"hook": "webhook", "status": resp.status}
        except urllib.error.HTTPError as exc:
            raise ApplyError(f"delivered hook: {redact(hook)} answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ApplyError(f"delivered hook: {redact(hook)}: {getattr(exc, 'reason', exc)}") from exc
    argv = shlex.split(hook)
    try:
        done = subprocess.run(argv, input=body, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ApplyError(f"delivered hook: {redact(argv[0])}: {exc}") from exc
    if done.returncode != 0:
        tail = redact(done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:][0]
                      if done.stderr.strip() else f"exit {done.returncode}")
        raise ApplyError(f"delivered hook: {redact(argv[0])} failed: {tail}")
    return {"hook": "command", "status": 0}
