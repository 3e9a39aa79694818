"""One patrol worker of several sharing a PostgreSQL store (``dcops serve --worker NAME``).

Every round, on the epoch grid of the database's clock (``ring``):

1. read the lease rows and decide the members of this epoch (``ring.members_at``);
2. compute this worker's racks by rendezvous hashing (``ring.assign``); hosts that arrived in the
   shard since the last round have their stored rows read again (another worker patrolled them);
3. run the patrol engine's round on those hosts; its convergence section runs under the store's
   convergence lock (``lease.converge_lock``), its notifications go through the shared outbox
   (claimed ``FOR UPDATE SKIP LOCKED``, sent once).

The lease is renewed by a thread every third of its length (``ttl``, one interval by default),
apart from the event loop, so a round that keeps the loop busy does not cost the worker its
lease. A worker killed outright stops renewing: its lease expires within ``ttl``, and the first
epoch after that has the survivors read its racks, at most two rounds after its death.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from dcops.models import Host
from dcops.workers import lease, ring

log = logging.getLogger("dcops.workers")


class Worker:
    def __init__(self, store: Any, engine: Any, name: str, hosts: Sequence[Host], *,
                 sites: frozenset[str] = frozenset(), ttl: float | None = None) -> None:
        self.name = lease.check_name(name)
        lease.require_postgres(store)
        self.store = store
        self.engine = engine
        self.sites = sites
        self.interval = float(engine.config.interval)
        self.ttl = float(ttl or self.interval)
        # A registration this close to an epoch boundary counts from the epoch after: every worker
        # must see the same lease rows for the same epoch, whatever its read latency.
        self.margin = min(1.0, self.interval / 10)
        self.hosts = {h.name: h for h in hosts}
        self.units = ring.units(hosts)
        self.unit_sites = {k: site for k, (site, _) in self.units.items()}
        known = {site for site, _ in self.units.values()}
        unknown = sorted(s for s in sites if s not in known)
        if unknown:
            log.warning("worker %s: --sites names sites the book has no host in: %s", name, ", ".join(unknown))
        self.process = lease.process_id()
        self.offset = 0.0  # database clock - local clock, seconds
        self.shard: list[str] = []  # host names of the current epoch, book order
        self.shard_units: set[str] = set()
        self.subject_owners: dict[str, str] = {}  # host name / rack path -> worker, this epoch
        self.epoch: int | None = None
        self.members: list[ring.Member] = []
        self.orphans = 0  # hosts no live worker may patrol (site affinity)
        self.adopted_total = 0
        self.renewed_at: float | None = None  # monotonic
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        engine.worker = name
        engine.resends = self.resends
        lock_wait = max(self.interval, 5.0)
        engine.exclusive = lambda: lease.converge_lock(store, lock_wait)

    # ------------------------------------------------------------------ lease
    def _clock(self, db_now: dt.datetime) -> None:
        self.offset = db_now.timestamp() - time.time()
        self.renewed_at = time.monotonic()

    def db_time(self) -> float:
        return time.time() + self.offset

    def start(self) -> None:
        """Register (raises ``lease.LeaseHeld`` when another live process has the name) and
        start renewing."""
        self._clock(lease.register(self.store, self.name, sorted(self.sites), ttl=self.ttl,
                                   interval=self.interval, process=self.process))
        self.lost = False
        if self._thread is None:
            self._thread = threading.Thread(target=self._renew, name=f"lease-{self.name}", daemon=True)
            self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                now = lease.heartbeat(self.store, self.name, ttl=self.ttl, process=self.process)
            except Exception as exc:  # noqa: BLE001 - the store is down: retried at the next beat
                log.warning("worker %s: renewing the lease failed: %s", self.name, exc)
                continue
            if now is None:
                if not self.lost:
                    log.error("worker %s: the lease row is no longer ours; registering again", self.name)
                self.lost = True
            else:
                self._clock(now)

    def close(self) -> None:
        """Stop renewing and end the lease at the end of the current epoch (the others take the
        racks from the next one on)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        end = ring.epoch_start(ring.epoch_of(self.db_time(), self.interval) + 1, self.interval)
        with contextlib.suppress(Exception):
            lease.leave(self.store, self.name, process=self.process, at=dt.datetime.fromtimestamp(end, dt.UTC))

    # ------------------------------------------------------------------ ownership
    def plan(self, epoch: int) -> list[str]:
        """This worker's hosts for ``epoch`` (book order); updates the figures the metrics show."""
        _, rows = lease.leases(self.store)
        at = ring.epoch_start(epoch, self.interval)
        self.members = ring.members_at(rows, at, margin=self.margin)
        assignment = ring.assign(self.unit_sites, self.members)
        mine = assignment.units_of(self.name)
        self.orphans = sum(len(self.units[u][1]) for u in assignment.orphans)
        self.shard_units = mine
        self.subject_owners = ring.subjects(assignment, {u: hosts for u, (_, hosts) in self.units.items()})
        names = {n for u in mine for n in self.units[u][1]}
        return [n for n in self.hosts if n in names]

    def owned(self) -> set[str]:
        """Host names and rack paths of the current shard (what this worker's /metrics shows)."""
        racks = {u.removeprefix("rack:") for u in self.shard_units if u.startswith("rack:")}
        return set(self.shard) | racks

    def resends(self, subject: str) -> bool:
        """Whether this worker re-sends an open incident about ``subject`` (a host name or a rack
        path) to Alertmanager: only its shard's, so N workers do not each re-send the fleet's."""
        return ring.resender(subject, self.subject_owners, self.members) == self.name

    # ------------------------------------------------------------------ rounds
    async def round(self, epoch: int) -> Any:
        shard = await asyncio.to_thread(self.plan, epoch)
        before, now = set(self.shard), set(shard)
        adopted = [n for n in shard if n not in before]
        released = [n for n in self.shard if n not in now]
        if adopted and self.epoch is not None:
            self.adopted_total += len(adopted)
            log.info("worker %s: epoch %d: taking over %d host(s) (%s%s)", self.name, epoch, len(adopted),
                     ", ".join(adopted[:5]), ", ..." if len(adopted) > 5 else "")
        if released:
            log.info("worker %s: epoch %d: %d host(s) moved to other workers", self.name, epoch, len(released))
            await self.engine.release(released)
        # Rows of hosts that were someone else's: read again (their log cursors moved on).
        await asyncio.to_thread(self.engine.reload_rows, adopted)
        self.shard = shard
        self.epoch = self.engine.epoch = epoch
        summary = await self.engine.round([self.hosts[n] for n in shard])
        await asyncio.to_thread(lease.record, self.store, self.name, process=self.process, epoch=epoch,
                                hosts=len(shard), units=len(self.shard_units))
        return summary

    async def watch(self, stop: asyncio.Event, *, rounds: int | None = None) -> None:
        """A round at the start of every epoch until ``stop`` is set (or ``rounds`` have run)."""
        done = 0
        epoch = ring.epoch_of(self.db_time(), self.interval) + 1
        while not stop.is_set():
            wait = ring.epoch_start(epoch, self.interval) - self.db_time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                if stop.is_set():
                    return
            try:
                if self.lost:
                    await asyncio.to_thread(self.start)
                summary = await self.round(epoch)
                log.info("worker %s: epoch %d: %d hosts, %d unreachable, %d missed, %d members, %.1fs", self.name,
                         epoch, len(summary.hosts), summary.unreachable, summary.missed, len(self.members),
                         summary.duration)
            except lease.LeaseHeld:
                raise
            except Exception:  # noqa: BLE001 - one failed round (store down) must not end the worker
                log.exception("worker %s: round of epoch %d failed; retrying next epoch", self.name, epoch)
            done += 1
            if rounds is not None and done >= rounds:
                return
            now_epoch = ring.epoch_of(self.db_time(), self.interval)
            if now_epoch > epoch:
                log.warning("worker %s: the round of epoch %d ran past its interval (%gs); skipping to epoch %d",
                            self.name, epoch, self.interval, now_epoch + 1)
            epoch = max(epoch + 1, now_epoch + 1)

    # ------------------------------------------------------------------ metrics
    def stale_hosts(self) -> int:
        """Hosts of the whole book not patrolled within two intervals (from the shared store: every
        worker reports the fleet's figure, so it survives the death of the worker that owned them)."""
        from sqlalchemy import select

        from dcops.patrol import store as pstore

        limit = dt.datetime.fromtimestamp(self.db_time() - 2 * self.interval, dt.UTC)
        with self.store.connect() as conn:
            fresh = {r[0] for r in conn.execute(select(pstore.hosts.c.host).where(pstore.hosts.c.observed_at >= limit))}
        return sum(1 for n in self.hosts if n not in fresh)

    def exposition(self) -> bytes:
        """``dcops_worker_*`` (exposition text 0.0.4)."""
        age = time.monotonic() - self.renewed_at if self.renewed_at is not None else float("nan")
        try:
            stale: float = float(self.stale_hosts())
        except Exception:  # noqa: BLE001 - a broken store must not break the scrape
            log.exception("worker %s: counting stale hosts failed", self.name)
            stale = float("nan")
        sites = ",".join(sorted(self.sites))
        lines = [
            ("dcops_worker_info", "This patrol worker: its name and the sites it reaches (value 1)", "gauge",
             f'{{worker="{self.name}",sites="{sites}"}}', 1.0),
            ("dcops_worker_lease_age_seconds", "Seconds since this worker last renewed its lease", "gauge", "", age),
            ("dcops_worker_lease_ttl_seconds", "How long a lease lasts without renewal", "gauge", "", self.ttl),
            ("dcops_worker_hosts_owned", "Hosts this worker patrols this epoch", "gauge", "", float(len(self.shard))),
            ("dcops_worker_units_owned", "Racks (and rackless hosts) this worker patrols this epoch", "gauge", "",
             float(len(self.shard_units))),
            ("dcops_worker_members", "Live workers in this worker's last epoch", "gauge", "", float(len(self.members))),
            ("dcops_worker_epoch", "The epoch (interval slot of the store's clock) of the last round", "gauge", "",
             float(self.epoch if self.epoch is not None else -1)),
            ("dcops_worker_hosts_adopted", "Hosts taken over from other workers", "counter", "",
             float(self.adopted_total)),
            ("dcops_worker_orphan_hosts", "Hosts of sites no live worker reaches (fleet-wide; max() over workers)",
             "gauge", "", float(self.orphans)),
            ("dcops_worker_fleet_hosts_stale", "Hosts of the whole book not patrolled within 2 intervals "
             "(fleet-wide, from the shared store; max() over workers)", "gauge", "", stale),
        ]
        out = []
        for name, doc, kind, labels, value in lines:
            metric = name + ("_total" if kind == "counter" else "")
            out.append(f"# HELP {metric} {doc}\n# TYPE {metric} {kind}\n{metric}{labels} {value!r}\n")
        return "".join(out).encode()
