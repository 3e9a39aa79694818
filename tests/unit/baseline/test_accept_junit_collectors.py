"""Acceptance verdicts, JUnit XML, and the exporter collectors over a real state store."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from dcops.baseline.accept import check_acceptance
from dcops.baseline.junit import cases_from_plan, write_junit
from dcops.baseline.models import Change, ChangeKind, ExpectedGroup, ExpectedHardware, Plan, Profile
from dcops.exporter.collectors.baseline import make_collector as baseline_collector
from dcops.exporter.collectors.provision import make_collector as provision_collector
from dcops.observation import Component, ComponentKind, Identity, Observation, ReadError
from dcops.provision import store as pstore
from dcops.provision.workflow import HostStatus, Step, StepStatus
from dcops.store import open_store
from dcops.store.baseline import latest_results, save_results

GB = 10**9


def _obs(dimms: int = 16, drives: int = 8, errors: tuple[ReadError, ...] = ()) -> Observation:
    parts = [Component(ComponentKind.CPU, "c", f"CPU{i}", model="Intel(R) Xeon(R) Gold 6338 CPU", cores=32)
             for i in (1, 2)]
    parts += [Component(ComponentKind.DIMM, "c", f"D{i}", capacity_bytes=32 * 2**30) for i in range(dimms)]
    parts += [Component(ComponentKind.DRIVE, "c", f"B{i}", model="KPM6", capacity_bytes=960197124096,
                        extra={"MediaType": "SSD", "Protocol": "SAS"}) for i in range(2)]
    parts += [Component(ComponentKind.DRIVE, "c", f"B{i}", model="ST2400", capacity_bytes=2400476553216,
                        extra={"MediaType": "HDD", "Protocol": "SAS"}) for i in range(2, drives)]
    parts += [Component(ComponentKind.PSU, "c", f"PS{i}", extra={"PowerCapacityWatts": 1400}) for i in (1, 2)]
    return Observation("h1", dt.datetime.now(dt.UTC), "redfish",
                       Identity(manufacturer="Dell Inc.", model="PowerEdge R750"), tuple(parts), errors=errors)


PROFILE = Profile("p", ("Dell*",), ("PowerEdge R750",), ExpectedHardware(
    cpu_model="*Gold 6338*", cpu_count=2, cpu_cores=32, memory_gib=512, dimm_count=16,
    drives=(ExpectedGroup(2, media="SSD", size_gb=960), ExpectedGroup(6, media="HDD", size_gb=2400)),
    psus=(ExpectedGroup(2, watts=1400),)))


def test_acceptance_all_fields_ok() -> None:
    result = check_acceptance(PROFILE, _obs())
    assert result.accepted, result.failed
    assert {v.field for v in result.verdicts} >= {"cpu.count", "cpu.model", "memory.size_gib", "memory.dimms",
                                                   "drives[0]", "drives[1]", "psus[0]"}


def test_acceptance_names_each_failed_field() -> None:
    result = check_acceptance(PROFILE, _obs(dimms=15, drives=7))
    failed = {v.field: v for v in result.failed}
    assert set(failed) == {"memory.size_gib", "memory.dimms", "drives[1]"}
    assert failed["memory.dimms"].expected == 16 and failed["memory.dimms"].observed == 15


def test_acceptance_unreadable_is_unknown_not_accepted() -> None:
    obs = _obs(dimms=0, errors=(ReadError("/redfish/v1/Systems/1/Memory", "HTTP 500"),))
    result = check_acceptance(PROFILE, obs)
    assert not result.accepted
    assert {v.verdict for v in result.failed} == {"unknown"}


def test_junit_failure_error_and_pass(tmp_path: Path) -> None:
    drift = Plan("h1", "p", (Change(ChangeKind.BIOS, "LogicalProc", "set", "Enabled", "Disabled", True),),
                 baselines={"bios": "llt", "raid": "r"})
    bad = Plan("h2", "p", (), ("raid r: controller has no drive in bay 9",), baselines={"raid": "r"})
    path = tmp_path / "out" / "junit.xml"
    write_junit(path, "baseline.plan", cases_from_plan(drift) + cases_from_plan(bad))
    root = ET.parse(path).getroot()
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("errors") == "1"
    bios = root.find("testsuite[@name='baseline.plan.bios']/testcase[@name='h1']")
    assert bios is not None and "LogicalProc" in (bios.find("failure").text or "")  # type: ignore[union-attr]
    raid_ok = root.find("testsuite[@name='baseline.plan.raid']/testcase[@name='h1']")
    assert raid_ok is not None and len(raid_ok) == 0


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:///{tmp_path}/state.db")
    yield s
    s.close()


def _scrape(collector: object) -> str:
    registry = CollectorRegistry()
    registry.register(collector)  # type: ignore[arg-type]
    return generate_latest(registry).decode()


def test_baseline_collector_publishes_newest_result(store) -> None:  # type: ignore[no-untyped-def]
    old = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    new = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    save_results(store, [{"host": "h1", "kind": "bios", "baseline": "llt", "compliant": False, "differences": 3,
                          "checked_at": old}])
    save_results(store, [{"host": "h1", "kind": "bios", "baseline": "llt", "compliant": True, "differences": 0,
                          "checked_at": new},
                         {"host": "h1", "kind": "raid", "baseline": "r", "compliant": False, "differences": 2,
                          "checked_at": new}])
    assert len(latest_results(store)) == 2
    text = _scrape(baseline_collector(store))
    assert 'dcops_baseline_compliant{host="h1",kind="bios"} 1.0' in text
    assert 'dcops_baseline_differences{host="h1",kind="raid"} 2.0' in text
    from prometheus_client.parser import text_string_to_metric_families

    stamps = {s.labels["kind"]: s.value for f in text_string_to_metric_families(text)
              if f.name == "dcops_baseline_last_verified_timestamp_seconds" for s in f.samples}
    assert stamps == {"bios": new.timestamp(), "raid": new.timestamp()}
    assert "dcops_baseline_collector_success 1.0" in text
    _promtool(text)


def test_provision_collector_states_and_failed_steps(store) -> None:  # type: ignore[no-untyped-def]
    run = pstore.create_run(store, "run", {})
    for host in ("a", "b", "c"):
        pstore.start_workflow(store, host, "p", "A01", run)
    wf = pstore.load_workflows(store, ["b"])["b"]
    rec = pstore.start_step(store, wf, Step.DISCOVER, run)
    pstore.finish_step(store, rec.attempt_id, StepStatus.FAILED, error="boom")
    pstore.set_host(store, "b", status=HostStatus.FAILED, step=Step.DISCOVER, error="boom")
    pstore.set_host(store, "c", status=HostStatus.DELIVERED)
    text = _scrape(provision_collector(store))
    assert 'dcops_provision_hosts{status="pending"} 1.0' in text
    assert 'dcops_provision_hosts{status="failed"} 1.0' in text
    assert 'dcops_provision_hosts{status="running"} 0.0' in text
    assert 'dcops_provision_step_failures_total{step="discover"} 1.0' in text
    assert 'dcops_provision_host_info{host="b",profile="p",status="failed",step="discover"} 1.0' in text
    assert 'dcops_provision_delivered_timestamp_seconds{host="c"}' in text
    _promtool(text)


def _promtool(text: str) -> None:
    tool = shutil.which("promtool")
    if tool is None:
        return
    result = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
