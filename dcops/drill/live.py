"""Drills on the real fleet: only safe, recoverable actions, only on hosts named on the command
line, then the running patrol (``dcops serve``) is watched through the state store.

Safe actions (``scenario.LIVE_ACTIONS``):

* ``bmc_reset`` -- Redfish ``Manager.Reset`` (GracefulRestart): the BMC restarts, the host runs on;
  patrol should see the BMC unreachable for a while, and nothing else.
* ``power_off`` -- a graceful shutdown (the OS is asked to stop), and only of a **spare**: a
  host whose book entry has role ``spare`` or the tag ``spare``. Any other host is refused before
  anything is done.

``plan_actions`` is pure (what would be done, or why not); ``perform`` talks to the BMC;
``watch`` polls the store for incidents opened and notifications delivered after the injection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

from dcops.drill.scenario import Scenario
from dcops.drill.score import Notice, Seen, done
from dcops.errors import UsageError
from dcops.models import Host


def is_spare(host: Host) -> bool:
    return host.role == "spare" or "spare" in host.tags


def plan_actions(scenario: Scenario, book: Sequence[Host], names: Sequence[str]) -> list[tuple[str, Host]]:
    """(action, host) pairs to perform; UsageError naming what is refused and why."""
    if not scenario.live:
        raise UsageError(f"scenario {scenario.name} ({scenario.file}) has no live actions: it runs on the simulator "
                         "only (drop --live)")
    if not names:
        raise UsageError("--live needs an explicit host list (--hosts a,b): a drill never picks real hosts itself")
    by_name = {h.name: h for h in book}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UsageError(f"--hosts: not in the book: {', '.join(unknown)}")
    plan: list[tuple[str, Host]] = []
    for action in scenario.live:
        for name in names:
            host = by_name[name]
            if action == "power_off" and not is_spare(host):
                raise UsageError(f"power_off refused on {name}: only spares (role spare or tag spare) may be powered "
                                 "off by a drill")
            plan.append((action, host))
    return plan


def perform(action: str, host: Host) -> str:
    """Do one safe action; returns what was done (raises DcopsError with the BMC's words)."""
    from dcops.bmc.select import open_bmc

    if action == "power_off":
        bmc = open_bmc(host)
        try:
            bmc.power.request("off")  # "off" is GracefulShutdown (dcops.bmc.redfish.keys)
        finally:
            bmc.close()
        return f"{host.name}: graceful power-off requested"
    if action == "bmc_reset":
        from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
        from dcops.bmc.redfish.shared import Shared
        from dcops.secrets import resolve

        password = resolve(host.bmc.password_ref or "plain:", what=f"{host.name}: BMC password")
        conn = RedfishConnector(host.name, host.bmc, password, Timeouts())
        try:
            manager = Shared(conn).manager_uri()
            conn.act("POST", f"{manager}/Actions/Manager.Reset", {"ResetType": "GracefulRestart"}, "BMC reset")
        finally:
            conn.close()
        return f"{host.name}: BMC reset (GracefulRestart) requested"
    raise UsageError(f"not a safe live action: {action}")


def _notices(store: Any, since: dt.datetime) -> list[Notice]:
    from dcops.notify import store as outbox_store

    out: list[Notice] = []
    for row in outbox_store.outbox_items(store):
        delivered = outbox_store.aware(row.get("delivered_at"))
        if delivered is None or delivered < since:
            continue
        incident = (row.get("payload") or {}).get("incident") or {}
        out.append(Notice(int(incident.get("tier") or 1), row.get("incident"), delivered, str(row.get("kind") or "")))
    return out


async def watch(store: Any, scenario: Scenario, since: dt.datetime, timeout: float, *, poll: float = 2.0,
                progress: Callable[[str], None] | None = None) -> tuple[list[Seen], list[Notice]]:
    """Poll the store until every expectation is met and every timed tier notified, or ``timeout``."""
    from dcops.patrol import store as pstore

    say = progress or (lambda text: None)
    end = time.monotonic() + timeout
    known: set[int] = set()
    while True:
        incidents = [i for i in pstore.list_incidents(store, status=None, since=since, limit=10_000)
                     if i.opened_at >= since]
        seen = [Seen(i.id, i.host, i.part, i.condition.value, i.info.kind, i.opened_at, i.summary,
                     dict(i.diagnosis), dict(i.location)) for i in incidents]
        for s in seen:
            if s.id not in known:
                known.add(s.id)
                say(f"incident #{s.id} {s.condition} {s.host}: {s.summary}")
        notices = _notices(store, since)
        if done(scenario, seen, notices) or time.monotonic() > end:
            return seen, notices
        await asyncio.sleep(poll)
