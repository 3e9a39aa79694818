"""Prometheus metrics of baseline compliance (the newest ``dcops baseline verify`` per host and kind).

The collector is given a callable returning the newest results (``dcops.store.baseline
.latest_results`` in the exporter; any function in tests). A scrape never touches a BMC.

Metrics (labels ``host`` and ``kind``; kind is firmware, bios or raid):

* ``dcops_baseline_compliant`` -- 1 when the host matches its baseline of that kind, else 0
* ``dcops_baseline_differences`` -- differences found (changes plus problems)
* ``dcops_baseline_last_verified_timestamp_seconds`` -- when that check ran (Unix time)
* ``dcops_baseline_info{host,kind,baseline}`` -- 1; which baseline the host was checked against
* ``dcops_baseline_collector_success`` and ``dcops_baseline_collector_duration_seconds``

``kind`` is a label beyond the usual set (host, site, rack, ...): a compliance figure means nothing
without it, and it has three fixed values. ``baseline`` appears on the ``_info`` gauge only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from dcops.exporter.collectors._base import StoreCollector

Latest = Callable[[], Sequence[Mapping[str, Any]]]


class BaselineCollector(StoreCollector):
    name = "baseline"
    what = "the stored results"

    def __init__(self, latest: Latest) -> None:
        self._latest = latest

    def read(self) -> list[Metric]:
        return build_families(self._latest())


def build_families(rows: Sequence[Mapping[str, Any]]) -> list[Metric]:
    """The gauges for the newest results (pure)."""
    labels = ["host", "kind"]
    compliant = GaugeMetricFamily("dcops_baseline_compliant",
                                  "1 when the host matched its baseline of this kind at the last verify, else 0",
                                  labels=labels)
    differences = GaugeMetricFamily("dcops_baseline_differences",
                                    "Differences from the baseline at the last verify (changes plus problems)",
                                    labels=labels)
    stamp = GaugeMetricFamily("dcops_baseline_last_verified_timestamp_seconds",
                              "When the host was last verified against this kind of baseline (Unix time)",
                              labels=labels)
    info = GaugeMetricFamily("dcops_baseline_info", "The baseline a host was verified against (always 1)",
                             labels=["host", "kind", "baseline"])
    for row in rows:
        key = [str(row["host"]), str(row["kind"])]
        compliant.add_metric(key, 1.0 if row["compliant"] else 0.0)
        differences.add_metric(key, float(row["differences"]))
        checked = row.get("checked_at")
        if isinstance(checked, str):
            checked = dt.datetime.fromisoformat(checked)
        if isinstance(checked, dt.datetime):
            if checked.tzinfo is None:
                checked = checked.replace(tzinfo=dt.UTC)
            stamp.add_metric(key, checked.timestamp())
        info.add_metric([*key, str(row.get("baseline") or "")], 1.0)
    return [compliant, differences, stamp, info]


def make_collector(store: Any) -> BaselineCollector:
    """The exporter's factory (dcops.exporter.registry finds it)."""
    from dcops.store.baseline import latest_results

    return BaselineCollector(lambda: latest_results(store))
