"""Fault scenarios injected into a 1,000-host simulated fleet (through the simulator's control
API, as `dcops sim fault` does) yield exactly one incident per root cause, with the right
severity, part serial, model, location and warranty; noise yields none."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.patrol.model import Incident
from tests.integration.patrol.conftest import SimPatrol

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

SCENARIOS: list[dict[str, Any]] = [
    {"name": "abnormal shutdown", "faults": [("abnormal_shutdown", ["sim-0005"], None, {})], "rounds": 2,
     "expect": [{"host": "sim-0005", "condition": "abnormal_shutdown", "severity": "critical",
                 "min_children": 1, "evidence": True}]},
    # Every BMC of the rack dark and none saying "off": cause unknown until the BMCs return (an
    # AC-lost SEL entry then makes it a power loss; tests/cases/convergence/racks.yaml).
    {"name": "rack power loss", "faults": [("rack_power_loss", [], "A03", {})], "rounds": 2,
     "expect": [{"host": "sim-dc1/room1/A03", "condition": "rack_unreachable", "severity": "critical",
                 "min_children": 16, "rack": "A03"}]},
    {"name": "psu failure", "faults": [("psu_fail", ["sim-0010"], None, {"psu": "1"})], "rounds": 2,
     "expect": [{"host": "sim-0010", "condition": "health", "severity": "critical", "kind": "psu",
                 "serial": True, "model": True}]},
    {"name": "drive predictive failure", "faults": [("drive_predictive", ["sim-0020"], None, {})], "rounds": 2,
     "expect": [{"host": "sim-0020", "condition": "predictive_failure", "severity": "warning", "kind": "drive",
                 "serial": True, "model": True}]},
    {"name": "memory uncorrectable errors", "faults": [("dimm_ue", ["sim-0031"], None, {})], "rounds": 2,
     "expect": [{"host": "sim-0031", "condition": "health", "severity": "critical", "kind": "dimm",
                 "serial": True}]},
    {"name": "a flapping sensor opens one incident marked flapping", "flap": ("over_temp", "sim-0040"),
     "expect": [{"host": "sim-0040", "condition": "sensor_high", "severity": "critical", "flapping": True}]},
    {"name": "a slow BMC answering within its deadline", "faults": [("bmc_slow", ["sim-0050"], None,
                                                                      {"latency": "800ms"})],
     "rounds": 2, "expect": []},
]


def _check(incident: Incident, spec: dict[str, Any], sp: SimPatrol) -> None:
    where = f"incident #{incident.id} ({incident.summary})"
    assert incident.condition.value == spec["condition"], where
    assert incident.severity.value == spec["severity"], where
    if "kind" in spec:
        assert incident.info.kind == spec["kind"], where
    if spec.get("serial"):
        assert incident.info.serial, f"{where}: no part serial"
    if spec.get("model"):
        assert incident.info.model, f"{where}: no part model"
    assert len(incident.children) >= spec.get("min_children", 0), f"{where}: {len(incident.children)} children"
    if spec.get("flapping"):
        assert incident.diagnosis.get("flapping"), f"{where}: not marked flapping"
    if spec.get("evidence"):
        assert incident.evidence, f"{where}: no SEL evidence"
    host = sp.hosts.get(incident.host)
    if host is not None:  # a host incident: location and warranty from the book
        assert incident.location["rack"] == host.location.rack and incident.location["u"] == host.location.u
        assert incident.warranty["end"] == host.asset.warranty_end.isoformat()
        assert incident.warranty["service_provider"] == host.asset.service_provider
        assert incident.warranty["days_left"] is not None
    else:
        assert incident.location["rack"] == spec["rack"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(fleet_1000: SimPatrol, scenario: dict[str, Any]) -> None:
    sp = fleet_1000
    opened: list[Incident] = []
    try:
        if "flap" in scenario:
            kind, host = scenario["flap"]
            for _ in range(3):  # bad, good, bad, good, ...: never two bad rounds in a row
                sp.fault(kind, [host])
                opened += sp.round().result.opened
                sp.clear([host])
                opened += sp.round().result.opened
        else:
            for kind, hosts, rack, args in scenario["faults"]:
                sp.fault(kind, hosts, rack, **args)
            for _ in range(scenario["rounds"]):
                summary = sp.round()
                opened += summary.result.opened
                assert summary.missed == 0
        assert len(opened) == len(scenario["expect"]), \
            [f"{i.host} {i.part} {i.condition.value} {i.severity.value}" for i in opened]
        for incident, spec in zip(sorted(opened, key=lambda i: i.host), scenario["expect"], strict=True):
            assert incident.host == spec["host"]
            _check(incident, spec, sp)
    finally:
        sp.clear()
