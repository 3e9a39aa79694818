"""One heartbeat round: probe every (host, network) of the book, store the results, and give
patrol what they mean (``Monitor.round``). ``attach`` is how ``dcops serve`` and drills hang a
monitor on a patrol engine: the engine then probes during every round, beside its BMC reads."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.heartbeat.config import HeartbeatConfig, load_heartbeat_config
from dcops.heartbeat.probe import probe_all
from dcops.heartbeat.targets import Result, Target, targets_of
from dcops.models import Host

log = logging.getLogger(__name__)


@dataclass
class RoundFigures:
    targets: int = 0
    down: int = 0
    changed: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0


class Monitor:
    """Heartbeats of ``hosts`` with ``config``; ``store`` keeps the latest state (None: not kept)."""

    def __init__(self, hosts: Sequence[Host], config: HeartbeatConfig, store: Any = None) -> None:
        self.config = config
        self.store = store
        self.targets: list[Target] = targets_of(hosts, config)
        self.last = RoundFigures()
        self._forgotten = False

    async def probe(self, hosts: Sequence[str] | None = None) -> list[Result]:
        """Probe the targets (of ``hosts`` only, when given: a patrol round limited by --limit)."""
        wanted = None if hosts is None else set(hosts)
        targets = [t for t in self.targets if wanted is None or t.host in wanted]
        t0, c0 = time.monotonic(), time.process_time()
        results = await probe_all(targets, timeout=self.config.timeout, concurrency=self.config.concurrency)
        self.last = RoundFigures(len(results), sum(1 for r in results if not r.ok), 0,
                                 time.monotonic() - t0, time.process_time() - c0)
        return results

    def save(self, results: Sequence[Result], now: dt.datetime) -> None:
        if self.store is None:
            return
        from dcops.heartbeat import store as hstore

        if not self._forgotten:  # once per process: networks the book no longer lists
            hstore.forget_except(self.store, (t.key for t in self.targets))
            self._forgotten = True
        self.last.changed = hstore.save_results(self.store, results, now)


def attach(engine: Any, hosts: Sequence[Host], section: Mapping[str, Any] | None) -> Monitor | None:
    """Hang a heartbeat monitor on a patrol engine (``engine.heartbeat``) when the book gives any
    host a network address; None (and nothing attached) otherwise."""
    config = load_heartbeat_config(section)
    if not config.enabled:
        return None
    monitor = Monitor(hosts, config, getattr(engine, "store", None))
    if not monitor.targets:
        return None
    engine.heartbeat = monitor
    log.info("heartbeat: %d address(es) on %d network(s) probed every round", len(monitor.targets),
             len({t.network for t in monitor.targets}))
    return monitor
