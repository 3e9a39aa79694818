"""What the pages draw, from the book, the stored patrol rows and the open incidents. Pure: no
store, no aiohttp, so the tables of cases in tests/unit/web/ cover it.

A host's state is the worst of: never patrolled, BMC down, its open incidents' severity, its
stored health, its power. NetBox draws a rack from U1 at the bottom; so does ``rack_view``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from dcops.models import Host

# Worst first: the order legends, counts and "worst of a rack" use.
STATES = ("critical", "down", "warning", "off", "ok", "never")
LABELS = {"critical": "critical", "down": "BMC down", "warning": "warning", "off": "off", "ok": "ok",
          "never": "never patrolled"}
DEFAULT_RACK_HEIGHT = 42
NONE = "(none)"  # the group of hosts whose book leaves a field empty

_SEVERITY_STATE = {"emergency": "critical", "critical": "critical", "warning": "warning"}
_HEALTH_STATE = {"critical": "critical", "warning": "warning"}


def host_state(row: Mapping[str, Any] | None, worst_severity: str | None) -> str:
    """One of STATES for a host's stored patrol row and the worst severity of its open
    incidents (None: none open)."""
    if not row or row.get("observed_at") is None:
        return "never"
    if not row.get("reachable"):
        return "down"
    candidates = [_SEVERITY_STATE.get(worst_severity or "", "ok"),
                  _HEALTH_STATE.get(str(row.get("health") or "").lower(), "ok")]
    if str(row.get("power") or "").lower() == "off":
        candidates.append("off")
    return min(candidates, key=STATES.index)


def worst(states: Iterable[str]) -> str:
    found = list(states)
    return min(found, key=STATES.index) if found else "never"


@dataclass
class HostView:
    host: Host
    state: str
    incidents: int = 0

    @property
    def name(self) -> str:
        return self.host.name


@dataclass
class Slot:
    """One drawn position in a rack: a host from ``u`` up ``height`` units (``top`` counts rows
    from the top of the drawing, for the grid). ``css``, ``quoted`` and ``title`` are computed
    once here: a 10,000-host room renders 10,000 of these, and every filter call in the template
    costs (see tests/bench/bench_web.py)."""

    view: HostView
    u: int
    height: int
    top: int
    overlaps: bool = False
    css: str = ""
    quoted: str = ""
    title: str = ""

    def finish(self) -> None:
        v = self.view
        self.css = f"slot s-{v.state} t{self.top} h{self.height}" + (" overlap" if self.overlaps else "")
        self.quoted = quote(v.name, safe="")
        self.title = f"{v.name} U{self.u} {LABELS[v.state]}" + (f", {v.incidents} incident(s)" if v.incidents else "")


@dataclass
class RackView:
    site: str
    room: str
    name: str
    height: int
    slots: list[Slot] = field(default_factory=list)
    unplaced: list[HostView] = field(default_factory=list)  # in the rack, no U position in the book
    counts: Counter[str] = field(default_factory=Counter)
    incidents: int = 0

    @property
    def state(self) -> str:
        return worst(self.counts)

    @property
    def hosts(self) -> int:
        return sum(self.counts.values())


def severity_by_host(incidents: Iterable[Any]) -> tuple[dict[str, str], Counter[str]]:
    """The worst open severity and the open incident count per host (an incident carries
    ``host``, ``severity`` with ``rank`` and ``value``)."""
    worst_of: dict[str, Any] = {}
    count: Counter[str] = Counter()
    for incident in incidents:
        count[incident.host] += 1
        current = worst_of.get(incident.host)
        if current is None or incident.severity.rank > current.rank:
            worst_of[incident.host] = incident.severity
    return {h: s.value for h, s in worst_of.items()}, count


def fleet_views(hosts: Sequence[Host], rows: Mapping[str, Mapping[str, Any]],
                open_incidents: Iterable[Any]) -> list[HostView]:
    severity, count = severity_by_host(open_incidents)
    return [HostView(h, host_state(rows.get(h.name), severity.get(h.name)), count.get(h.name, 0)) for h in hosts]


def _key(value: str | None) -> str:
    return value or NONE


def rooms(views: Iterable[HostView]) -> dict[str, dict[str, dict[str, Any]]]:
    """site -> room -> {"counts", "racks", "incidents", "state"}, sorted by name."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for v in views:
        loc = v.host.location
        room = out[_key(loc.site)].setdefault(_key(loc.room), {"counts": Counter(), "racks": set(), "incidents": 0})
        room["counts"][v.state] += 1
        room["racks"].add(_key(loc.rack))
        room["incidents"] += v.incidents
    for site in out.values():
        for room in site.values():
            room["state"] = worst(room["counts"])
            room["racks"] = len(room["racks"])
    return {s: dict(sorted(out[s].items())) for s in sorted(out)}


def _natural(text: str) -> tuple[Any, ...]:
    """A09 before A10, R2 before R10."""
    import re

    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def rack_views(views: Iterable[HostView], site: str, room: str, *,
               rack: str | None = None) -> list[RackView]:
    """The racks of one room (or one rack of it), each with its hosts placed at their U."""
    racks: dict[str, RackView] = {}
    for v in views:
        loc = v.host.location
        if _key(loc.site) != site or _key(loc.room) != room or (rack is not None and _key(loc.rack) != rack):
            continue
        name = _key(loc.rack)
        rv = racks.get(name)
        if rv is None:
            rv = racks[name] = RackView(site, room, name, DEFAULT_RACK_HEIGHT)
        rv.counts[v.state] += 1
        rv.incidents += v.incidents
        if loc.u is None:
            rv.unplaced.append(v)
        else:
            rv.slots.append(Slot(v, loc.u, max(1, loc.u_height), 0))
    for rv in racks.values():
        top_u = max((s.u + s.height - 1 for s in rv.slots), default=0)
        rv.height = max(DEFAULT_RACK_HEIGHT, top_u)
        rv.slots.sort(key=lambda s: -s.u)
        taken: set[int] = set()
        for s in sorted(rv.slots, key=lambda s: s.u):
            units = set(range(s.u, s.u + s.height))
            s.overlaps = bool(units & taken)  # two servers in one U: the book is wrong, show it
            taken |= units
            s.top = rv.height - (s.u + s.height - 1) + 1  # grid row, 1 = the top U
            s.finish()
    return [racks[k] for k in sorted(racks, key=_natural)]


def book_fields(host: Host) -> dict[str, tuple[str, ...]]:
    """Every field of the book a page can group by, each as the values the host has."""
    loc, asset = host.location, host.asset
    fields: dict[str, Any] = {
        "role": host.role, "az": host.az, "site": loc.site, "room": loc.room, "rack": loc.rack,
        "vendor": host.vendor, "model": host.model, "profile": host.profile, "protocol": host.bmc.protocol.value,
        "supplier": asset.supplier, "service_provider": asset.service_provider, "contract": asset.contract,
        "use": asset.use, "warranty_year": asset.warranty_end.year if asset.warranty_end else None,
    }
    out: dict[str, tuple[str, ...]] = {k: (str(v),) if v is not None and v != "" else () for k, v in fields.items()}
    out["tag"] = tuple(host.tags)
    return out


GROUPABLE = ("role", "az", "tag", "site", "room", "rack", "vendor", "model", "profile", "protocol", "supplier",
             "service_provider", "contract", "use", "warranty_year")


def group_views(views: Iterable[HostView], by: str) -> list[tuple[str, list[HostView], Counter[str]]]:
    """Hosts grouped by one book field (a host with several tags is in each tag's group; one with
    none in ``(none)``), groups with the worst state first, then by name."""
    if by not in GROUPABLE:
        raise ValueError(f"cannot group by {by!r}; one of {', '.join(GROUPABLE)}")
    groups: dict[str, list[HostView]] = defaultdict(list)
    for v in views:
        for value in book_fields(v.host)[by] or (NONE,):
            groups[value].append(v)
    out = []
    for value, members in groups.items():
        counts = Counter(m.state for m in members)
        members.sort(key=lambda m: (STATES.index(m.state), m.name))
        out.append((value, members, counts))
    out.sort(key=lambda g: (STATES.index(worst(g[2])), _natural(g[0])))
    return out


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def time_to(items: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str | None]) -> list[dict[str, Any]]:
    """MTTD and MTTR (mean minutes) per group of the report's incident items (``key`` names the
    group: vendor, part kind), with bar widths in percent of the largest value; most incidents first."""
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        name = key(item) or NONE
        g = groups.setdefault(name, {"name": name, "incidents": 0, "_d": [], "_r": []})
        g["incidents"] += 1
        if item.get("detect_minutes") is not None:
            g["_d"].append(float(item["detect_minutes"]))
        if item.get("resolve_minutes") is not None:
            g["_r"].append(float(item["resolve_minutes"]))
    rows = [{"name": g["name"], "incidents": g["incidents"], "mttd": _mean(g["_d"]), "mttr": _mean(g["_r"])}
            for g in groups.values()]
    peak = max([r[k] or 0.0 for r in rows for k in ("mttd", "mttr")] + [0.0])
    for r in rows:
        for k in ("mttd", "mttr"):
            r[f"{k}_pct"] = round(100 * (r[k] or 0.0) / peak) if peak else 0
    return sorted(rows, key=lambda r: (-r["incidents"], r["name"]))


def percent(part: float | int | None, whole: float | int | None) -> int:
    """0-100 for a bar; 0 when the whole is empty."""
    if not whole or part is None:
        return 0
    return max(0, min(100, round(100 * part / whole)))
