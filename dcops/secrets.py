"""Credentials: the one module that turns a password reference into a password.

A reference is what the inventory or config holds instead of a password:

* ``env:NAME``      the environment variable NAME
* ``file:PATH``     the first line of a file (``~`` expanded); warns when others may read it
* ``cmd:COMMAND``   the first line a secret-store command prints (``cmd:pass show dc/bmc``,
                    ``cmd:vault kv get -field=password secret/bmc``); run without a shell.
                    Only from the operator's own input (config file, command line): see below
* ``cred:NAME``     the reference the operator's config file names NAME under ``credentials:``
                    (which may be a ``cmd:``); this is how the book points at a secret-store command
* ``prompt``        asked once per run on the terminal
* ``plain:VALUE``   a password written in the file: only accepted when the inventory sets
                    ``insecure_plaintext_passwords: true``, and then with a warning

Book data never becomes code. The inventory is data: it is imported from legacy CSV and XLSX
exports, edited by many hands, merged from pull requests. A ``cmd:`` written there would run as the
operator on the first ``dcops power status``. So ``resolve`` refuses ``cmd:`` unless the caller says
the reference came from the operator (``trusted=True``: the config file, a command-line option),
and the inventory checks refuse it at load and import with the file and line. A book that needs
a secret-store command writes ``cred:NAME``; the command itself lives in the operator's config.

Resolved passwords are wrapped in ``Secret`` (whose ``str``/``repr`` are masked) and remembered
in a process-wide set so that ``redact`` can scrub them from any text that leaves the process:
log records, error messages, JSON output, audit records.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import shlex
import stat
import subprocess
import sys
import threading
from pathlib import Path

from dcops.errors import CredentialError

MASK = "********"
SCHEMES = ("env", "file", "cmd", "cred", "prompt", "plain")
# The schemes book data (inventory files, imported rows) may hold: none of them runs anything.
BOOK_SCHEMES = ("env", "file", "cred", "prompt", "plain")

_known: set[str] = set()
_known_lock = threading.Lock()
_cache: dict[str, Secret] = {}
_named: dict[str, str] = {}
log = logging.getLogger(__name__)


class Secret:
    """A password that does not show itself: ``str``, ``repr`` and format give a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

    def reveal(self) -> str:
        """The password itself: hand it only to the transport that sends it to the BMC."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def forms(value: str) -> set[str]:
    """Every spelling of a secret that can reach text: raw, JSON-escaped (a password with ``"``
    or ``\\`` inside a logged request body), Python-repr-escaped, URL-encoded (form bodies,
    URLs) and base64 of ``user:password`` cannot be known here (the connector remembers its basic
    header itself)."""
    import json
    from urllib.parse import quote, quote_plus

    escaped = json.dumps(value)[1:-1]
    found = {value, escaped, json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1],
             quote(value, safe=""), quote_plus(value)}
    # What a naive redactor leaves: the ``redfish`` library's debug log replaces the "Password"
    # JSON value up to the first quote, which is the escaped ``\"`` inside the password, and logs
    # the rest. So every tail of the escaped form after a quote is a secret too.
    found.update(escaped[i + 1:] for i, ch in enumerate(escaped) if ch == '"')
    found.update(value[i + 1:] for i, ch in enumerate(value) if ch == '"')
    return {f for f in found if len(f) >= 3}


def remember(value: str) -> None:
    """Add ``value`` (in each of its ``forms``) to the set of strings ``redact`` removes (values
    under 3 characters are not scrubbed: they would mangle ordinary text, and no BMC accepts them
    anyway)."""
    if value and len(value) >= 3:
        with _known_lock:
            _known.update(forms(value))


# Credentials that are not ours to remember one by one: session tokens and HTTP auth headers,
# in the shapes HTTP libraries log them ("X-Auth-Token: v", "'X-Auth-Token': 'v'",
# "Authorization: Basic v"). Scrubbed by shape, at any verbosity.
_TOKEN_SHAPES = re.compile(
    r"""(?ix)
    (x-auth-token|authorization|proxy-authorization|cookie|set-cookie)   # the header name
    (['"]?\s*[:=]\s*['"]?)                                             # : or = and quotes
    ((?:basic|bearer|digest)\s+)?                                        # an auth scheme
    ([^\s'",}]+)                                                        # the credential
    """)


def redact(text: str) -> str:
    """Return ``text`` with every known password and any session token or auth header value
    replaced by the mask."""
    if not text:
        return text
    if _known:
        with _known_lock:
            values = sorted(_known, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
    if _TOKEN_HINT.search(text):
        text = _TOKEN_SHAPES.sub(lambda m: m.group(1) + m.group(2) + (m.group(3) or "") + MASK, text)
    return text


_TOKEN_HINT = re.compile(r"(?i)x-auth-token|authorization|cookie")


def scheme_of(ref: str) -> str | None:
    """The scheme of a reference (``env``, ``file``, ...) or None when it has none."""
    if ref == "prompt":
        return "prompt"
    head, sep, _ = ref.partition(":")
    return head if sep and head in SCHEMES else None


def check_reference(ref: str, *, book: bool = False) -> str | None:
    """Say what is wrong with a reference, or None when it is well formed (nothing is resolved).

    ``book=True`` checks a reference that came from book data (an inventory file, an imported
    row): ``cmd:`` is refused there, because book data must never become code.
    """
    scheme = scheme_of(ref)
    if scheme is None:
        return (
            "password must be a reference (env:NAME, file:PATH, cred:NAME or prompt), "
            "not the password itself"
        )
    body = ref.partition(":")[2]
    if book and scheme not in BOOK_SCHEMES:
        return (
            f"password reference {scheme}: is not allowed in inventory data (it would run a command); "
            "define the command in your dcops config under 'credentials:' and write cred:NAME here"
        )
    if scheme != "prompt" and not body:
        return f"password reference {scheme}: names nothing"
    return None


def use_named_credentials(named: dict[str, str]) -> None:
    """Install the operator's ``credentials:`` (name -> reference) that ``cred:NAME`` resolves
    through. The CLI calls it with the config file's section; the values are operator input, so
    they may be ``cmd:``."""
    _named.clear()
    _named.update(named)


def check_named_credentials(section: object) -> list[str]:
    """What is wrong with a config ``credentials:`` section (empty when it is fine)."""
    if not isinstance(section, dict):
        return ["credentials must be a mapping of name: reference"]
    problems = []
    for name, ref in section.items():
        if not isinstance(name, str) or not name:
            problems.append(f"credentials: {name!r} is not a name")
        elif not isinstance(ref, str):
            problems.append(f"credentials.{name} must be a reference string (env:, file:, cmd:, prompt)")
        elif scheme_of(ref) == "cred":
            problems.append(f"credentials.{name}: a credential cannot name another (cred:)")
        else:
            wrong = check_reference(ref)
            if wrong:
                problems.append(f"credentials.{name}: {wrong}")
    return problems


def runs_command(ref: str) -> bool:
    """True when resolving ``ref`` would run a command (``cmd:``, or a ``cred:`` naming one):
    dry runs show it with a warning."""
    scheme = scheme_of(ref)
    if scheme == "cred":
        ref = _named.get(ref.partition(":")[2], "")
        scheme = scheme_of(ref)
    return scheme == "cmd"


def resolve(ref: str, *, what: str = "BMC password", trusted: bool = False) -> Secret:
    """Resolve a reference to a ``Secret``; the same reference is resolved once per process.

    ``trusted`` says the reference is the operator's own input (config file, command line), the
    only place a ``cmd:`` may come from; every reference from the book leaves it False.

    Raises ``CredentialError`` naming the reference (never its value) when it cannot be resolved.
    """
    scheme = scheme_of(ref)
    body = ref.partition(":")[2]
    if scheme == "cmd" and not trusted:
        # Checked before the cache: a trusted caller having run the command must not make the
        # same reference usable from the book.
        raise CredentialError(
            f"{what}: cmd: references are not run from inventory data; define the command in your dcops "
            "config under 'credentials:' and write cred:NAME in the inventory")
    if ref in _cache:
        return _cache[ref]
    if scheme == "cred":
        named = _named.get(body)
        if named is None:
            raise CredentialError(f"{what}: cred:{body} is not defined under 'credentials:' in the dcops config")
        secret = resolve(named, what=what, trusted=True)
        _cache[ref] = secret
        return secret
    if scheme == "env":
        value = os.environ.get(body)
        if value is None:
            raise CredentialError(f"{what}: environment variable {body} is not set")
    elif scheme == "file":
        value = _read_secret_file(Path(body).expanduser(), what)
    elif scheme == "cmd":
        value = _run_secret_command(body, what)
    elif scheme == "prompt":
        if not sys.stdin.isatty():
            raise CredentialError(f"{what}: 'prompt' needs a terminal; use env: or file: in scripts and CI")
        value = getpass.getpass(f"{what}: ")
    elif scheme == "plain":
        value = body
    else:
        raise CredentialError(f"{what}: {check_reference(ref)}")
    secret = Secret(value)
    _cache[ref] = secret
    return secret


def _read_secret_file(path: Path, what: str) -> str:
    try:
        mode = path.stat().st_mode
        with path.open(encoding="utf-8") as handle:
            value = handle.readline().rstrip("\r\n")
    except OSError as exc:
        raise CredentialError(f"{what}: cannot read {path}: {exc.strerror}") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s: %s can be read by other users; chmod 600 it", what, path)
    if not value:
        raise CredentialError(f"{what}: {path} is empty")
    return value


def _run_secret_command(command: str, what: str) -> str:
    argv = shlex.split(command)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CredentialError(f"{what}: secret command {argv[0]!r} failed: {type(exc).__name__}") from None
    if done.returncode != 0:
        # stderr of a secret tool can echo the secret on some errors: show only the status.
        raise CredentialError(f"{what}: secret command {argv[0]!r} exited {done.returncode}")
    value = done.stdout.splitlines()[0] if done.stdout else ""
    if not value:
        raise CredentialError(f"{what}: secret command {argv[0]!r} printed nothing")
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs known passwords and session tokens from every record before it
    is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Always, even before any password is known: session tokens are scrubbed by their shape.
        record.msg = redact(record.getMessage())
        record.args = None
        # Format the traceback here, while we can still scrub it: the handler's formatter
        # would otherwise render exc_info after every filter has run.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def forget_all() -> None:
    """Drop every cached and known secret (tests use this between cases)."""
    with _known_lock:
        _known.clear()
    _cache.clear()
    _named.clear()
