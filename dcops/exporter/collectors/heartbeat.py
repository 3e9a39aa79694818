"""Prometheus metrics of the per-network heartbeats (from the state store; a scrape probes nothing).

Metrics:

* ``dcops_heartbeat_up{host,network}`` -- 1 when the host answered on that network's address at the
  latest probe, else 0
* ``dcops_heartbeat_state_since_timestamp_seconds{host,network}`` -- since when it is in that state
  (alert on ``up == 0`` for long enough without keeping history in Prometheus)
* ``dcops_heartbeat_group_hosts{group,network,state}`` -- hosts per switch/rack group and network,
  ``state`` up or down: the view convergence takes (one group down is one incident)
* ``dcops_heartbeat_last_probe_timestamp_seconds`` -- the newest probe (a stale value: no heartbeat
  is running)
* ``dcops_heartbeat_collector_success`` and ``dcops_heartbeat_collector_duration_seconds``

``network`` and ``group`` are labels beyond the usual set: a heartbeat means nothing without the
network, and groups (a switch or rack) are what an operator acts on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from dcops.exporter.collectors._base import StoreCollector

Rows = Callable[[], Sequence[Mapping[str, Any]]]


class HeartbeatCollector(StoreCollector):
    name = "heartbeat"
    what = "the heartbeat state"

    def __init__(self, rows: Rows) -> None:
        self._rows = rows

    def read(self) -> list[Metric]:
        return build_families(self._rows())


def _ts(value: Any) -> float:
    import datetime as dt

    if value is None:
        return 0.0
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return float(value.timestamp())


def build_families(rows: Sequence[Mapping[str, Any]]) -> list[Metric]:
    """The families for the stored heartbeat rows (pure)."""
    up = GaugeMetricFamily("dcops_heartbeat_up", "1 when the host answered on the network at the latest probe",
                           labels=["host", "network"])
    since = GaugeMetricFamily("dcops_heartbeat_state_since_timestamp_seconds",
                              "Since when the host is in its current state on the network (Unix time)",
                              labels=["host", "network"])
    groups = GaugeMetricFamily("dcops_heartbeat_group_hosts", "Hosts per switch/rack group, network and state",
                               labels=["group", "network", "state"])
    last = GaugeMetricFamily("dcops_heartbeat_last_probe_timestamp_seconds", "The newest heartbeat probe (Unix time)")
    counts: Counter[tuple[str, str, str]] = Counter()
    newest = 0.0
    for row in rows:
        up.add_metric([row["host"], row["network"]], 1.0 if row["ok"] else 0.0)
        since.add_metric([row["host"], row["network"]], _ts(row.get("since")))
        counts[(str(row["grp"]), str(row["network"]), "up" if row["ok"] else "down")] += 1
        newest = max(newest, _ts(row.get("checked_at")))
    for group, network in sorted({(g, n) for g, n, _ in counts}):
        for state in ("up", "down"):
            groups.add_metric([group, network, state], float(counts[(group, network, state)]))
    families: list[Metric] = [up, since, groups]
    if rows:
        last.add_metric([], newest)
        families.append(last)
    return families


def make_collector(store: Any) -> HeartbeatCollector:
    """The exporter's factory (dcops.exporter.registry finds it)."""
    from dcops.heartbeat.store import latest

    return HeartbeatCollector(lambda: latest(store))
