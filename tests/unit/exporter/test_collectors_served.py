"""Every collector module is served, each with its own success and duration gauges, and a real
``dcops serve`` answers ``/metrics`` with the capacity, assets, baseline, provisioning and patrol
families in an exposition ``promtool check metrics`` accepts."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from dcops.assets import store as asset_store
from dcops.capacity.check import check_capacity
from dcops.capacity.policy import build_policy
from dcops.exporter import registry, server
from dcops.provision import store as pstore
from dcops.store import baseline as baseline_store
from dcops.store import capacity as capacity_store
from dcops.store import open_store
from tests.unit.capacity.helpers import identical_az, snapshot
from tests.unit.exporter.test_exporter import _fill

ROOT = Path(__file__).resolve().parents[3]
COLLECTORS = {"assets", "baseline", "capacity", "patrol", "provision"}


def _names(body: str) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+) ", body, flags=re.MULTILINE))


def test_every_discovered_collector_publishes_its_success_and_duration(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    try:
        loaded = registry.discover(store)
        assert {x.name for x in loaded if x.collector is not None} >= COLLECTORS
        assert not [x for x in loaded if x.collector is None], [(x.name, x.error) for x in loaded]
        body = server.Exposition(loaded).render().decode()
    finally:
        store.close()
    names = _names(body)
    for item in loaded:
        assert f"dcops_{item.name}_collector_success" in names, item.name
        assert f"dcops_{item.name}_collector_duration_seconds" in names, item.name
        assert f"dcops_{item.name}_collector_success 1.0" in body, item.name


def test_a_broken_store_costs_each_collector_its_families_not_the_scrape(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    try:
        loaded = registry.discover(store)
        with store.begin() as conn:  # every collector's tables gone: each read fails
            for table in ("capacity_results", "asset_reconcile_results", "baseline_results", "provision_hosts",
                          "patrol_rounds"):
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        body = server.Exposition(loaded).render().decode()
    finally:
        store.close()
    for name in COLLECTORS:
        assert f"dcops_{name}_collector_success 0.0" in body, name
        assert f"dcops_{name}_collector_duration_seconds" in body, name
    assert 'dcops_exporter_collector_loaded{collector="assets"} 1' in body


def _state(url: str) -> None:
    """One stored result of every kind the exporter publishes."""
    store = open_store(url)
    try:
        result = check_capacity(snapshot(*identical_az("az1")), build_policy(q="VCPU=off,DISK_GB=off"))
        capacity_store.save_result(store, result.to_json())
        asset_store.save_reconcile(store, {"missing": 2}, {}, [])
        baseline_store.save_results(store, [{"host": "h00001", "kind": "bios", "baseline": "dell-bios",
                                             "compliant": False, "differences": 3}])
        pstore.start_workflow(store, "h00002", "dell-r750", "A01", "run-1")
        _fill(store, 3)
    finally:
        store.close()


def _inventory(path: Path) -> Path:
    hosts = [{"name": f"h{i:05d}", "u": 1 + 2 * i,
              "bmc": {"address": f"127.0.0.{i + 10}", "username": "admin", "password": "env:DCOPS_NO_SUCH_PW"},
              "asset": {"warranty_end": "2031-04-30", "supplier": "Dell", "contract": "CT-1"}} for i in range(3)]
    path.write_text(yaml.safe_dump({"version": 1, "sites": [{"name": "sh1", "rooms": [{"name": "r1", "racks": [
        {"name": "A01", "hosts": hosts}]}]}]}))
    return path


def _scrape(port: int, deadline: float) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=max(1.0, deadline - time.monotonic())) \
            as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return str(resp.read().decode())


@pytest.mark.timeout(90)
def test_dcops_serve_metrics_has_every_subsystem_and_passes_promtool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    _state(url)
    inv = _inventory(tmp_path / "inv.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCOPS_")}
    err = (tmp_path / "serve.err").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "dcops", "serve", "--no-patrol", "--listen", "127.0.0.1:0",
                             "--state", url, "-i", str(inv)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 45
        port = None
        while port is None:
            assert proc.poll() is None, f"dcops serve exited: {Path(err.name).read_text()}"
            assert time.monotonic() < deadline, f"dcops serve did not start: {Path(err.name).read_text()}"
            found = re.search(r"serving http://127\.0\.0\.1:(\d+)/metrics", Path(err.name).read_text())
            port = int(found.group(1)) if found else None
            if port is None:
                time.sleep(0.1)
        body = _scrape(port, deadline)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        err.close()
    names = _names(body)
    for name in COLLECTORS:
        assert f"dcops_{name}_collector_success 1.0" in body, name
    # One family of each subsystem, with values from the stored results and the book.
    assert {"dcops_capacity_policy_met", "dcops_assets_warranty_remaining_seconds", "dcops_baseline_compliant",
            "dcops_provision_hosts", "dcops_bmc_up", "dcops_patrol_rounds_total"} <= names
    assert 'dcops_capacity_az_policy_met{az="az1"}' in body
    assert 'dcops_assets_warranty_info{contract="CT-1",host="h00001",service_provider="",supplier="Dell"} 1.0' in body
    assert 'dcops_assets_discrepancies{kind="missing"} 2.0' in body
    assert 'dcops_baseline_compliant{host="h00001",kind="bios"} 0.0' in body
    assert 'dcops_provision_host_info{host="h00002",profile="dell-r750",status="pending",step=""} 1.0' in body
    assert 'dcops_bmc_up{host="h00001"} 1.0' in body
    assert 'dcops_host_info{host="h00001",site="sh1",room="' in body  # where it stands: from the book, on _info
    remaining = re.search(r'dcops_assets_warranty_remaining_seconds\{host="h00000"\} (\S+)', body)
    assert remaining and float(remaining.group(1)) == pytest.approx(
        (dt.date(2031, 4, 30) - dt.date.today()).days * 86400)
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is needed in CI")
        pytest.skip("promtool is not installed")
    check = subprocess.run([promtool, "check", "metrics"], input=body.encode(), capture_output=True, timeout=60)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
