"""Prometheus metrics of provisioning workflows (from the state store; a scrape never touches a BMC).

Metrics:

* ``dcops_provision_hosts{status}`` -- hosts per workflow status (pending, running, failed,
  aborted, delivered); every status is published, 0 included
* ``dcops_provision_step_hosts{status,step}`` -- hosts per status and current (or failed) step
* ``dcops_provision_step_failures_total{step}`` -- failed step attempts recorded so far
* ``dcops_provision_host_info{host,status,step,profile}`` -- 1 per host; join on ``host``
* ``dcops_provision_delivered_timestamp_seconds{host}`` -- when a host was delivered (Unix time)
* ``dcops_provision_collector_success`` and ``dcops_provision_collector_duration_seconds``

``status``, ``step`` and ``profile`` are labels beyond the usual set: the workflow's states and
steps are small fixed sets; ``profile`` appears on the ``_info`` gauge only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dcops.exporter.collectors._base import StoreCollector

STATUSES = ("pending", "running", "failed", "aborted", "delivered")
Summary = Callable[[], Mapping[str, Any]]


class ProvisionCollector(StoreCollector):
    name = "provision"
    what = "the workflows"

    def __init__(self, summary: Summary) -> None:
        self._summary = summary

    def read(self) -> list[Metric]:
        return build_families(self._summary())


def build_families(summary: Mapping[str, Any]) -> list[Metric]:
    """The metrics for one ``dcops.provision.store.summary`` (pure)."""
    hosts = GaugeMetricFamily("dcops_provision_hosts", "Hosts per provisioning workflow status", labels=["status"])
    by_status = dict(summary.get("by_status") or {})
    for status in sorted(set(STATUSES) | set(by_status)):
        hosts.add_metric([status], float(by_status.get(status, 0)))
    steps = GaugeMetricFamily("dcops_provision_step_hosts", "Hosts per workflow status and current or failed step",
                              labels=["status", "step"])
    for (status, step), count in sorted((summary.get("by_step") or {}).items()):
        steps.add_metric([status, step], float(count))
    failures = CounterMetricFamily("dcops_provision_step_failures", "Failed step attempts recorded so far",
                                   labels=["step"])
    for step, count in sorted((summary.get("failed_steps_total") or {}).items()):
        failures.add_metric([step], float(count))
    info = GaugeMetricFamily("dcops_provision_host_info", "Where a host's workflow is (always 1)",
                             labels=["host", "status", "step", "profile"])
    delivered = GaugeMetricFamily("dcops_provision_delivered_timestamp_seconds",
                                  "When the host was delivered (Unix time)", labels=["host"])
    for row in summary.get("hosts") or []:
        info.add_metric([row["host"], row["status"], row.get("step") or "", row.get("profile") or ""], 1.0)
        if row.get("delivered_at") is not None and row["status"] == "delivered":
            delivered.add_metric([row["host"]], row["delivered_at"].timestamp())
    return [hosts, steps, failures, info, delivered]


def make_collector(store: Any) -> ProvisionCollector:
    """The exporter's factory (dcops.exporter.registry finds it)."""
    from dcops.provision.store import summary

    return ProvisionCollector(lambda: summary(store))
