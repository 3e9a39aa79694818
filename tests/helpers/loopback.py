"""The suite's loopback guard: no test, benchmark or example run by the tests may reach an address
outside 127.0.0.0/8 and ::1, not even by accident through a shipped example address.

An audit hook (PEP 578) sees every ``socket.connect``/``connect_ex``, ``sendto``, ``sendmsg`` and
name lookup *before* the system call, so a stray connection is stopped before a packet (or a DNS
query) leaves the machine. A blocked call raises :class:`LoopbackViolation`, which is not an
``OSError`` on purpose: code under test that turns network errors into "BMC unreachable, carry on"
must not quietly swallow it. Because code may still catch ``Exception`` broadly, every violation is
also written to a log (``DCOPS_LOOPBACK_LOG``) that tests/conftest.py checks after each test, so a
swallowed one still fails its test. Python subprocesses started by tests get the same hook through
``tests/helpers/loopback_site/sitecustomize.py`` on ``PYTHONPATH``.

Audit hooks cannot be removed; :func:`install` is idempotent and cheap on the hot path (one string
comparison for unrelated events).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from typing import Any

LOG_ENV = "DCOPS_LOOPBACK_LOG"
# Names that resolve to loopback without asking a DNS server (RFC 6761 reserves *.localhost).
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_EVENTS = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr"}
_installed = False


class LoopbackViolation(RuntimeError):
    """A test tried to reach an address outside loopback."""


def _own_hostname() -> str:
    try:
        return socket.gethostname().lower()
    except OSError:  # pragma: no cover - no hostname at all
        return "localhost"


_HOSTNAME = _own_hostname()


def allowed_host(host: object) -> bool:
    """Whether ``host`` (an address or a name, str or bytes) stays on this machine."""
    if host is None:
        return True  # getaddrinfo(None, port): the passive/local address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return True
    name = host.strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name in ("", "<broadcast>"):
        return name == ""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        # A name: only those that cannot leave the machine. The machine's own hostname is looked up
        # in /etc/hosts by smtplib and friends (getfqdn); a connect to its address is checked again.
        return name in LOCAL_NAMES or name.endswith(".localhost") or name == _HOSTNAME
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    # 0.0.0.0 and :: as a destination mean "this host" on Linux.
    return address.is_loopback or address.is_unspecified


def _where() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", f"pid {os.getpid()}: {' '.join(sys.argv)[:200]}")


def _refuse(what: str, target: object) -> None:
    message = f"loopback guard: {_where()} tried to {what} {target!r} (tests may only reach 127.0.0.0/8 and ::1)"
    log = os.environ.get(LOG_ENV)
    if log:
        try:
            with open(log, "a", encoding="utf-8") as out:
                out.write(message.replace("\n", " ") + "\n")
        except OSError:
            pass
    raise LoopbackViolation(message)


def _check_address(what: str, sock: Any, address: Any) -> None:
    family = getattr(sock, "family", None)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX paths, netlink and the like never leave the machine
    if isinstance(address, tuple) and address and not allowed_host(address[0]):
        _refuse(what, address)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS:
        return
    if event == "socket.connect":
        _check_address("connect to", args[0], args[1])
    elif event in ("socket.sendto", "socket.sendmsg"):
        if args[1] is not None:
            _check_address("send to", args[0], args[1])
    elif not allowed_host(args[0]):  # name lookups: stop them before a DNS query leaves
        _refuse("look up", args[0])


def install() -> None:
    """Add the hook to this interpreter (once)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def guard_process_tree() -> None:
    """Install the guard here and in every Python subprocess started from now on (benchmarks run
    as plain modules, outside pytest's conftest)."""
    install()
    site = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loopback_site")
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if site not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([site, *paths])
