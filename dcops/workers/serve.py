"""``dcops serve --worker NAME [--sites dc1,dc2]``: turn a serve's patrol engine into one worker of
several sharing a PostgreSQL store (``runtime.Worker``), and its ``/metrics`` into its shard's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dcops.exporter.registry import Loaded
from dcops.models import Host
from dcops.workers import ring
from dcops.workers.runtime import Worker


def attach(store: Any, engine: Any, hosts: Sequence[Host], loaded: list[Loaded], *, name: str,
           sites: str | None = None, ttl: float | None = None) -> Worker:
    """Register the worker (refusing SQLite, or a name another live process holds), make the
    engine run its epoch loop, and scope the patrol metrics to the worker's shard; the worker's
    own ``dcops_worker_*`` join the exposition. Call before ``server.Exposition(loaded)``."""
    worker = Worker(store, engine, name, hosts, sites=ring.parse_sites(sites), ttl=ttl)
    worker.start()

    async def schedule(stop: Any, *, rounds: int | None = None) -> None:
        try:
            await worker.watch(stop, rounds=rounds)
        finally:
            worker.close()

    engine.schedule = schedule
    for item in loaded:
        if item.name == "patrol" and item.collector is not None:
            item.collector.shard = worker.owned
            item.collector.worker = name
    loaded.append(Loaded("worker", worker))
    return worker
