"""Patrol metrics, from the stored results of the latest round (a scrape never touches a BMC).

The exposition is rendered once per patrol round (``refresh``, called by ``dcops serve`` right
after each round, or by a scrape that finds a newer round in the store) and served from memory,
so a scrape of a 10,000-host fleet costs a memory copy, not a rebuild.

Health encoding, everywhere: 0 OK, 1 warning, 2 critical (absent when unknown).

Per-host series carry ``host`` only; where a host stands (site, room, rack, az) and what it is
live on ``dcops_host_info``, joined in PromQL (docs/patrol.md#metrics), as the Prometheus
guidelines for ``*_info`` metrics say. That keeps a 10,000-host exposition near 20 MB
(tests/bench/bench_exporter.py).

* ``dcops_bmc_up{host}`` 1 when the BMC answered in its last round
* ``dcops_bmc_last_success_timestamp_seconds{host}`` when it last answered
* ``dcops_bmc_patrol_duration_seconds{host}`` how long its last visit took
* ``dcops_host_power_on{host}`` 1 on, 0 off; ``dcops_host_health{host}``
* ``dcops_part_health{host,component,part_id}`` PSUs and drives always; other parts when not OK
* ``dcops_part_info{host,component,part_id,serial,model,part_number,firmware,manufacturer}`` 1, for
  the parts that are not OK (the serial to order); every part's identity: ``dcops assets show``
* ``dcops_host_info{host,site,room,rack,az,role,vendor,model,serial,bios_version,bmc_version}`` 1
* ``dcops_sensor_temperature_celsius``, ``_fan_rpm``, ``_voltage_volts``, ``_power_watts``,
  ``_current_amperes`` ``{host,sensor}``; ``dcops_sensor_health{host,sensor}``
* ``dcops_incidents_open{severity,condition}`` every combination, 0 when none: ``sum()`` counts
  each open incident once
* ``dcops_patrol_round_timestamp_seconds``, ``_round_duration_seconds``, ``_round_cpu_seconds``,
  ``_round_hosts{state}``, ``_round_requests``, ``_rounds_total``
* ``dcops_notify_outbox_pending``, ``dcops_notify_outbox_given_up``
* ``dcops_patrol_collector_success``, ``dcops_patrol_collector_duration_seconds``
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from dcops.exporter.collectors._base import own_text
from dcops.patrol.model import Condition, Severity

log = logging.getLogger(__name__)
HEALTH_VALUE = {"ok": 0.0, "warning": 1.0, "critical": 2.0}
SENSOR_METRICS = {
    "temperature": ("dcops_sensor_temperature_celsius", "Temperature sensor reading in degrees Celsius"),
    "fan": ("dcops_sensor_fan_rpm", "Fan speed in revolutions per minute"),
    "voltage": ("dcops_sensor_voltage_volts", "Voltage sensor reading in volts"),
    "power": ("dcops_sensor_power_watts", "Power sensor reading in watts"),
    "current": ("dcops_sensor_current_amperes", "Current sensor reading in amperes"),
}


# Parts whose health is exported for every host (others, and every part's identity, only when
# not OK): redundant parts whose count matters on a dashboard. Exporting every part's health and
# identity made ~53 series and 6 KB per host, 61 MB for 10,000 hosts (bench_exporter).
EXPORTED_KINDS = frozenset({"psu", "drive"})


def _esc(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return repr(float(value))


class _Family:
    """One metric family written straight to text (prometheus_client's renderer costs ~35 µs a
    sample; a fleet's exposition has hundreds of thousands)."""

    def __init__(self, name: str, doc: str, labels: tuple[str, ...] = (), kind: str = "gauge") -> None:
        self.name = name + ("_total" if kind == "counter" else "")
        self.head = f"# HELP {self.name} {doc}\n# TYPE {self.name} {kind}\n"
        self.labels = labels
        self.lines: list[str] = []

    def add(self, values: tuple[object, ...], value: float) -> None:
        if self.labels:
            inner = ",".join(f'{k}="{_esc(v)}"' for k, v in zip(self.labels, values, strict=True))
            self.lines.append(f"{self.name}{{{inner}}} {_num(value)}\n")
        else:
            self.lines.append(f"{self.name} {_num(value)}\n")

    def text(self) -> str:
        return self.head + "".join(self.lines)


def render(rows: Mapping[str, Mapping[str, Any]], hosts: Mapping[str, Mapping[str, Any]],
           last_round: Mapping[str, Any] | None, rounds_total: int, open_counts: Mapping[tuple[str, str], int],
           outbox: Mapping[str, int]) -> bytes:
    """The exposition text of stored host rows (pure; ``hosts`` = book labels per host)."""
    up = _Family("dcops_bmc_up", "1 when the BMC answered in its last patrol round, else 0 "
                 "(site, room, rack: join dcops_host_info on host)", ("host",))
    last_ok = _Family("dcops_bmc_last_success_timestamp_seconds", "When the BMC last answered a patrol round "
                      "(Unix time)", ("host",))
    visit = _Family("dcops_bmc_patrol_duration_seconds", "How long the last patrol visit of the BMC took", ("host",))
    power = _Family("dcops_host_power_on", "1 when the server is powered on, 0 when off", ("host",))
    health = _Family("dcops_host_health", "Worst health the BMC reports: 0 OK, 1 warning, 2 critical", ("host",))
    part = _Family("dcops_part_health", "Health of a part: 0 OK, 1 warning, 2 critical (PSUs and drives always, "
                   "other parts only when not OK)", ("host", "component", "part_id"))
    part_info = _Family("dcops_part_info", "Identity of a part that is not OK (value 1): serial, model, part "
                        "number, firmware", ("host", "component", "part_id", "serial", "model", "part_number",
                                             "firmware", "manufacturer"))
    host_info = _Family("dcops_host_info", "What the book and the BMC say a server is (value 1)",
                        ("host", "site", "room", "rack", "az", "role", "vendor", "model", "serial", "bios_version",
                         "bmc_version"))
    sensors = {k: _Family(name, doc, ("host", "sensor")) for k, (name, doc) in SENSOR_METRICS.items()}
    sensor_health = _Family("dcops_sensor_health", "Health of a sensor the BMC flags: 1 warning, 2 critical "
                            "(absent when OK)", ("host", "sensor"))
    for name, row in rows.items():
        book = hosts.get(name) or {}
        up.add((name,), 1.0 if row.get("reachable") else 0.0)
        stamp = row.get("last_success_at")
        if stamp is not None:
            last_ok.add((name,), stamp.timestamp())
        if row.get("duration_seconds") is not None:
            visit.add((name,), float(row["duration_seconds"]))
        if row.get("power") in ("on", "off"):
            power.add((name,), 1.0 if row["power"] == "on" else 0.0)
        if row.get("health") in HEALTH_VALUE:
            health.add((name,), HEALTH_VALUE[row["health"]])
        obs = row.get("observation") or {}
        inv = row.get("inventory") or {}
        ident = inv.get("identity") or {}
        host_info.add((name, *(book.get(k) or "" for k in ("site", "room", "rack", "az", "role", "vendor")),
                       ident.get("model") or book.get("model") or "", ident.get("serial") or "",
                       ident.get("bios_version") or "", ident.get("bmc_version") or ""), 1.0)
        parts: dict[str, tuple[str, str]] = {}
        identity: dict[str, Mapping[str, Any]] = {}
        for comp in inv.get("components") or []:
            pid = f"{comp['chassis']}:{comp['location']}"
            parts[pid] = (comp["kind"], comp.get("health") or "unknown")
            identity[pid] = comp
        for comp in obs.get("components") or []:  # fresher health from a drill-down
            parts[f"{comp[1]}:{comp[2]}"] = (comp[0], comp[3])
        for pid, (kind, value) in parts.items():
            if value in HEALTH_VALUE and (kind in EXPORTED_KINDS or value != "ok"):
                part.add((name, kind, pid), HEALTH_VALUE[value])
            if value in ("warning", "critical") and pid in identity:
                comp = identity[pid]
                part_info.add((name, kind, pid, *(comp.get(k) or "" for k in
                               ("serial", "model", "part_number", "firmware", "manufacturer"))), 1.0)
        seen: set[tuple[str, str]] = set()
        for sname, kind, reading, _units, shealth in obs.get("sensors") or []:
            if (kind, sname) in seen:
                continue
            seen.add((kind, sname))
            family = sensors.get(kind)
            if family is not None and reading is not None:
                family.add((name, sname), float(reading))
            if shealth in ("warning", "critical"):
                sensor_health.add((name, sname), HEALTH_VALUE[shealth])
    incidents = _Family("dcops_incidents_open", "Open dcops incidents (root causes, not symptoms) by severity "
                        "and condition; every combination is present (0 when none), so sum() counts each once",
                        ("severity", "condition"))
    combos = {(s.value, c.value) for s in Severity for c in Condition} | set(open_counts)
    for severity, condition in sorted(combos):
        incidents.add((severity, condition), float(open_counts.get((severity, condition), 0)))
    families = [up, last_ok, visit, power, health, part, part_info, host_info, *sensors.values(), sensor_health,
                incidents]
    if last_round is not None:
        finished = last_round.get("finished_at") or last_round["started_at"]
        for metric, doc, figure in (
                ("dcops_patrol_round_timestamp_seconds", "When the last patrol round finished (Unix time)",
                 finished.timestamp()),
                ("dcops_patrol_round_duration_seconds", "Wall time of the last patrol round",
                 float(last_round.get("duration_seconds") or 0)),
                ("dcops_patrol_round_cpu_seconds", "CPU time dcops spent on the last patrol round",
                 float(last_round.get("cpu_seconds") or 0)),
                ("dcops_patrol_round_requests", "BMC requests made in the last patrol round",
                 float(last_round.get("requests") or 0))):
            family = _Family(metric, doc)
            family.add((), figure)
            families.append(family)
        hosts_family = _Family("dcops_patrol_round_hosts", "Hosts in the last patrol round by outcome", ("state",))
        for state in ("reachable", "unreachable", "missed"):
            hosts_family.add((state,), float(last_round.get(state) or 0))
        families.append(hosts_family)
        cut = _Family("dcops_patrol_round_inventory_cut", "Hosts of the last patrol round whose inventory visit "
                      "was cut short by the round's time (read as a minute visit; the inventory retried next round)")
        cut.add((), float(last_round.get("inventory_cut") or 0))
        families.append(cut)
    totals: tuple[tuple[str, str, float, str], ...] = (
        ("dcops_patrol_rounds", "Patrol rounds completed", float(rounds_total), "counter"),
        ("dcops_notify_outbox_pending", "Notifications waiting for delivery (retried)",
         float(outbox.get("pending", 0)), "gauge"),
        ("dcops_notify_outbox_given_up", "Notifications given up after the maximum age (dcops alerts outbox)",
         float(outbox.get("given_up", 0)), "gauge"))
    for name, doc, number, kind in totals:
        total = _Family(name, doc, kind=kind)
        total.add((), number)
        families.append(total)
    return "".join(f.text() for f in families).encode()


class PatrolCollector:
    """Serves the rendered exposition of the latest stored round; re-renders when a newer round
    is in the store. Exposes ``exposition()`` (the fast path ``dcops serve`` uses)."""

    name = "patrol"

    def __init__(self, store: Any, hosts: Callable[[], Mapping[str, Mapping[str, Any]]] | None = None) -> None:
        self.store = store
        self.hosts = hosts or (lambda: {})
        # A patrol worker of several (dcops serve --worker): only its shard's hosts, the incidents
        # of its hosts and racks, and its own rounds (every worker exporting the whole store would
        # count each host and incident once per worker).
        self.shard: Callable[[], set[str]] | None = None
        self.worker: str | None = None
        self._round_id: int | None = -1
        self._body = b""
        self._ok = 1.0
        self._render_seconds = 0.0
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        from sqlalchemy import func, select, true

        from dcops.notify import store as outbox_store
        from dcops.patrol import store as pstore

        with self._lock:
            started = time.perf_counter()
            try:
                mine = pstore.rounds.c.worker == self.worker if self.worker is not None else true()
                with self.store.connect() as conn:
                    newest = conn.execute(select(func.max(pstore.rounds.c.id)).where(mine)).scalar()
                    total = conn.execute(select(func.count()).select_from(pstore.rounds).where(mine)).scalar_one()
                if newest == self._round_id and not force:
                    return
                shard = self.shard() if self.shard is not None else None
                rows = pstore.observations(self.store, shard)
                last = pstore.last_round(self.store, worker=self.worker)
                with self.store.connect() as conn:
                    counts = conn.execute(select(pstore.incidents.c.host, pstore.incidents.c.severity,
                                                 pstore.incidents.c.condition, func.count())
                                          .where(pstore.incidents.c.status == "open")
                                          .group_by(pstore.incidents.c.host, pstore.incidents.c.severity,
                                                    pstore.incidents.c.condition)).all()
                open_counts: dict[tuple[str, str], int] = {}
                for host, severity, condition, n in counts:
                    if shard is None or host in shard:  # a rack incident's host is the rack's path
                        open_counts[(severity, condition)] = open_counts.get((severity, condition), 0) + int(n)
                self._body = render(rows, self.hosts(), last, int(total), open_counts,
                                    outbox_store.outbox_counts(self.store))
                self._round_id = newest
                self._ok = 1.0
            except Exception:  # noqa: BLE001 - a broken store must not break the whole scrape
                log.exception("patrol collector: reading the stored round failed")
                self._ok = 0.0
            self._render_seconds = time.perf_counter() - started

    def exposition(self) -> bytes:
        started = time.perf_counter()
        self.refresh()
        own = (own_text(self.name, "the stored results", self._ok == 1.0, time.perf_counter() - started)
               + "# HELP dcops_patrol_collector_render_seconds Time the last re-render of patrol metrics took\n"
               "# TYPE dcops_patrol_collector_render_seconds gauge\n"
               f"dcops_patrol_collector_render_seconds {self._render_seconds:.6f}\n")
        return b"".join((self._body, own.encode()))


def make_collector(store: Any) -> PatrolCollector:
    """The exporter's factory (see dcops.exporter.registry)."""
    return PatrolCollector(store)
