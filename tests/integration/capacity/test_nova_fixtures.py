"""The recorded Nova answers describe the same cloud as lab.py (what Placement is populated with)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.capacity.lab import lab

LAB = Path(__file__).resolve().parents[2] / "fixtures" / "nova" / "lab"


def load(name: str) -> Any:
    return json.loads((LAB / name).read_text(encoding="utf-8"))


def test_fixtures_match_the_lab() -> None:
    cloud = lab()
    hypervisors = {h["service"]["host"]: h for h in load("os-hypervisors-detail.json")["hypervisors"]}
    services = {s["host"]: s for s in load("os-services.json")["services"] if s["binary"] == "nova-compute"}
    zones = {z["zoneName"]: z for z in load("os-availability-zone-detail.json")["availabilityZoneInfo"]}
    aggregates = {a["availability_zone"]: a for a in load("os-aggregates.json")["aggregates"] if a["availability_zone"]}
    assert set(hypervisors) == set(services) == {h.name for h in cloud.hosts}
    for host in cloud.hosts:
        hv = hypervisors[host.name]
        assert (hv["id"], hv["hypervisor_hostname"], hv["status"], hv["state"]) == \
            (host.uuid, host.hypervisor, host.status, host.state)
        assert (services[host.name]["zone"], services[host.name]["status"]) == (host.az, host.status)
        assert host.name in aggregates[host.az]["hosts"]
        listed = host.name in (zones[host.az]["hosts"] or {})
        assert listed is (host.status == "enabled"), "Nova lists enabled services only"
