"""The web UI's aiohttp application (``make_app``) and ``mount`` for ``dcops serve``. Every page
reads the store and the book; none talks to a BMC. Store reads and rendering run in a worker
thread so a slow page never holds the event loop the patrol and ``/metrics`` share.

Actions (ack, resolve, silence) go through ``dcops.patrol.actions``, the code ``dcops alerts``
runs, with the web user as the one who acked and as ``on_behalf_of`` in the audit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from dcops.errors import DcopsError
from dcops.models import Host
from dcops.web import auth, fast, views
from dcops.web.auth import CSRF, USER, Role

log = logging.getLogger("dcops.web")
PREFIX = "/ui"
STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class HostLink:
    """A link an extension adds to a host's page (the console's "Console" and "Graphical
    console"): ``path`` under the UI's prefix, shown only to users with at least ``role``."""

    id: str
    label: str
    path: str
    role: Role = Role.VIEWER


# Functions an extension registers (``make_app(extend=...)``) that return a host's extra links:
# the UI shows them without knowing what is behind them (by the layer rules it cannot import the
# console, which talks to BMCs).
HOST_LINKS: web.AppKey[list[Callable[[Host], Sequence[HostLink]]]] = web.AppKey("dcops_web_host_links", list)


def host_links(providers: Sequence[Callable[[Host], Sequence[HostLink]]], host: Host, user: Any) -> list[HostLink]:
    """The links of ``host`` that ``user`` may follow (pure)."""
    if user is None:
        return []
    return [link for provide in providers for link in provide(host) if user.can(link.role)]


@dataclass
class WebConfig:
    """``web:`` in the config file (docs/web.md)."""

    session_key: bytes
    proxy_header: str | None = None
    proxy_role: Role = Role.VIEWER
    secure_cookie: bool = False
    bmc_ui: bool = True  # link each host page to its BMC's own web UI

    @classmethod
    def from_section(cls, section: dict[str, Any] | None, source: str = "config") -> WebConfig:
        section = dict(section or {})
        key_file = section.pop("session_key_file", None)
        if key_file:
            try:
                key = Path(key_file).read_bytes().strip()
            except OSError as exc:
                raise DcopsError(f"{source}: web.session_key_file {key_file}: cannot read: {exc.strerror}") from None
            if len(key) < 16:
                raise DcopsError(f"{source}: web.session_key_file {key_file}: needs at least 16 bytes")
        else:
            key = secrets.token_bytes(32)  # sessions last until this process ends
        try:
            role = Role.parse(str(section.pop("proxy_role", "viewer")))
        except ValueError as exc:
            raise DcopsError(f"{source}: web.proxy_role: {exc}") from None
        config = cls(key, section.pop("proxy_header", None) or None, role, bool(section.pop("secure_cookie", False)),
                     bool(section.pop("bmc_ui", True)))
        if section:
            raise DcopsError(f"{source}: web: unknown key(s) {', '.join(sorted(section))} (session_key_file, "
                             "proxy_header, proxy_role, secure_cookie, bmc_ui)")
        return config


def _fmt_time(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("dcops.web", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["when"] = _fmt_time
    env.globals.update(STATES=views.STATES, LABELS=views.LABELS, prefix=PREFIX, rack_slots=fast.rack_slots,
                       host_badges=fast.host_badges)
    return env


class Pages:
    """The handlers; ``hosts`` returns the book (the list ``dcops serve`` loaded)."""

    def __init__(self, store: Any, hosts: Callable[[], Sequence[Host]], notify_config: Callable[[], Any],
                 config: WebConfig) -> None:
        self.store, self.hosts, self.notify_config, self.config = store, hosts, notify_config, config
        self.env = environment()
        self.throttle = auth.LoginThrottle()

    # ------------------------------------------------------------------ helpers

    async def page(self, request: web.Request, template: str, work: Callable[[], dict[str, Any]],
                   status: int = 200) -> web.Response:
        """Load (``work``) and render in a worker thread; the server time goes in a header."""
        started = time.perf_counter()

        refresh = _refresh(request.query.get("refresh"))

        def run() -> str:
            context = work()
            return self.env.get_template(template).render(
                user=request.get(USER), csrf=request.get(CSRF, ""), path=request.path, refresh=refresh, **context)

        try:
            body = await asyncio.to_thread(run)
        except web.HTTPException:
            raise
        except Exception:
            # dcops serve keeps serving; the traceback goes to its log (aiohttp would only say 500).
            log.exception("web UI: %s %s failed", request.method, request.path)
            raise
        return web.Response(text=body, status=status, content_type="text/html", headers={
            "Server-Timing": f"render;dur={(time.perf_counter() - started) * 1000:.1f}",
            "Cache-Control": "no-store", "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; "
                                       "form-action 'self'; frame-ancestors 'none'"})

    def fleet(self) -> tuple[list[views.HostView], list[Any]]:
        from sqlalchemy import select

        from dcops.patrol import store as pstore

        # Only the columns a state needs, no time zone fix-ups: half the time of host_rows on
        # 10,000 hosts, and this runs on every page.
        t = pstore.hosts
        with self.store.connect() as conn:
            rows = {r.host: r._mapping for r in conn.execute(select(t.c.host, t.c.observed_at, t.c.reachable,
                                                                    t.c.power, t.c.health))}
        incidents = pstore.list_incidents(self.store, status="open", limit=100_000)
        return views.fleet_views(list(self.hosts()), rows, incidents), incidents

    def book(self) -> dict[str, Host]:
        return {h.name: h for h in self.hosts()}

    # ------------------------------------------------------------------ login

    async def login_form(self, request: web.Request) -> web.Response:
        return await self.page(request, "login.html", lambda: {"error": None, "next": request.query.get("next", "")})

    async def login(self, request: web.Request) -> web.StreamResponse:
        from dcops.web import users

        form = await request.post()
        auth.check_csrf(request, form)
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        keys = (f"user:{name}", f"addr:{request.remote}")
        wait = self.throttle.blocked(*keys)
        if wait:
            return await self.page(request, "login.html", lambda: {
                "error": f"too many failed logins; try again in {wait:.0f} s", "next": ""}, status=429)
        user = await asyncio.to_thread(auth.check_login, functools.partial(users.lookup, self.store), name, password)
        if user is None:
            self.throttle.failed(*keys)
            return await self.page(request, "login.html", lambda: {"error": "wrong name or password",
                                                                   "next": str(form.get("next", ""))}, status=401)
        target = str(form.get("next") or "")
        if not target.startswith(PREFIX + "/") or target.startswith(PREFIX + "//") or "\\" in target:
            target = PREFIX + "/"  # never redirect off the site (open redirect)
        self.throttle.succeeded(*keys)
        response = web.HTTPFound(target)
        auth.set_cookie(response, self.config_signer(request), auth.new_session(user, time.time()),
                        secure=self.config.secure_cookie)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        auth.check_csrf(request, await request.post())
        response = web.HTTPFound(PREFIX + "/login")
        response.del_cookie(auth.COOKIE, path="/")
        raise response

    def config_signer(self, request: web.Request) -> auth.Signer:
        return request.app[auth.AUTH].signer

    # ------------------------------------------------------------------ fleet pages

    async def index(self, request: web.Request) -> web.Response:
        def work() -> dict[str, Any]:
            hosts, incidents = self.fleet()
            counts = views.Counter(v.state for v in hosts)
            return {"sites": views.rooms(hosts), "totals": counts, "open": len(incidents), "total": len(hosts)}

        return await self.page(request, "index.html", work)

    async def room(self, request: web.Request) -> web.Response:
        site, room = request.match_info["site"], request.match_info["room"]

        def work() -> dict[str, Any]:
            hosts, _ = self.fleet()
            racks = views.rack_views(hosts, site, room)
            if not racks:
                raise web.HTTPNotFound(text=f"no room {site}/{room} in the book\n")
            return {"site": site, "room": room, "racks": racks, "compact": len(racks) > 12}

        return await self.page(request, "room.html", work)

    async def rack(self, request: web.Request) -> web.Response:
        site, room, rack = request.match_info["site"], request.match_info["room"], request.match_info["rack"]

        def work() -> dict[str, Any]:
            hosts, _ = self.fleet()
            racks = views.rack_views(hosts, site, room, rack=rack)
            if not racks:
                raise web.HTTPNotFound(text=f"no rack {site}/{room}/{rack} in the book\n")
            return {"site": site, "room": room, "racks": racks, "compact": False}

        return await self.page(request, "room.html", work)

    async def groups(self, request: web.Request) -> web.Response:
        by = request.query.get("by", "role")

        def work() -> dict[str, Any]:
            hosts, _ = self.fleet()
            try:
                groups = views.group_views(hosts, by)
            except ValueError as exc:
                raise web.HTTPBadRequest(text=f"{exc}\n") from None
            return {"by": by, "groups": groups, "fields": views.GROUPABLE}

        return await self.page(request, "groups.html", work)

    # ------------------------------------------------------------------ incidents

    async def incidents(self, request: web.Request) -> web.Response:
        show_all = request.query.get("all") == "1"

        def work() -> dict[str, Any]:
            from dcops.patrol import store as pstore

            since = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
            found = pstore.list_incidents(self.store, status=None if show_all else "open",
                                          since=since if show_all else None, limit=2000)
            silences = pstore.active_silences(self.store, dt.datetime.now(dt.UTC))
            return {"incidents": found, "show_all": show_all, "silences": silences,
                    "silenced": _silenced_ids(found, silences), "workers": pstore.workers_of(self.store, found)}

        return await self.page(request, "incidents.html", work)

    async def incident(self, request: web.Request) -> web.Response:
        incident_id = _int(request.match_info["id"])

        def work() -> dict[str, Any]:
            from dcops.notify import store as outbox_store
            from dcops.patrol import store as pstore
            from dcops.store import audit

            incident = pstore.get_incident(self.store, incident_id)
            if incident is None:
                raise web.HTTPNotFound(text=f"no incident #{incident_id}\n")
            silences = pstore.active_silences(self.store, dt.datetime.now(dt.UTC))
            trail = [e for e in audit.query(self.store, host=incident.host, action="alerts", limit=200)
                     if e.details and e.details.startswith(f"incident {incident.id}")]
            now = dt.datetime.now(dt.UTC)
            scheduled = [s for s in silences if s.starts is not None and s.starts > now
                         and s.matches({**incident.routing_keys(), "ref": incident.id}, s.starts)]
            return {"i": incident, "silenced": _silenced_ids([incident], silences), "scheduled": scheduled,
                    "worker": pstore.workers_of(self.store, [incident]).get(incident.id),
                    "outbox": outbox_store.outbox_items(self.store, incident_id), "trail": trail,
                    "message": request.query.get("done", "")}

        return await self.page(request, "incident.html", work)

    async def act(self, request: web.Request) -> web.StreamResponse:
        """POST .../incident/{id}/{ack|resolve|silence}: operators only, CSRF-checked."""
        from dcops.patrol import actions
        from dcops.timeparse import parse_duration

        user = auth.require_role(request, Role.OPERATOR)
        form = await request.post()
        auth.check_csrf(request, form)
        incident_id, action = _int(request.match_info["id"]), request.match_info["action"]
        note = str(form.get("note", "")).strip() or None
        who = {"by": user.name, "on_behalf_of": f"web:{user.name}"}

        def run() -> None:
            if action == "ack":
                actions.ack(self.store, [incident_id], note=note, notify_config=self.notify_config(), **who)
            elif action == "resolve":
                actions.resolve(self.store, [incident_id], note=note, notify_config=self.notify_config(), **who)
            elif action == "silence":
                # datetime-local sends no zone: the page says the times are UTC.
                start = str(form.get("start") or "").strip()
                starts = actions.parse_start(start + ("Z" if start and "T" in start and not start.endswith("Z")
                                                      and "+" not in start[10:] else ""), dt.datetime.now(dt.UTC))
                actions.silence(self.store, duration=parse_duration(str(form.get("duration") or "2h")),
                                incident_id=incident_id, reason=note or "", starts=starts, **who)
            else:
                raise web.HTTPNotFound()

        try:
            await asyncio.to_thread(run)
        except DcopsError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        raise web.HTTPSeeOther(f"{PREFIX}/incident/{incident_id}?done={action}")

    # ------------------------------------------------------------------ host, assets, capacity, report

    async def host(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        providers: list[Callable[[Host], Sequence[HostLink]]] = request.app.get(HOST_LINKS, [])

        def work() -> dict[str, Any]:
            from dcops.assets import store as astore
            from dcops.patrol import store as pstore
            from dcops.provision import store as prstore
            from dcops.store import audit

            host = self.book().get(name)
            if host is None:
                raise web.HTTPNotFound(text=f"no host {name} in the book\n")
            row = pstore.observations(self.store, [name]).get(name)
            incidents = pstore.list_incidents(self.store, status=None, host=name, limit=50)
            worst_open, _ = views.severity_by_host(i for i in incidents if i.is_open)
            snapshots = astore.latest_snapshots(self.store, [name], full=True)
            baseline = [r for r in _baseline_results(self.store) if r.get("host") == name]
            return {"h": host, "row": row or {}, "obs": (row or {}).get("observation") or {},
                    "state": views.host_state(row, worst_open.get(name)), "incidents": incidents,
                    "snapshot": snapshots[0] if snapshots else None, "baseline": baseline,
                    "workflow": prstore.load_workflows(self.store, [name]).get(name),
                    "steps": prstore.step_rows(self.store, name)[-30:],
                    "audit": audit.query(self.store, host=name, limit=30),
                    "bmc_url": _bmc_url(host) if self.config.bmc_ui else None,
                    "links": host_links(providers, host, request.get(USER))}

        return await self.page(request, "host.html", work)

    async def assets(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "").strip()

        def work() -> dict[str, Any]:
            from dcops.assets import store as astore
            from dcops.assets.warranty import warranty_rows
            from dcops.inventory.search import SearchIndex

            hosts = list(self.hosts())
            hits: list[Any] = []
            error = None
            if query:
                try:
                    hits = SearchIndex(hosts, extra=astore.part_serial_records(self.store)).search(query, limit=100)
                except DcopsError as exc:
                    error = str(exc)
            today = dt.date.today()
            rows = sorted(warranty_rows(hosts, today), key=lambda r: (r.days_left is None, r.days_left or 0))
            return {"q": query, "hits": hits, "error": error, "warranty": rows[:200],
                    "reconcile": astore.latest_reconcile(self.store), "discrepancies": _discrepancies(self.store)}

        return await self.page(request, "assets.html", work)

    async def capacity(self, request: web.Request) -> web.Response:
        def work() -> dict[str, Any]:
            from dcops.store import capacity as cstore

            return {"result": cstore.latest_result(self.store)}

        return await self.page(request, "capacity.html", work)

    async def report(self, request: web.Request) -> web.Response:
        days = max(1, min(90, _int(request.query.get("days", "1"))))

        def work() -> dict[str, Any]:
            from dcops.patrol.report import build_report

            now = dt.datetime.now(dt.UTC)
            hosts = list(self.hosts())
            data = build_report(self.store, hosts, now - dt.timedelta(days=days), now)
            vendor = {h.name: h.vendor for h in hosts}
            items = data.get("incidents") or []
            return {"data": data, "days": days, "daily": _per_day(self.store, now, max(days, 7)),
                    "by_vendor": views.time_to(items, lambda x: vendor.get(x["host"])),
                    "by_part": views.time_to(items, lambda x: x.get("kind")),
                    "by_model": views.time_to(items, lambda x: x.get("model")), "percent": views.percent}

        return await self.page(request, "report.html", work)

    async def report_file(self, request: web.Request) -> web.Response:
        """The same report as a file to keep or mail: ``?format=html|md|json&days=N``."""
        days = max(1, min(90, _int(request.query.get("days", "1"))))
        fmt = request.query.get("format", "html")
        if fmt not in ("html", "md", "json"):
            raise web.HTTPBadRequest(text="format: html, md or json\n")

        def work() -> str:
            import json

            from dcops.patrol.report import build_report, render_html, render_markdown
            from dcops.report import jsonable

            now = dt.datetime.now(dt.UTC)
            data = build_report(self.store, list(self.hosts()), now - dt.timedelta(days=days), now)
            if fmt == "json":
                return json.dumps(jsonable(data), indent=2, default=str)
            return render_html(data) if fmt == "html" else render_markdown(data)

        body = await asyncio.to_thread(work)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
        types = {"html": "text/html", "md": "text/markdown", "json": "application/json"}
        return web.Response(text=body, content_type=types[fmt], headers={
            "Content-Disposition": f'attachment; filename="dcops-report-{stamp}-{days}d.{fmt}"',
            "Cache-Control": "no-store"})


def _refresh(text: str | None) -> int | None:
    """``?refresh=SECONDS`` for a wall screen (as Grafana's): 10 s to an hour; else none."""
    if not text or not text.isdigit():
        return None
    return max(10, min(3600, int(text)))


def _int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise web.HTTPNotFound(text="not a number\n") from None
    if not 0 < value < 2**63:
        raise web.HTTPNotFound(text="out of range\n")
    return value


def _silenced_ids(incidents: Sequence[Any], silences: Sequence[Any]) -> dict[int, Any]:
    from dcops.patrol.escalate import silenced

    now = dt.datetime.now(dt.UTC)
    out = {}
    for incident in incidents:
        hit = silenced(incident, silences, now)
        if hit is not None:
            out[incident.id] = hit
    return out


def _discrepancies(store: Any, limit: int = 500) -> list[dict[str, Any]]:
    """The newest reconcile's discrepancies (book vs what the BMCs said), as ``assets
    reconcile`` stored them."""
    from sqlalchemy import select

    from dcops.assets.store import reconcile_results

    with store.connect() as conn:
        found = conn.execute(select(reconcile_results.c["items"]).order_by(reconcile_results.c.id.desc())
                             .limit(1)).scalar()
    return [dict(x) for x in (found or [])[:limit]]


def _baseline_results(store: Any) -> list[dict[str, Any]]:
    from dcops.store import baseline as bstore

    try:
        return list(bstore.latest_results(store))
    except Exception:  # noqa: BLE001 - a baseline table from an older store must not break the host page
        return []


def _bmc_url(host: Host) -> str | None:
    bmc = host.bmc
    if not bmc.address:
        return None
    scheme = "https" if str(getattr(bmc, "scheme", "https")) == "https" else "http"
    addr = f"[{bmc.address}]" if ":" in bmc.address else bmc.address
    port = getattr(bmc, "port", None)
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{addr}" + (f":{port}" if port and port != default else "") + "/"


def _per_day(store: Any, now: dt.datetime, days: int) -> list[dict[str, Any]]:
    """Incidents opened and resolved per day, the last ``days`` days, oldest first (bars)."""
    from dcops.patrol import store as pstore

    since = (now - dt.timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    found = pstore.list_incidents(store, status=None, since=since, limit=100_000)
    out: list[dict[str, Any]] = []
    for n in range(days):
        day = (since + dt.timedelta(days=n)).date()
        out.append({"day": day.isoformat(),
                    "opened": sum(1 for i in found if i.opened_at.date() == day),
                    "resolved": sum(1 for i in found if i.resolved_at and i.resolved_at.date() == day)})
    peak = max([1] + [int(d["opened"]) for d in out] + [int(d["resolved"]) for d in out])
    for d in out:
        d["opened_pct"], d["resolved_pct"] = round(100 * d["opened"] / peak), round(100 * d["resolved"] / peak)
    return out


def make_app(store: Any, hosts: Callable[[], Sequence[Host]], *, config: WebConfig,
             notify_config: Callable[[], Any] | None = None,
             extend: Sequence[Callable[[web.Application], None]] = ()) -> web.Application:
    """The UI as an aiohttp application (mount it under ``PREFIX``). ``extend``: functions that add
    routes behind the same login (the console, dcops/console/web.py), so the UI need not know them
    (and, by the layer rules, cannot import what talks to a BMC)."""
    from dcops.web import users

    pages = Pages(store, hosts, notify_config or (lambda: _empty_notify()), config)
    auth_config = auth.AuthConfig(auth.Signer(config.session_key), config.proxy_header, config.proxy_role,
                                  config.secure_cookie)

    def local_role(name: str) -> Role | None:
        found = users.lookup(store, name)
        return Role.parse(found[0]) if found else None

    app = web.Application(middlewares=[auth.auth_middleware(auth_config, local_role)])
    app[auth.AUTH] = auth_config
    app[auth.PREFIX] = PREFIX
    app[HOST_LINKS] = []
    r = app.router
    r.add_get("/login", pages.login_form, name="login")
    r.add_post("/login", pages.login)
    r.add_post("/logout", pages.logout)
    r.add_static("/static/", STATIC)
    r.add_get("/", pages.index, name="index")
    r.add_get("/room/{site}/{room}", pages.room)
    r.add_get("/rack/{site}/{room}/{rack}", pages.rack)
    r.add_get("/groups", pages.groups)
    r.add_get("/incidents", pages.incidents)
    r.add_get("/incident/{id}", pages.incident)
    r.add_post("/incident/{id}/{action}", pages.act)
    r.add_get("/host/{name}", pages.host)
    r.add_get("/assets", pages.assets)
    r.add_get("/capacity", pages.capacity)
    r.add_get("/report", pages.report)
    r.add_get("/report/file", pages.report_file)
    for add in extend:
        add(app)
    return app


def _empty_notify() -> Any:
    from dcops.notify.config import load_notify_config

    return load_notify_config({})


def mount(parent: web.Application, store: Any, hosts: Callable[[], Sequence[Host]], *,
          section: dict[str, Any] | None, notify_config: Callable[[], Any], source: str = "config",
          extend: Sequence[Callable[[web.Application], None]] = ()) -> None:
    """Serve the UI under ``/ui/`` of ``parent`` (``dcops serve``'s app; ``/metrics`` stays as is)."""
    config = WebConfig.from_section(section, source)
    parent.add_subapp(PREFIX, make_app(store, hosts, config=config, notify_config=notify_config, extend=extend))
