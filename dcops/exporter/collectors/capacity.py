"""Prometheus metrics of the latest capacity check, per AZ and resource class.

The collector is given a callable that returns the latest ``CapacityResult`` (from the state
store in the exporter; any function in tests). A scrape only reads that result: it never calls
Nova or Placement.

Metrics (labels ``az`` and ``resource_class``, except where noted):

* ``dcops_capacity_nodes`` – nodes up (survivors) with the class
* ``dcops_capacity_unavailable_nodes`` – nodes disabled, down or removed
* ``dcops_capacity_usage_ratio`` – p: allocated / capacity of the nodes up
* ``dcops_capacity_ceiling_ratio`` – q
* ``dcops_capacity_tolerated_node_failures`` – exact m (−1: cannot carry what is already down)
* ``dcops_capacity_rule_node_failures`` – the rule of thumb's floor(n(1 − p/q))
* ``dcops_capacity_worst_rack_margin_ratio`` – room left after losing the worst rack, over
  capacity (negative: short by that share)
* ``dcops_capacity_headroom_ratio`` – headroom after the tolerated failures, over capacity
* ``dcops_capacity_policy_met`` – 1 when the class meets every requirement, else 0
* ``dcops_capacity_az_policy_met{az}`` – 1 when every class of the AZ does
* ``dcops_capacity_nodes_needed{az}`` – more nodes of the planned shape to meet the policy
  (absent when no number of nodes would)
* ``dcops_capacity_result_timestamp_seconds`` – when the check ran (Unix time)
* ``dcops_capacity_collector_success`` and ``dcops_capacity_collector_duration_seconds``

``resource_class`` is a label beyond the usual set (host, site, rack, az, ...): a capacity
figure means nothing without its class, and the classes are few and fixed per cloud.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from prometheus_client.core import GaugeMetricFamily, Metric

from dcops.capacity.results import CapacityResult
from dcops.exporter.collectors._base import StoreCollector

LatestResult = Callable[[], CapacityResult | None]
_LABELS = ["az", "resource_class"]


class CapacityCollector(StoreCollector):
    """Yields the capacity gauges of the result ``latest()`` returns (nothing but the collector's
    own success and duration while there is none)."""

    name = "capacity"
    what = "the latest result"

    def __init__(self, latest: LatestResult) -> None:
        self._latest = latest

    def read(self) -> list[Metric]:
        result = self._latest()
        return build_families(result) if result is not None else []


def build_families(result: CapacityResult) -> list[Metric]:
    """The gauges for one result (pure, so it can be tested on its own)."""
    def gauge(name: str, doc: str, labels: list[str] = _LABELS) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=labels)

    nodes = gauge("dcops_capacity_nodes", "Compute nodes up (the survivors) that have the resource class")
    unavailable = gauge("dcops_capacity_unavailable_nodes",
                        "Compute nodes disabled, down or removed; their load is owed to the nodes up")
    usage = gauge("dcops_capacity_usage_ratio", "Allocated over the capacity of the nodes up (p)")
    ceiling = gauge("dcops_capacity_ceiling_ratio", "Highest allowed use of a survivor (q)")
    tolerated = gauge("dcops_capacity_tolerated_node_failures",
                      "How many nodes may fail at once, exactly; -1 when the AZ cannot carry the load "
                      "of the nodes already unavailable")
    rule = gauge("dcops_capacity_rule_node_failures",
                 "The rule of thumb floor(n(1 - p/q)), exact only for identical nodes")
    rack_margin = gauge("dcops_capacity_worst_rack_margin_ratio",
                        "Room left after losing the worst rack, over capacity; negative when short")
    headroom = gauge("dcops_capacity_headroom_ratio",
                     "Room left after the tolerated node failures, over capacity")
    met = gauge("dcops_capacity_policy_met", "1 when the resource class meets every requirement, else 0")
    az_met = gauge("dcops_capacity_az_policy_met", "1 when every resource class of the AZ meets the policy",
                   labels=["az"])
    needed = gauge("dcops_capacity_nodes_needed",
                   "More nodes of the planned shape needed to meet the policy (0 when met)", labels=["az"])
    for az in result.azs:
        az_met.add_metric([az.az], 1.0 if az.policy_met else 0.0)
        if az.nodes_needed is not None:
            needed.add_metric([az.az], float(az.nodes_needed))
        for c in az.classes:
            labels = [az.az, c.resource_class]
            nodes.add_metric(labels, float(c.nodes))
            unavailable.add_metric(labels, float(c.unavailable))
            if c.usage_ratio is not None:
                usage.add_metric(labels, c.usage_ratio)
            ceiling.add_metric(labels, c.q)
            tolerated.add_metric(labels, float(c.tolerated_failures))
            if c.seed_nodes is not None:
                rule.add_metric(labels, float(c.seed_nodes))
            margin = c.worst_rack_margin_ratio
            if margin is not None:
                rack_margin.add_metric(labels, margin)
            if c.capacity:
                headroom.add_metric(labels, c.headroom / c.capacity)
            met.add_metric(labels, 1.0 if c.policy_met else 0.0)
    stamp = GaugeMetricFamily("dcops_capacity_result_timestamp_seconds",
                              "When the capacity check behind these figures ran (Unix time)",
                              value=_unix(result.checked_at))
    return [nodes, unavailable, usage, ceiling, tolerated, rule, rack_margin, headroom, met, az_met, needed, stamp]


def _unix(text: str) -> float:
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
