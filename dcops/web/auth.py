"""Who is asking: local users with scrypt-hashed passwords (``dcops web user add``), or a
trusted reverse-proxy header when the config names one; signed session cookies; CSRF tokens.

The interface other parts build on (the console of issue 22 too):

- ``auth_middleware`` sets ``request[USER]`` to a ``User(name, role)`` (or None when nobody
  is logged in, on the few pages that allow that: the login form and static files), and
  ``request[SESSION]`` / ``request[CSRF]`` (``web.RequestKey`` constants, not strings: aiohttp
  warns ``NotAppKeyWarning`` for string keys, and a typed key gives readers the value's type);
- ``require_role(request, Role.OPERATOR)`` raises 403 unless the user has at least that role;
- ``check_csrf(request, form)`` refuses a form post whose token is not this session's.

Roles are ordered: viewer < operator (ack, silence, resolve) < admin.

Sessions are stateless: the cookie carries ``{sid, user, role, exp}`` and an HMAC-SHA256 over
them with a key that is either random per process (a restart logs everyone out) or read from
``web.session_key_file``. The cookie is HttpOnly and SameSite=Strict (a cross-site form post
does not even carry it), and every form carries a token derived from the session id, so a post
forged by another page or with a stale form is refused either way.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from aiohttp import web

COOKIE = "dcops_session"
SESSION_SECONDS = 12 * 3600
# scrypt cost: n=2**14, r=8 (16 MiB, ~50 ms): OWASP's minimum for scrypt; a login is rare.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
# Paths under the UI that answer without a login (the form itself and its stylesheet).
PUBLIC = ("/login", "/static/")


class Role(IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r} (viewer, operator or admin)") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def can(self, role: Role) -> bool:
        return self.role >= role


# ---------------------------------------------------------------------------- passwords

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64); the password itself is never stored."""
    if not password:
        raise ValueError("empty password")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` hashes to ``stored``; False for anything malformed."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


# A hash to compare against when the user does not exist, so "no such user" takes as long as
# "wrong password" (no user enumeration by timing).
_DUMMY = hash_password("dcops-no-such-user", salt=b"\0" * 16)


def check_login(users: Callable[[str], tuple[str, str] | None], name: str, password: str) -> User | None:
    """The user when ``name``/``password`` match a stored (role, hash); None otherwise."""
    found = users(name)
    if found is None:
        verify_password(password, _DUMMY)
        return None
    role, stored = found
    return User(name, Role.parse(role)) if verify_password(password, stored) else None


# ---------------------------------------------------------------------------- sessions

class Signer:
    """Signs and checks session cookies and CSRF tokens with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the session key must be at least 16 bytes")
        self.key = key

    def _mac(self, purpose: str, data: bytes) -> str:
        return _b64(hmac.new(self.key, purpose.encode() + b"\0" + data, hashlib.sha256).digest())

    def dump(self, session: Mapping[str, Any]) -> str:
        body = json.dumps(dict(session), sort_keys=True, separators=(",", ":")).encode()
        return _b64(body) + "." + self._mac("session", body)

    def load(self, cookie: str | None, now: float) -> dict[str, Any] | None:
        """The session, or None when the cookie is missing, altered, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        body_text, mac = cookie.split(".")
        try:
            body = _unb64(body_text)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac("session", body)):
            return None
        try:
            session = json.loads(body)
        except ValueError:
            return None
        if not isinstance(session, dict) or not isinstance(session.get("exp"), (int, float)) or session["exp"] < now:
            return None
        return session

    def csrf(self, sid: str) -> str:
        return self._mac("csrf", sid.encode())

    def csrf_ok(self, sid: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf(sid))


def new_session(user: User | None, now: float, seconds: float = SESSION_SECONDS) -> dict[str, Any]:
    """A fresh session (a new id at every login: no session fixation)."""
    data: dict[str, Any] = {"sid": secrets.token_urlsafe(16), "exp": int(now + seconds)}
    if user is not None:
        data.update(user=user.name, role=str(user.role))
    return data


def session_user(session: Mapping[str, Any] | None) -> User | None:
    if not session or not session.get("user"):
        return None
    try:
        return User(str(session["user"]), Role.parse(str(session.get("role", ""))))
    except ValueError:
        return None


def set_cookie(response: web.StreamResponse, signer: Signer, session: Mapping[str, Any], *, secure: bool) -> None:
    response.set_cookie(COOKIE, signer.dump(session), httponly=True, samesite="Strict", secure=secure,
                        path="/", max_age=SESSION_SECONDS)


# ---------------------------------------------------------------------------- middleware

@dataclass
class AuthConfig:
    signer: Signer
    # A header a trusted reverse proxy sets to the authenticated user's name (``X-Remote-User``);
    # None: local logins only. Only honour it when nothing but the proxy can reach dcops serve.
    proxy_header: str | None = None
    proxy_role: Role = Role.VIEWER  # the role of a proxy user with no local account
    secure_cookie: bool = False  # set when dcops is reached over HTTPS (through the proxy)


AUTH = web.AppKey("dcops_web_auth", AuthConfig)
PREFIX = web.AppKey("dcops_web_prefix", str)
# What the middleware leaves on every request (read with ``request.get(KEY)``: a handler reached
# without the middleware, a bench's bare request, finds None rather than a KeyError).
USER: web.RequestKey[User | None] = web.RequestKey("dcops_web_user")
SESSION: web.RequestKey[dict[str, Any]] = web.RequestKey("dcops_web_session", dict)
CSRF = web.RequestKey("dcops_web_csrf", str)


def is_public(path: str, prefix: str = "") -> bool:
    """Whether ``path`` (under the UI's ``prefix``) answers without a login."""
    rel = path[len(prefix):] if prefix and path.startswith(prefix) else path
    return any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in PUBLIC)


def auth_middleware(config: AuthConfig, local_role: Callable[[str], Role | None]) -> Any:
    """Sets ``request[USER]``, ``request[SESSION]`` and ``request[CSRF]``; a request without a user gets a
    redirect to the login form (GET/HEAD) or 401 (anything else, a websocket too) unless the
    page is public."""

    @web.middleware
    async def middleware(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        now = time.time()
        session = config.signer.load(request.cookies.get(COOKIE), now)
        user = session_user(session)
        if config.proxy_header and request.headers.get(config.proxy_header):
            name = request.headers[config.proxy_header].strip()
            local = await asyncio.to_thread(local_role, name)
            user = User(name, local or config.proxy_role)
            if session is None or session.get("user") != name:
                session = new_session(user, now)
        elif user is not None:
            # The store decides, not the cookie: a removed user is logged out and a changed role
            # applies at the next page, without waiting for the session to expire.
            role = await asyncio.to_thread(local_role, user.name)
            user = None if role is None else User(user.name, role)
        request[USER] = user
        fresh = session is None
        request[SESSION] = session = session or new_session(None, now)
        request[CSRF] = config.signer.csrf(session["sid"])
        if user is None and not is_public(request.path, request.app.get(PREFIX, "")):
            refusal: web.HTTPException
            # A websocket (the console's) cannot follow a redirect to a form: it gets the 401.
            websocket = request.headers.get("Upgrade", "").lower() == "websocket"
            if request.method in ("GET", "HEAD") and not websocket:
                login = request.app.router["login"].url_for().with_query(next=request.path_qs)
                refusal = web.HTTPFound(login)
            else:
                refusal = web.HTTPUnauthorized(text="log in first\n")
            if fresh:
                set_cookie(refusal, config.signer, session, secure=config.secure_cookie)
            raise refusal
        response = await handler(request)
        if fresh and not response.prepared:
            set_cookie(response, config.signer, session, secure=config.secure_cookie)
        return response

    return middleware


def require_role(request: web.Request, role: Role) -> User:
    """The user when they have at least ``role``; else 401 (nobody) or 403 (too little)."""
    user = request.get(USER)
    if user is None:
        raise web.HTTPUnauthorized(text="log in first\n")
    if not user.can(role):
        raise web.HTTPForbidden(text=f"{user.name} is a {user.role}; this needs {role}\n")
    return user


def check_csrf(request: web.Request, form: Mapping[str, Any]) -> None:
    """403 unless the form's ``csrf`` field is this session's token."""
    config = request.app[AUTH]
    session = request.get(SESSION) or {}
    if not config.signer.csrf_ok(str(session.get("sid", "")), form.get("csrf")):
        raise web.HTTPForbidden(text="the form's CSRF token is missing or not this session's; reload the page\n")


# ---------------------------------------------------------------------------- login throttling

class LoginThrottle:
    """Refuses logins for a name or a client address after ``limit`` failures within ``window``
    seconds, until the oldest of them is ``window`` old (password guessing gets 5 tries per 5
    minutes, not thousands). In memory: a restart forgets, which only helps an operator locked out."""

    def __init__(self, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.failures: dict[str, list[float]] = {}

    def _recent(self, key: str) -> list[float]:
        now = self.clock()
        kept = [t for t in self.failures.get(key, ()) if now - t < self.window]
        if kept:
            self.failures[key] = kept
        else:
            self.failures.pop(key, None)
        return kept

    def blocked(self, *keys: str) -> float:
        """Seconds until a login for these keys (name, address) may be tried again; 0: now."""
        waits = [self.window - (self.clock() - recent[0]) for key in keys
                 if len(recent := self._recent(key)) >= self.limit]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self.failures.setdefault(key, []).append(now)
            if len(self.failures) > 100_000:  # a flood of made-up names must not grow memory forever
                self.failures.pop(next(iter(self.failures)))

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self.failures.pop(key, None)
