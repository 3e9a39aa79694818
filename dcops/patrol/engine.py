"""The patrol engine: one round = read every BMC (tiered), check, converge, persist, notify.

``Patrol.round()`` is ``dcops patrol run``; ``Patrol.watch()`` runs rounds every ``interval``
until stopped (``dcops patrol watch``, ``dcops serve``). Rounds never overlap: a round that runs
long delays the next one, it does not run beside it; a BMC still being read when the round
deadline comes is cancelled and counted as *missed* (unknown this round, not unreachable).

Tiers per host and round:

* every round: power state, the system and chassis rollups, sensors and the new log entries
  (about five Redfish GETs for a healthy BMC; power, SDR and ``Get SEL Info`` over IPMI);
* when the rollup is not OK: the parts, read in the same visit (drill-down);
* every ``inventory_every``: the whole inventory (parts, serials, firmware), spread over rounds by
  a hash of the host name so the fleet does not take it in one minute.

The round's results are saved in one transaction with the incidents and notifications they
cause (see ``dcops.patrol.store``); notifications are then delivered from the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from sys import intern
from typing import Any

from dcops.bmc.ipmi.fleet import IpmiFleet
from dcops.bmc.redfish.fleet import RedfishFleet, Target, reserve_open_files
from dcops.bmc.visit import LogPosition, Visit
from dcops.heap import after_round, tune_garbage_collector
from dcops.models import Host, Protocol
from dcops.notify import outbox
from dcops.notify.config import NotifyConfig
from dcops.observation import Observation
from dcops.patrol.checks import check_host
from dcops.patrol.config import PatrolConfig
from dcops.patrol.converge import ConvergeState, RoundResult, converge
from dcops.patrol.enrich import host_context, host_location
from dcops.patrol.escalate import escalate, hold, release
from dcops.patrol.maintenance import scheduled_silences
from dcops.patrol.model import HostCheck, HostMemory, Incident
from dcops.patrol.pace import inventory_budget, inventory_cap, inventory_pick, inventory_share, too_little
from dcops.secrets import Secret, resolve

log = logging.getLogger(__name__)
MINUTE_SECTIONS = ("sensors", "logs")
INVENTORY_SECTIONS = ("components", "sensors", "firmware", "logs")
OPERATOR_ACTIONS = ("power", "provision", "baseline")
# An ``auto`` host whose Redfish is absent or silent is read over IPMI; Redfish is tried again
# after this long (and on the host's inventory rounds).
AUTO_REPROBE = 600.0


@dataclass(slots=True)
class HostResult:
    """One host's line in a round: what the BMC said and what the checks made of it (kept until the
    next round for the exporter and the web UI: slots, one per host)."""

    host: str
    reachable: bool | None  # None: missed (not read before the round deadline)
    power: str | None = None
    health: str | None = None
    error: str | None = None
    seconds: float = 0.0
    requests: int = 0
    tier: str = "minute"
    events: int = 0
    observation: Observation | None = None
    sensors: tuple[tuple[str, str, float | None, str | None, str], ...] = ()
    # Due for the inventory, read as a minute visit instead: the inventory visit ran out of the
    # round's time (or there was too little left to start it). Retried next round.
    inventory_cut: bool = False


@dataclass
class RoundSummary:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime
    duration: float
    cpu_seconds: float
    hosts: list[HostResult]
    result: RoundResult
    escalated: list[Incident] = field(default_factory=list)
    open_incidents: list[Incident] = field(default_factory=list)
    requests: int = 0
    notify: dict[str, int] = field(default_factory=dict)

    @property
    def reachable(self) -> int:
        return sum(1 for h in self.hosts if h.reachable)

    @property
    def unreachable(self) -> int:
        return sum(1 for h in self.hosts if h.reachable is False)

    @property
    def missed(self) -> int:
        return sum(1 for h in self.hosts if h.reachable is None)

    @property
    def inventory_cut(self) -> int:
        """Hosts whose inventory visit was cut short (their minute reading kept, the inventory
        retried next round)."""
        return sum(1 for h in self.hosts if h.inventory_cut)


class _Context(Mapping[str, Mapping[str, Any]]):
    """Location and warranty of a host, computed only for hosts whose incident opens."""

    def __init__(self, hosts: Mapping[str, Host], today: dt.date) -> None:
        self.hosts = hosts
        self.today = today

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        return host_context(self.hosts[name], self.today)

    def __iter__(self) -> Iterator[str]:
        return iter(self.hosts)

    def __len__(self) -> int:
        return len(self.hosts)


def _interned(text: Any) -> Any:
    return intern(text) if type(text) is str else text  # sys.intern takes exact str only


def _spread(host: str, period: float) -> float:
    """A stable offset in [0, period) so inventory rounds of a fleet spread over the period."""
    digest = hashlib.blake2b(host.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2**32 * period


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Patrol:
    """Patrols ``hosts``; persists to ``store``; notifies through ``notify``."""

    def __init__(self, store: Any, hosts: Sequence[Host], config: PatrolConfig,
                 notify: NotifyConfig | None = None, *,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC), tune_gc: bool = True) -> None:
        if tune_gc:
            tune_garbage_collector()
        self.store = store
        self.hosts = {h.name: h for h in hosts}
        self.config = config
        self.notify = notify or NotifyConfig()
        self.clock = clock
        web = sum(1 for h in hosts if Protocol(h.bmc.protocol) is not Protocol.IPMI)
        limit, needed = reserve_open_files(web)
        if limit < needed:
            log.warning("patrol: the open-files limit (%d) is below the %d that %d Redfish BMCs need (one kept "
                        "connection each): raise it (systemd: LimitNOFILE=)", limit, needed, web)
        self.redfish = RedfishFleet(concurrency=config.concurrency, read_timeout=config.read_timeout,
                                    log_limit=config.log_limit, keepalive=max(120.0, config.interval * 2))
        self.ipmi: IpmiFleet | None = None
        self._redfish_down: dict[str, float] = {}  # auto hosts read over IPMI: since when (monotonic)
        self._passwords: dict[str, Secret] = {}
        self._targets: dict[str, tuple[Host, Secret, Target]] = {}
        self._rows: dict[str, dict[str, Any]] | None = None
        self.latest: RoundSummary | None = None
        self.rounds = 0
        self.inventory_share = 1.0  # of the inventory spread, after the last round's pace (inventory_share)
        # The round's read deadline (monotonic) while it reads: an inventory visit never runs past
        # it (_inventory_visit). Hosts whose inventory this round cut short -> why; the last
        # round's go first among the due hosts of the next (pace.inventory_pick).
        self._round_end: float | None = None
        self._cut: dict[str, str] = {}
        self._cut_last: set[str] = set()
        self._am_sent_at = 0.0
        self.listeners: list[Callable[[RoundSummary], None]] = []
        # Called with (host, read ok) as each host's read of a round ends: progress on a terminal.
        self.visit_listeners: list[Callable[[str, bool], None]] = []
        self._slots: asyncio.Semaphore | None = None
        # The delivery thread of an earlier round that outlived its interval (a hung receiver):
        # while it runs, no second one starts (the claims would keep them apart, but threads
        # would pile up behind the same hung receiver).
        self._delivering: asyncio.Future[dict[str, int]] | None = None
        # Heartbeats on every network (dcops.heartbeat.monitor.attach): probed beside the BMC reads.
        self.heartbeat: Any = None
        # Several workers on one PostgreSQL store (dcops.workers): the worker's name goes on the
        # host and round rows it writes, and ``exclusive`` (the store's convergence lock) is held
        # from loading the shared convergence state to saving the round, so two workers never
        # converge at once. One process alone: no name, no lock.
        self.worker: str | None = None
        self.epoch: int | None = None
        self.exclusive: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
        # Who decides when rounds run and on which hosts, when not ``watch``'s own every-interval
        # loop over every host: a worker's epoch loop over its shard (dcops.workers.runtime).
        self.schedule: Callable[..., Any] | None = None
        # Which open incidents this process re-sends to Alertmanager each round, by subject (host
        # name or rack path): a worker only its shard's (dcops.workers); one process alone, all.
        self.resends: Callable[[str], bool] | None = None

    # ------------------------------------------------------------------ lifecycle
    async def close(self) -> None:
        await self.redfish.close()
        if self.ipmi is not None:
            self.ipmi.close()

    def _password(self, host: Host) -> Secret:
        ref = host.bmc.password_ref or "plain:"
        secret = self._passwords.get(ref)
        if secret is None:
            secret = self._passwords[ref] = resolve(ref, what=f"{host.name}: BMC password")
        return secret

    def _target(self, host: Host, password: Secret) -> Target:
        """The reader's target of ``host``, made again only when the book's host or its password
        changed: the same one every round otherwise (a Target costs ~3 us to make, and the reader
        keeps it per BMC anyway, so the cache holds nothing more than a reference)."""
        cached = self._targets.get(host.name)
        if cached is not None and cached[0] is host and cached[1] is password:
            return cached[2]
        target = Target.of(host, password)
        self._targets[host.name] = (host, password, target)
        return target

    def _host_rows(self) -> dict[str, dict[str, Any]]:
        if self._rows is None:
            from dcops.patrol import store as pstore

            self._rows = pstore.host_rows(self.store, self.hosts)
        return self._rows

    def reload_rows(self, names: Sequence[str]) -> None:
        """Read these hosts' rows (log cursor, check memory, power) again from the store: another
        worker patrolled them since we last did, and what we cached is stale (replaying its log
        entries as news, or calling a power change it already saw a new one)."""
        from dcops.patrol import store as pstore

        if self._rows is None or not names:
            return
        fresh = pstore.host_rows(self.store, names)
        for name in names:
            if name in fresh:
                self._rows[name] = fresh[name]
            else:
                self._rows.pop(name, None)

    async def release(self, names: Sequence[str]) -> None:
        """Hosts another worker reads from now on: log out of their BMCs (sessions are scarce)."""
        if names:
            for name in names:
                self._targets.pop(name, None)
            await self.redfish.forget(names)

    # ------------------------------------------------------------------ reading
    def _tier(self, host: Host, row: Mapping[str, Any] | None, now: dt.datetime) -> str:
        period = self.config.inventory_every
        if period <= 0:
            return "minute"  # inventory rounds turned off (benchmarks, or another tool collects it)
        last = _aware((row or {}).get("last_inventory_at"))
        if last is None:
            return "inventory"
        if (now - last).total_seconds() >= period:
            return "inventory"
        return "minute"

    def _tiers(self, hosts: Sequence[Host], rows: Mapping[str, Any], now: dt.datetime) -> dict[str, str]:
        """Which hosts get the inventory tier this round: those due, at most a share of the fleet
        per round (``inventory_every`` spreads them; a fresh fleet is inventoried over the period,
        at least ``INVENTORY_MIN`` hosts a round), those never inventoried first."""
        tiers = {h.name: self._tier(h, rows.get(h.name), now) for h in hosts}
        due = [h.name for h in hosts if tiers[h.name] == "inventory"]
        if self.config.inventory_every > 0:
            budget = inventory_budget(len(hosts), self.config.interval, self.config.inventory_every,
                                      self.inventory_share)
            if len(due) > budget:
                never = {n for n in due if (rows.get(n) or {}).get("last_inventory_at") is None}
                keep = inventory_pick(due, budget, never=never, retry=self._cut_last,
                                      order=lambda n: _spread(n, 1.0))
                for name in due:
                    if name not in keep:
                        tiers[name] = "minute"
        return tiers

    async def _visit(self, host: Host, row: Mapping[str, Any] | None, tier: str) -> Visit:
        # One request in flight per BMC, so BMCs visited at once == requests in flight. The
        # BMC's deadline starts when its visit does, not while it queues behind the others.
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.concurrency)
        async with self._slots:
            if tier == "inventory" and self._round_end is not None:
                return await self._inventory_visit(host, row)
            return await self._visit_now(host, row, tier)

    def _minute_deadline(self, host: Host) -> float:
        if Protocol(host.bmc.protocol) is Protocol.IPMI and self.config.ipmi_deadline is not None:
            return self.config.ipmi_deadline
        return self.config.bmc_deadline

    async def _inventory_visit(self, host: Host, row: Mapping[str, Any] | None) -> Visit:
        """An inventory visit that never runs past the round's read deadline. It gets what the
        round has left less a minute visit's deadline (pace.inventory_cap); when it runs out of
        that, the host is read again as a minute visit with the time kept for it, so the round
        still has its power, health, sensors and new log entries (a cut-short inventory read keeps
        nothing: its sensors and logs come last, and a part list read half is no inventory). Its
        inventory stays due and goes first next round. The time and requests of both count."""
        assert self._round_end is not None
        reserve = self._minute_deadline(host)
        cap = inventory_cap(self._round_end - time.monotonic(), reserve)
        # The minute visit keeps its own deadline: one that cannot finish before the round's end
        # is cancelled by the round (missed: unknown), never cut to fit and called unreachable.
        if cap is None:
            self._cut[host.name] = "too little of the round left to start it"
            return await self._visit_now(host, row, "minute")
        visit = await self._visit_now(host, row, "inventory", cap)
        if visit.observation is not None or not visit.timed_out:
            return visit
        self._cut[host.name] = visit.error or "no complete answer in time"
        minute = await self._visit_now(host, row, "minute")
        minute.seconds += visit.seconds
        minute.requests += visit.requests
        return minute

    async def _visit_now(self, host: Host, row: Mapping[str, Any] | None, tier: str,
                         cap: float = math.inf) -> Visit:
        sections = INVENTORY_SECTIONS if tier == "inventory" else MINUTE_SECTIONS
        position = LogPosition.from_text((row or {}).get("log_cursor"))
        # An inventory visit reads ten times the documents: it gets three times the time, never
        # past ``cap`` (what the round has left for it: _inventory_visit).
        deadline = min(cap, self.config.bmc_deadline * (3 if tier == "inventory" else 1))
        try:
            password = self._password(host)
        except Exception as exc:  # noqa: BLE001 - a bad credential reference is this host's problem only
            return Visit(host.name, None, f"credentials: {exc}", 0.0)
        protocol = Protocol(host.bmc.protocol)
        if protocol is Protocol.IPMI:
            return await self._ipmi_visit(host, password, sections, deadline, position, tier, cap)
        target = self._target(host, password)
        if protocol is Protocol.AUTO:
            return await self._auto_visit(host, target, password, sections, deadline, position, tier, cap)
        return await self.redfish.visit(target, sections=sections, deadline=deadline,
                                        log=position, refresh=tier == "inventory")

    async def _ipmi_visit(self, host: Host, password: Secret, sections: Sequence[str], deadline: float,
                          position: LogPosition, tier: str, cap: float = math.inf) -> Visit:
        if self.ipmi is None:
            self.ipmi = IpmiFleet(workers=self.config.ipmi_workers, timeout=self.config.read_timeout)
        if self.config.ipmi_deadline is not None:
            deadline = min(cap, self.config.ipmi_deadline * (3 if tier == "inventory" else 1))
        return await self.ipmi.visit(host.name, host.bmc, password, sections=sections, deadline=deadline,
                                     log=position, refresh=tier == "inventory")

    async def _auto_visit(self, host: Host, target: Target, password: Secret, sections: Sequence[str],
                          deadline: float, position: LogPosition, tier: str, cap: float = math.inf) -> Visit:
        """``auto``: Redfish; IPMI for power, health, sensors and the SEL when the BMC has no
        Redfish service (the service root answers 404) or it does not answer within the deadline.
        Such a host stays on IPMI for ``AUTO_REPROBE`` seconds (Redfish is tried again then, and on
        its inventory rounds), so a silent Redfish costs its deadline once, not every round."""
        down = self._redfish_down.get(host.name)
        if down is not None and time.monotonic() - down < AUTO_REPROBE and tier != "inventory":
            return await self._ipmi_visit(host, password, sections, deadline, position, tier)
        visit = await self.redfish.visit(target, sections=sections, deadline=deadline, log=position,
                                         refresh=tier == "inventory")
        if visit.observation is not None or not visit.no_redfish:
            self._redfish_down.pop(host.name, None)
            return visit
        if down is None:
            log.info("%s: Redfish did not answer (%s); reading power, health and sensors over IPMI",
                     host.name, visit.error)
        self._redfish_down[host.name] = time.monotonic()
        if math.isfinite(cap):
            # An inventory visit with the round's time capped (_inventory_visit): IPMI gets what
            # Redfish left of it, never the whole deadline again (that overran the round). Too
            # little left: said timed out, so the minute visit reads the host -- over IPMI at once,
            # Redfish being marked down -- with the time kept for it.
            left = cap - visit.seconds
            if too_little(left, self._minute_deadline(host)):
                visit.timed_out = True
                return visit
            deadline, cap = min(deadline, left), left
        fallback = await self._ipmi_visit(host, password, sections, deadline, position, tier, cap)
        if fallback.observation is None:
            fallback.error = f"{visit.error}; IPMI: {fallback.error}"
        fallback.seconds += visit.seconds
        fallback.requests += visit.requests
        return fallback

    async def _read_all(self, hosts: Sequence[Host], now: dt.datetime) -> dict[str, tuple[Visit | None, str]]:
        rows = self._host_rows()
        tiers = self._tiers(hosts, rows, now)
        # Longest unvisited first: a host missed by the last round's deadline goes first in this
        # one, so an overloaded round never starves the same hosts twice.
        epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
        order = sorted(hosts, key=lambda h: _aware((rows.get(h.name) or {}).get("observed_at")) or epoch)
        started = time.monotonic()
        self._round_end, self._cut = started + self.config.round_deadline, {}
        tasks = {asyncio.ensure_future(self._visit(h, rows.get(h.name), tiers[h.name])): h.name for h in order}
        for task, name in tasks.items():
            task.add_done_callback(functools.partial(self._visited, name))
        results: dict[str, tuple[Visit | None, str]] = {}
        if not tasks:
            self._round_end = None
            return results
        try:
            done, pending = await asyncio.wait(tasks, timeout=max(0.0, self._round_end - time.monotonic()))
        finally:
            self._round_end = None
        self.inventory_share = inventory_share(self.inventory_share, time.monotonic() - started, len(pending),
                                               self.config.round_deadline)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            log.warning("patrol: %d host(s) not read within the round deadline of %gs (counted as missed)",
                        len(pending), self.config.round_deadline)
        for task, name in tasks.items():
            if task in done and not task.cancelled() and task.exception() is None:
                results[name] = (task.result(), tiers[name])
            elif task in done and task.exception() is not None:
                log.error("patrol: %s: %s", name, task.exception())
                results[name] = (Visit(name, None, f"internal error: {task.exception()}", 0.0), tiers[name])
            else:
                results[name] = (None, tiers[name])
        if self._cut:
            # Read as minute visits: checked as such, and their inventory is not taken as fresh.
            for name in self._cut:
                visit = results.get(name, (None, "minute"))[0]
                results[name] = (visit, "minute")
            log.warning("patrol: %d inventory visit(s) cut short by the round deadline of %gs (minute reading "
                        "kept, inventory retried next round): %s", len(self._cut), self.config.round_deadline,
                        ", ".join(f"{n} ({why})" for n, why in sorted(self._cut.items())[:10]))
        self._cut_last = set(self._cut)
        return results

    def _visited(self, name: str, task: asyncio.Future[Visit]) -> None:
        ok = not task.cancelled() and task.exception() is None and task.result().error is None
        for listener in self.visit_listeners:
            listener(name, ok)

    def _operator_actions(self, now: dt.datetime) -> dict[str, str]:
        from dcops.store import audit

        since = now - dt.timedelta(seconds=self.config.policy.operator_window)
        found: dict[str, str] = {}
        for prefix in OPERATOR_ACTIONS:
            for entry in audit.query(self.store, action=prefix, since=since, limit=100_000):
                if entry.host and entry.host not in found:
                    found[entry.host] = entry.action
        return found

    # ------------------------------------------------------------------ one round
    async def round(self, hosts: Sequence[Host] | None = None) -> RoundSummary:
        summary = await self._round(hosts)
        # Here, not at the end of _round: _round's locals (every visit's observation, checks and
        # rows) are freed by now. Then the young generation holds only what the patrol keeps and
        # the round's cyclic garbage: most rounds leave fewer than after_round's 700 and skip the
        # collection, and when one runs it scans what is kept, not the round's leftovers. Measured
        # at 10,000 simulated BMCs: 370-400 ms of collection every round before, none in most
        # rounds now and 126 ms when one runs; steady CPU 0.91-0.94 -> 0.83-0.88 ms per BMC.
        after_round()
        return summary

    async def _round(self, hosts: Sequence[Host] | None) -> RoundSummary:
        targets = list(hosts) if hosts is not None else list(self.hosts.values())
        for h in targets:
            self.hosts.setdefault(h.name, h)
        started_at = self.clock()
        t0, c0 = time.monotonic(), time.process_time()
        beating = None
        if self.heartbeat is not None:
            beating = asyncio.ensure_future(self.heartbeat.probe([h.name for h in targets]))
        try:
            visits = await self._read_all(targets, started_at)
        except BaseException:
            if beating is not None:
                beating.cancel()
            raise
        beats = await beating if beating is not None else None
        now = self.clock()
        operators = self._operator_actions(now)
        rows = self._host_rows()
        policy = self.config.policy

        networks = None
        answering: dict[str, bool] = {}
        if beats is not None:
            from dcops.heartbeat.targets import answers_elsewhere
            from dcops.patrol.networks import check_networks

            self.heartbeat.save(beats, now)
            figures = self.heartbeat.last
            log.info("heartbeat: %d address(es) probed, %d down, %d changed state, %.2fs (%.2fs CPU)",
                     figures.targets, figures.down, figures.changed, figures.seconds, figures.cpu_seconds)
            hb = self.heartbeat.config
            networks = check_networks(beats, policy, ratio=hb.group_ratio, min_hosts=hb.group_min_hosts)
            # A host answering on a business network runs: the in-band evidence patrol.racks needs
            # to tell a dead management switch from a power loss, every round, without a probe.
            answering = answers_elsewhere(beats, hb.management)
        # The in-band probe and the PDUs of dark racks at once: both wait on silent addresses.
        probed, pdus = await asyncio.gather(self._probe_dark_racks(targets, visits, skip=answering),
                                            self._read_dark_rack_pdus(targets, visits))
        inband = {**answering, **probed}
        checks: list[HostCheck] = []
        results: list[HostResult] = []
        host_rows: list[dict[str, Any]] = []
        missed_rows: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        requests = 0
        for host in targets:
            visit, tier = visits.get(host.name, (None, "minute"))
            row = rows.get(host.name) or {}
            stored = dict(row.get("memory") or {})
            memory = HostMemory.from_json(stored.get("checks"))
            loc = host_location(host)
            cut = host.name in self._cut
            if visit is None:
                results.append(HostResult(host.name, None, tier=tier, error="missed the round deadline",
                                          inventory_cut=cut))
                continue
            requests += visit.requests
            obs = visit.observation
            if obs is not None and visit.baseline and obs.log_entries:
                import dataclasses

                obs = dataclasses.replace(obs, log_entries=())  # history, not news: sets the cursor only
            check = check_host(host.name, obs, memory, now, policy, error=visit.error,
                               operator_action=operators.get(host.name), inband=inband.get(host.name),
                               sections=INVENTORY_SECTIONS if tier == "inventory" else
                               (*MINUTE_SECTIONS, *(("components",) if visit.drilled else ())),
                               location=loc)
            checks.append(check)
            bad = {e.part: e.severity.value for e in check.events}
            old_bad: dict[str, str] = dict(stored.get("bad") or {})
            power = obs.identity.power_state.value if obs else None
            health = obs.health.value if obs else None
            if obs is not None:
                if row.get("power") != power and row.get("power") is not None:
                    changes.append({"at": now, "host": host.name, "part": "power", "old": row.get("power"),
                                    "new": power, "detail": None})
                for part in sorted(set(bad) | set(old_bad)):
                    if bad.get(part) != old_bad.get(part) and (part in bad or part in check.seen):
                        changes.append({"at": now, "host": host.name, "part": part[:255], "old": old_bad.get(part),
                                        "new": bad.get(part, "ok"),
                                        "detail": next((e.summary for e in check.events if e.part == part), None)})
                kept_bad = {p: s for p, s in old_bad.items() if p not in check.seen and p not in bad}
                bad = {**kept_bad, **bad}
            elif row.get("reachable") is not False:
                changes.append({"at": now, "host": host.name, "part": "bmc", "old": "reachable",
                                "new": "unreachable", "detail": visit.error})
            if obs is not None and row.get("reachable") is False:
                changes.append({"at": now, "host": host.name, "part": "bmc", "old": "unreachable",
                                "new": "reachable", "detail": None})
            # Kept until the next round (``latest``): the names and units are the same on every
            # host of a model, so one string each (interned) instead of one per host.
            sensors = tuple((_interned(s.name), s.kind.value, s.reading, _interned(s.units), s.health.value)
                            for s in obs.sensors) if obs else ()
            results.append(HostResult(host.name, obs is not None, power, health, visit.error, visit.seconds,
                                      visit.requests, tier, len(check.events),
                                      obs if check.events or tier == "inventory" else None, sensors, cut))
            new_row: dict[str, Any] = {
                "host": host.name, "observed_at": now, "reachable": obs is not None, "error": visit.error,
                "protocol": obs.protocol if obs else row.get("protocol"), "power": power or row.get("power"),
                "health": health or row.get("health"), "duration_seconds": round(visit.seconds, 4),
                "requests": visit.requests,
                "log_cursor": visit.log.to_text() if visit.log else row.get("log_cursor"),
                "memory": {"checks": check.memory.to_json(), "bad": bad},
                "last_success_at": now if obs is not None else row.get("last_success_at"),
                "last_inventory_at": now if (obs is not None and tier == "inventory") else row.get("last_inventory_at"),
                "observation": _compact(obs, sensors, full=bool(check.events) or tier == "inventory")
                if obs is not None else row.get("observation"),
            }
            if obs is not None and tier == "inventory":
                new_row["inventory"] = _inventory_doc(obs)
            if self.worker is not None:
                new_row["worker"] = self.worker
            host_rows.append(new_row)
            rows[host.name] = {k: v for k, v in new_row.items() if k not in ("observation", "inventory")}

        with self.exclusive():
            summary, silences = self._converge_and_save(targets, started_at, now, t0, c0, checks, results,
                                                        host_rows, missed_rows, changes, requests, networks, pdus)
        # Delivery outside the lock: the outbox claims keep workers apart there.
        summary.notify = await self.deliver(summary.open_incidents, now, silences)
        self.latest = summary
        self.rounds += 1
        for listener in self.listeners:
            try:
                listener(summary)
            except Exception:  # noqa: BLE001 - a listener (the exporter) must not stop patrol
                log.exception("patrol: round listener failed")
        return summary

    def _converge_and_save(self, targets: Sequence[Host], started_at: dt.datetime, now: dt.datetime,
                                 t0: float, c0: float, checks: list[HostCheck], results: list[HostResult],
                                 host_rows: list[dict[str, Any]], missed_rows: list[dict[str, Any]],
                                 changes: list[dict[str, Any]], requests: int,
                                 networks: Any = None, pdus: Any = None) -> tuple[RoundSummary, list[Any]]:
        from dcops.patrol import store as pstore

        policy = self.config.policy
        state_json, open_incidents = pstore.load_converge(self.store)
        state = ConvergeState.from_json(state_json, open_incidents)
        result = converge(state, checks, policy, now, _Context(self.hosts, now.date()), networks, pdus)
        silences = self._silences(now)
        hold(result.opened, silences, now)  # opened under a silence: paged when it ends, from tier 1
        just_opened = {i.id for i in result.opened}
        released = release([i for i in state.incidents.values() if i.id not in just_opened], silences, now)
        escalated = escalate(state.incidents.values(), now, policy, silences)
        notifications = outbox.plan(self.notify, now, opened=[*result.opened, *released], escalated=escalated,
                                    updated=result.updated, resolved=result.resolved, silences=silences)
        finished_at = self.clock()
        duration = time.monotonic() - t0
        changed = {i.id: i for i in [*state.incidents.values(), *result.resolved]}
        round_row = {"started_at": started_at, "finished_at": finished_at, "hosts": len(targets),
                     "reachable": sum(1 for r in results if r.reachable),
                     "unreachable": sum(1 for r in results if r.reachable is False),
                     "missed": sum(1 for r in results if r.reachable is None),
                     "inventory_cut": sum(1 for r in results if r.inventory_cut),
                     "events": sum(len(c.events) for c in checks), "opened": len(result.opened),
                     "resolved": len(result.resolved), "duration_seconds": round(duration, 3),
                     "cpu_seconds": round(time.process_time() - c0, 3), "requests": requests,
                     "tier": "mixed" if any(r.tier == "inventory" for r in results) else "minute"}
        if self.worker is not None:
            round_row.update(worker=self.worker, epoch=self.epoch)
        round_id = pstore.save_round(self.store, round_row=round_row, host_rows=host_rows + missed_rows,
                                     changes=changes, converge_state=state.to_json(),
                                     changed_incidents=changed.values(), notifications=notifications)
        summary = RoundSummary(round_id, started_at, finished_at, duration, time.process_time() - c0, results,
                               result, escalated, sorted(state.incidents.values(), key=lambda i: i.id), requests)
        return summary, silences

    @staticmethod
    def _rack_members(hosts: Sequence[Host], visits: Mapping[str, tuple[Visit | None, str]]
                      ) -> dict[str, list[tuple[str, bool | None]]]:
        """rack path -> (host, BMC read this round: True/False, None when not read)."""
        members: dict[str, list[tuple[str, bool | None]]] = {}
        for host in hosts:
            if host.location.rack:
                visit = visits.get(host.name, (None, ""))[0]
                reachable = None if visit is None else visit.observation is not None
                key = "/".join(x for x in (host.location.site, host.location.room, host.location.rack) if x)
                members.setdefault(key, []).append((host.name, reachable))
        return members

    async def _read_dark_rack_pdus(self, hosts: Sequence[Host], visits: Mapping[str, tuple[Visit | None, str]]
                                   ) -> dict[str, list[Any]]:
        """Read the PDUs (the book's rack ``pdus:``) of racks whose BMCs went dark together: what
        they say about mains and outlets decides power loss against the rest (patrol.pdu).
        rack path -> readings; racks without PDUs in the book are absent."""
        from dcops.patrol.racks import dark_racks

        members = self._rack_members(hosts, visits)
        dark = set(dark_racks(members, self.config.policy))
        wanted: dict[tuple[str, str], Any] = {}
        for path, rack_hosts in members.items():
            if any(name in dark for name, _ in rack_hosts):
                for name, _ in rack_hosts:
                    for pdu in self.hosts[name].pdus:
                        wanted.setdefault((path, pdu.name), pdu)
        if not wanted:
            return {}
        from dcops.pdu.redfish import read_pdus

        readings = await read_pdus(list(wanted.values()), timeout=min(self.config.read_timeout, 10.0))
        out: dict[str, list[Any]] = {}
        for (path, _), reading in zip(wanted, readings, strict=True):
            if not reading.reachable:
                log.info("patrol: PDU %s of rack %s unreachable (%s): no power evidence from it",
                         reading.pdu.name, path, reading.error)
            out.setdefault(path, []).append(reading)
        return out

    async def _probe_dark_racks(self, hosts: Sequence[Host], visits: Mapping[str, tuple[Visit | None, str]],
                                skip: Mapping[str, bool] | None = None) -> dict[str, bool]:
        """Probe the in-band addresses of the dark hosts of racks whose BMCs went dark together:
        running hosts mean the management network died, not the power (patrol.racks)."""
        from dcops.patrol.inband import probe_hosts
        from dcops.patrol.racks import dark_racks

        members = self._rack_members(hosts, visits)
        dark = [self.hosts[name] for name in dark_racks(members, self.config.policy)
                if self.hosts[name].inband is not None and name not in (skip or {})]
        if not dark:
            return {}
        return await probe_hosts(dark, port=self.config.inband_port, timeout=self.config.inband_timeout)

    def _silences(self, now: dt.datetime) -> list[Any]:
        """Silences in force: those set by hand (the store) and the maintenance windows open now."""
        from dcops.patrol import store as pstore

        return [*pstore.active_silences(self.store, now), *scheduled_silences(self.config.maintenance, now)]

    async def deliver(self, open_incidents: Sequence[Incident] | None = None, now: dt.datetime | None = None,
                      silences: Any = None) -> dict[str, int]:
        """Send due outbox rows and re-send firing incidents to Alertmanager (in a thread: the
        senders block). Bounded: never longer than the round interval."""
        from dcops.patrol import store as pstore

        now = now or self.clock()
        if open_incidents is None:
            _, open_incidents = pstore.load_converge(self.store)
        if silences is None:
            silences = self._silences(now)
        incidents = [i for i in open_incidents if self.resends is None or self.resends(i.host)]

        budget = max(10.0, self.config.interval)

        def work() -> dict[str, int]:
            counts = outbox.deliver_due(self.store, self.notify, now, deadline=time.monotonic() + budget)
            if self.notify.alertmanagers:
                hold = max(300.0, 4 * self.config.interval)
                errors = outbox.sync_alertmanager(self.notify, incidents, now, silences=silences, hold_seconds=hold)
                counts["alertmanager_errors"] = len(errors)
            return counts

        if not self.notify.receivers:
            return {}
        if self._delivering is not None and not self._delivering.done():
            log.warning("notify: the previous round's delivery is still running (a receiver hangs?); not starting "
                        "another")
            return {"busy": 1}
        self._delivering = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            # shield: the timeout stops our waiting, not the thread (it finishes its sends and marks them).
            return await asyncio.wait_for(asyncio.shield(self._delivering), timeout=budget)
        except TimeoutError:
            log.warning("notify: delivery did not finish within the round interval; the rest waits in the outbox")
            return {"timeout": 1}

    async def watch(self, stop: asyncio.Event, *, rounds: int | None = None) -> None:
        """Run rounds every ``interval`` until ``stop`` is set (or ``rounds`` have run)."""
        if self.schedule is not None:
            await self.schedule(stop, rounds=rounds)
            return
        done = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                summary = await self.round()
                log.info("patrol round %d: %d hosts, %d unreachable, %d missed, %d inventory cut short, "
                         "%d open incidents, %.1fs", summary.id, len(summary.hosts), summary.unreachable,
                         summary.missed, summary.inventory_cut, len(summary.open_incidents), summary.duration)
            except Exception:  # noqa: BLE001 - one failed round (store down) must not end the watch
                log.exception("patrol: round failed; retrying next interval")
            done += 1
            if rounds is not None and done >= rounds:
                return
            elapsed = time.monotonic() - started
            wait = self.config.interval - elapsed
            if wait <= 0:
                log.warning("patrol: the round took %.1fs, longer than the interval (%gs); starting the next now",
                            elapsed, self.config.interval)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)


def _compact(obs: Observation, sensors: Sequence[Any], *, full: bool) -> dict[str, Any]:
    """What the store keeps as a host's latest observation: power, rollups, sensor readings, new
    log entries and read errors always; the parts only when something is wrong (or on inventory
    rounds), so a healthy fleet's minute write stays small."""
    data: dict[str, Any] = {
        "taken_at": obs.taken_at.isoformat(), "protocol": obs.protocol,
        "power": obs.identity.power_state.value, "health": obs.health.value,
        "rollup": obs.identity.health.value, "sensors": [list(s) for s in sensors],
        "errors": [[e.what, e.reason] for e in obs.errors], "requests": obs.requests,
        "duration_seconds": obs.duration_seconds,
    }
    if obs.log_entries:
        data["log_entries"] = [[e.id, e.created, e.severity.value, e.message] for e in obs.log_entries[-20:]]
    if full:
        data["components"] = [[c.kind.value, c.chassis, c.location, c.health.value, c.state, c.serial, c.model]
                              for c in obs.components]
    return data


def _inventory_doc(obs: Observation) -> dict[str, Any]:
    """Identity, parts (serial, model, part number, firmware) and firmware inventory of a host,
    from its latest inventory round: what the ``_info`` metrics and incident enrichment use."""
    ident = obs.identity
    return {
        "taken_at": obs.taken_at.isoformat(), "protocol": obs.protocol,
        "identity": {k: getattr(ident, k) for k in ("manufacturer", "model", "serial", "sku", "bios_version",
                                                    "bmc_model", "bmc_version", "vendor", "uuid")},
        "components": [{"kind": c.kind.value, "chassis": c.chassis, "location": c.location, "serial": c.serial,
                        "model": c.model, "part_number": c.part_number, "firmware": c.firmware,
                        "manufacturer": c.manufacturer, "health": c.health.value} for c in obs.components],
        "firmware": [{"name": f.name, "version": f.version, "component": f.component} for f in obs.firmware],
        # Thresholds change with firmware, not by the minute: kept with the inventory (the web UI's
        # host page shows them beside the readings of every round).
        "thresholds": {s.name: {k: v for k, v in vars(s.thresholds).items() if v is not None}
                       for s in obs.sensors if not s.thresholds.is_empty()},
    }
