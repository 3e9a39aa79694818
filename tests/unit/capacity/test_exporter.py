"""The capacity collector, rendered as Prometheus would scrape it."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dcops.capacity.check import check_capacity
from dcops.capacity.model import NodeState
from dcops.capacity.policy import build_policy
from dcops.capacity.results import CapacityResult
from dcops.exporter.collectors.capacity import CapacityCollector
from tests.unit.capacity.helpers import counter_example_az, identical_az, snapshot


def _result() -> CapacityResult:
    nodes = identical_az("az1") + counter_example_az("az2")
    nodes[0] = nodes[0].with_state(NodeState.DOWN)
    return check_capacity(snapshot(*nodes), build_policy(q="VCPU=off,DISK_GB=off"))


def scrape(collector: CapacityCollector) -> tuple[bytes, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry)
    samples = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return text, samples


def test_exposition_of_a_result() -> None:
    result = _result()
    text, samples = scrape(CapacityCollector(lambda: result))
    az1 = (("az", "az1"), ("resource_class", "MEMORY_MB"))
    az2 = (("az", "az2"), ("resource_class", "MEMORY_MB"))
    assert samples[("dcops_capacity_nodes", az1)] == 11
    assert samples[("dcops_capacity_unavailable_nodes", az1)] == 1
    assert samples[("dcops_capacity_usage_ratio", az2)] == 0.5
    assert samples[("dcops_capacity_ceiling_ratio", az2)] == 0.8
    assert samples[("dcops_capacity_tolerated_node_failures", az2)] == 0
    assert samples[("dcops_capacity_rule_node_failures", az2)] == 1
    assert samples[("dcops_capacity_worst_rack_margin_ratio", az2)] == pytest.approx(-40960 / 409600)
    assert samples[("dcops_capacity_policy_met", az2)] == 0
    assert samples[("dcops_capacity_az_policy_met", (("az", "az2"),))] == 0
    assert samples[("dcops_capacity_nodes_needed", (("az", "az2"),))] >= 1
    assert samples[("dcops_capacity_collector_success", ())] == 1
    assert samples[("dcops_capacity_collector_duration_seconds", ())] >= 0
    assert samples[("dcops_capacity_result_timestamp_seconds", ())] > 1.7e9
    assert all(name.startswith("dcops_capacity_") for name, _ in samples)
    assert b"# HELP dcops_capacity_tolerated_node_failures" in text
    assert b"# TYPE dcops_capacity_tolerated_node_failures gauge" in text


def test_no_result_yet_and_a_broken_source() -> None:
    _, samples = scrape(CapacityCollector(lambda: None))
    assert set(samples) == {("dcops_capacity_collector_success", ()), ("dcops_capacity_collector_duration_seconds", ())}
    assert samples[("dcops_capacity_collector_success", ())] == 1

    def broken() -> CapacityResult:
        raise RuntimeError("store is locked")

    _, samples = scrape(CapacityCollector(broken))
    assert samples[("dcops_capacity_collector_success", ())] == 0
    assert not any(name == "dcops_capacity_nodes" for name, _ in samples)


def test_registering_does_not_read_the_store() -> None:
    calls = []
    registry = CollectorRegistry()
    registry.register(CapacityCollector(lambda: calls.append(1)))  # type: ignore[arg-type, func-returns-value]
    assert calls == []


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed (Debian package prometheus)")
def test_promtool_accepts_the_exposition() -> None:
    result = _result()
    text, _ = scrape(CapacityCollector(lambda: result))
    done = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
