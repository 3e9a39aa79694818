"""Prometheus metrics of fault drills: the latest run of each scenario (from the state store).

Metrics (label ``scenario``; ``mode`` sim or live on the score):

* ``dcops_drill_score{scenario,mode}`` -- 0-100: expected root causes found, over expected + unexpected
* ``dcops_drill_passed{scenario}`` -- 1 when the latest run passed
* ``dcops_drill_detect_seconds{scenario}`` -- time from injection to the slowest expected incident
* ``dcops_drill_first_notification_seconds{scenario,tier}`` -- from injection to the first
  notification of that escalation tier (absent when none came)
* ``dcops_drill_last_run_timestamp_seconds{scenario}`` -- when it ran (a stale drill is one not run)
* ``dcops_drill_collector_success`` and ``dcops_drill_collector_duration_seconds``
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from dcops.exporter.collectors._base import StoreCollector

Runs = Callable[[], Sequence[Mapping[str, Any]]]


class DrillCollector(StoreCollector):
    name = "drill"
    what = "the drill runs"

    def __init__(self, runs: Runs) -> None:
        self._runs = runs

    def read(self) -> list[Metric]:
        return build_families(self._runs())


def build_families(runs: Sequence[Mapping[str, Any]]) -> list[Metric]:
    """The families for the latest run of each scenario (pure)."""
    score = GaugeMetricFamily("dcops_drill_score", "Drill score 0-100 of the latest run", labels=["scenario", "mode"])
    passed = GaugeMetricFamily("dcops_drill_passed", "1 when the latest run passed", labels=["scenario"])
    detect = GaugeMetricFamily("dcops_drill_detect_seconds", "Injection to the slowest expected incident",
                               labels=["scenario"])
    notify = GaugeMetricFamily("dcops_drill_first_notification_seconds",
                               "Injection to the first notification of the tier", labels=["scenario", "tier"])
    when = GaugeMetricFamily("dcops_drill_last_run_timestamp_seconds", "When the latest run started (Unix time)",
                             labels=["scenario"])
    for run in runs:
        name = str(run["scenario"])
        result = run.get("result") or {}
        score.add_metric([name, str(run["mode"])], float(run["score"]))
        passed.add_metric([name], 1.0 if run["passed"] else 0.0)
        if result.get("detect_seconds") is not None:
            detect.add_metric([name], float(result["detect_seconds"]))
        for tier, seconds in sorted((result.get("notify_seconds") or {}).items()):
            if seconds is not None:
                notify.add_metric([name, str(tier)], float(seconds))
        started = run["started_at"]
        started = started if started.tzinfo else started.replace(tzinfo=dt.UTC)
        when.add_metric([name], started.timestamp())
    return [score, passed, detect, notify, when]


def make_collector(store: Any) -> DrillCollector:
    """The exporter's factory (dcops.exporter.registry finds it)."""
    from dcops.drill.store import latest_per_scenario

    return DrillCollector(lambda: latest_per_scenario(store))
