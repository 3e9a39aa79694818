"""Run a drill scenario on the simulator: a fleet with per-network listeners, a patrol with
heartbeats and a loopback webhook per escalation tier, the faults injected, rounds until every
expected incident opened and every timed tier was notified (or the timeout), then the score.

Everything is on 127.0.0.1, in one asyncio loop; the drill's patrol state lives in a store of
its own (``work``), so a drill never opens or pages incidents of the real fleet.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dcops.drill.scenario import Scenario
from dcops.drill.score import DrillScore, Notice, Seen, done, score

log = logging.getLogger(__name__)
WARMUP_ROUNDS = 10  # rounds to wait for a quiet fleet before injecting


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Receiver:
    """A loopback webhook per escalation tier (``/tier/N``): when each notification arrived."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.url = ""
        self._runner: Any = None

    async def start(self) -> None:
        from aiohttp import web

        async def accept(request: web.Request) -> web.Response:
            body = await request.json()
            incident = body.get("incident") or {}
            self.notices.append(Notice(int(request.match_info["tier"]), incident.get("id"), _now(),
                                       str(body.get("event") or "")))
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/tier/{tier:\\d+}", accept)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def notify_section(url: str, tiers: int = 3) -> dict[str, Any]:
    """Every severity, tier N to the receiver's /tier/N."""
    return {"receivers": [{"name": f"drill-tier{t}", "type": "webhook", "url": f"{url}/tier/{t}"}
                          for t in range(1, tiers + 1)],
            "routes": [{"tier": [t], "receivers": [f"drill-tier{t}"]} for t in range(1, tiers + 1)]}


def patrol_section(scenario: Scenario) -> dict[str, Any]:
    """Fast, but patient where a loaded machine needs it: a BMC deadline of several seconds (a
    hung BMC costs one deadline a round; a healthy one answers in milliseconds)."""
    return {"interval": 1, "open_after": 2, "close_after": 2, "escalation": [0, 2, 4], "bmc_deadline": 5,
            "round_deadline": 30, "inventory_every": 0, "rack_loss_min_hosts": 3, **dict(scenario.patrol)}


def seen_of(incident: Any) -> Seen:
    return Seen(incident.id, incident.host, incident.part, incident.condition.value, incident.info.kind,
                incident.opened_at, incident.summary, dict(incident.diagnosis), dict(incident.location))


async def run_sim(scenario: Scenario, work: Path, *, timeout: float | None = None,
                  progress: Callable[[str], None] | None = None) -> DrillScore:
    from dcops.heartbeat.config import load_heartbeat_config
    from dcops.heartbeat.monitor import Monitor
    from dcops.inventory import load_inventory
    from dcops.notify.config import load_notify_config
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol
    from dcops.sim.faults import apply_fault
    from dcops.sim.fleet import Fleet, FleetSpec
    from dcops.sim.profiles import DEFAULT_PROFILES
    from dcops.sim.state import Timings
    from dcops.store import open_store

    say = progress or (lambda text: None)
    limit = timeout if timeout is not None else scenario.timeout
    fleet = Fleet(FleetSpec(hosts=scenario.hosts, racks=scenario.racks, networks=scenario.networks,
                            profiles=scenario.profiles or DEFAULT_PROFILES[:1], timings=Timings.preset("fast")))
    receiver = Receiver()
    await fleet.start()
    engine: Any = None
    store: Any = None
    try:
        await receiver.start()
        secret = work / "password"
        secret.write_text(fleet.credentials.password + "\n", encoding="utf-8")
        os.chmod(secret, 0o600)
        hosts = list(load_inventory([fleet.write_inventory(work / "inventory.yaml", f"file:{secret}")]).hosts)
        store = open_store(f"sqlite:///{work / 'drill.db'}")
        config = load_patrol_config(patrol_section(scenario))
        notify = load_notify_config(notify_section(receiver.url), "drill")
        engine = Patrol(store, hosts, config, notify)
        engine.heartbeat = Monitor(hosts, load_heartbeat_config({"timeout": 2, **dict(scenario.heartbeat)}), store)
        started_at = _now()

        def sync() -> None:  # power changes inside the simulator reach its network listeners
            for bmc in fleet.created():
                fleet.sync_links(bmc)

        # A quiet fleet first: what is open before the injection is not the drill's.
        before: set[int] = set()
        for n in range(WARMUP_ROUNDS):
            summary = await engine.round()
            before = {i.id for i in summary.open_incidents}
            if n >= 1 and not summary.result.opened:
                break
        say(f"fleet of {len(hosts)} hosts quiet ({len(before)} incident(s) open before); injecting")
        injected_at = _now()
        t0 = time.monotonic()
        pending = sorted(scenario.inject, key=lambda i: i.after)
        seen: dict[int, Seen] = {}
        rounds = 0
        while True:
            while pending and time.monotonic() - t0 >= pending[0].after:
                step = pending.pop(0)
                targets = fleet.select(step.hosts, step.rack)
                if step.action is not None:
                    # The live code itself, over Redfish, against the simulated BMCs.
                    from dcops.drill.live import perform

                    book = {h.name: h for h in hosts}
                    for bmc in targets:
                        say(await asyncio.to_thread(perform, step.action, book[bmc.name]))
                else:
                    for bmc in targets:
                        apply_fault(bmc, step.fault, dict(step.args))
                say(f"injected {step.action or step.fault} on "
                    f"{step.rack and f'rack {step.rack}' or ', '.join(step.hosts)}")
            sync()
            round_started = time.monotonic()
            summary = await engine.round()
            rounds += 1
            for incident in [*summary.open_incidents, *summary.result.resolved]:
                if incident.id not in before and incident.id not in seen:
                    seen[incident.id] = seen_of(incident)
                    say(f"incident #{incident.id} {incident.condition.value} {incident.host}: {incident.summary}")
            if not pending and done(scenario, list(seen.values()), receiver.notices):
                # One more round: a root cause split late (a second incident) still counts against it.
                await asyncio.sleep(max(0.0, config.interval - (time.monotonic() - round_started)))
                summary = await engine.round()
                rounds += 1
                for incident in summary.open_incidents:
                    if incident.id not in before and incident.id not in seen:
                        seen[incident.id] = seen_of(incident)
                break
            if time.monotonic() - t0 > limit:
                say(f"timed out after {limit:g}s")
                break
            await asyncio.sleep(max(0.0, config.interval - (time.monotonic() - round_started)))
        return score(scenario, mode="sim", started_at=started_at, injected_at=injected_at, finished_at=_now(),
                     seen=list(seen.values()), notices=receiver.notices, rounds=rounds)
    finally:
        if engine is not None:
            await engine.close()
        if store is not None:
            store.close()
        await receiver.stop()
        await fleet.stop()
