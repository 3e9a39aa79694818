"""`dcops baseline plan|apply|verify` against the simulator: exact differences, apply to the
baseline, a clean verify afterwards; a BIOS value the BMC silently drops is reported (exit 5); a
firmware task that vanishes is resolved through FirmwareInventory; the BMC rebooting after its own
update is waited out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dcops.sim.testing import ThreadedFleet
from dcops.store import audit, open_store
from dcops.store.baseline import latest_results
from tests.integration.provision.lab import cli, requests, sim_baselines, write_inventory, writes

pytestmark = pytest.mark.timeout(120)


def _setup(sim: ThreadedFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    inv = write_inventory(sim, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, [h.name for h in sim.fleet.hosts])
    return ["-i", str(inv), "--baselines", str(base), "--poll", "0.05"]


def test_plan_shows_the_exact_differences(fleet4: ThreadedFleet, state: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    args = _setup(fleet4, tmp_path, monkeypatch)
    junit = tmp_path / "ci" / "baseline.xml"
    code, data, _ = cli(capsys, "baseline", "plan", "sim-0001", *args, "--junit", str(junit))
    assert code == 1  # differences: the CI gate fails
    (item,) = data["items"]
    got = {(c["kind"], c["target"], c["old"], c["new"], c["action"]) for c in item["changes"]}
    assert got == {
        ("firmware", "Integrated Dell Remote Access Controller", "6.00.30.00", ">= 7.10.30.00", "update"),
        ("firmware", "BIOS", "1.8.2", ">= 1.13.2", "update"),
        ("firmware", "PERC H755 Front", "52.16.1-4405", ">= 52.26.0-5179", "update"),
        ("firmware", "Broadcom Gigabit Ethernet BCM5720", "21.80.9", ">= 22.71.3", "update"),
        ("firmware", "Broadcom Adv. Dual 25Gb Ethernet", "21.80.16.95", ">= 22.71.3", "update"),
        ("firmware", "KPM6WRUG960G (bay 0)", "BD03", ">= BD04", "update"),
        ("firmware", "KPM6WRUG960G (bay 1)", "BD03", ">= BD04", "update"),
        ("bios", "AcPwrRcvry", "Last", "On", "set"),
        ("bios", "LogicalProc", "Enabled", "Disabled", "set"),
        ("bios", "ProcCStates", "Enabled", "Disabled", "set"),
        ("bios", "SysProfile", "PerfPerWattOptimizedDapc", "PerfOptimized", "set"),
        ("bios", "WorkloadProfile", "NotConfigured", "LowLatencyOptimizedProfile", "set"),
        ("raid", "DATA", "RAID5 bays 2-6", None, "delete"),
        ("raid", "DATA", None, "RAID10 bays 2-5 max", "create"),
        ("raid", "bay 6", "none", "dedicated", "spare"),
    }
    assert item["reboots"] == ["firmware", "bios"] and item["destructive"] is True
    assert [c["target"] for c in item["changes"] if c["destructive"]] == ["DATA"]
    # The simulator reports cache policies now: none of them may be left unverified.
    assert not any("read_policy" in u or "write_policy" in u for u in item["unverified"]), item["unverified"]
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "3" and root.get("errors") == "0"
    assert writes(requests(fleet4, "sim-0001")) == {}  # a plan reads only


def test_pending_values_already_staged_are_shown(fleet4: ThreadedFleet, state: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    args = _setup(fleet4, tmp_path, monkeypatch)
    fleet4.call(lambda: fleet4.fleet.bmc(0).patch_bios({"LogicalProc": "Disabled", "SecureBoot": "Enabled"}))
    code, data, _ = cli(capsys, "baseline", "plan", "sim-0001", *args, "--kind", "bios")
    assert code == 1
    by_target = {c["target"]: c for c in data["items"][0]["changes"]}
    assert by_target["LogicalProc"]["action"] == "pending"
    assert by_target["SecureBoot"]["action"] == "pending-foreign"


def test_apply_brings_every_vendor_to_the_baseline_then_verify_is_clean(
        fleet4: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = _setup(fleet4, tmp_path, monkeypatch)
    hosts = [h.name for h in fleet4.fleet.hosts]
    code, data, err = cli(capsys, "baseline", "apply", *hosts, *args, "--allow-data-loss")
    assert code == 2 and "--yes" in err  # no terminal to ask on: refuses without --yes
    code, data, err = cli(capsys, "baseline", "apply", *hosts, *args, "--yes")
    assert code == 5 and "--allow-data-loss" in err  # RAID deletes volumes: refused per host
    # The Supermicro profile wants Non-RAID disks, which its BMC cannot show: refused too.
    assert "--allow-unverified" in err
    # Refused in preflight: not one write, firmware and BIOS included, and it says so.
    refused = {i["host"] for i in data["items"] if i["result"] == "refused"}
    assert refused and all(i["applied"] == 0 for i in data["items"] if i["host"] in refused)
    for host in refused:
        assert writes(requests(fleet4, host)) == {}, host
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        entries = audit.query(store, action="baseline.apply", limit=100)
    finally:
        store.close()
    assert {e.host for e in entries if e.result == "refused"} == refused
    assert not [e for e in entries if e.host in refused and e.result != "refused"]
    code, data, err = cli(capsys, "baseline", "apply", *hosts, *args, "--yes", "--allow-data-loss",
                          "--allow-unverified")
    assert code == 0, err
    assert data["summary"]["failed"] == 0
    # Green only where dcops could check it: the Non-RAID disks of the Supermicro fail the gate ...
    code, data, err = cli(capsys, "baseline", "verify", *hosts, *args)
    assert code == 1 and "sim-0004: unverified" in err and "disk state non-raid" in err, err
    assert data["summary"]["unverified"] == 1
    # ... unless the operator accepts them.
    code, data, err = cli(capsys, "baseline", "verify", *hosts, *args, "--allow-unverified")
    assert code == 0, err
    assert data["summary"]["compliant"] == 4
    dell = fleet4.call(lambda: fleet4.fleet.bmc(0).details())
    assert dell["firmware"]["bmc"] == "7.10.30.00" and dell["firmware"]["bios"] == "1.13.2"
    assert dell["bios_changed"]["LogicalProc"] == "Disabled" and not dell["bios_pending"]
    # The Dell BIOS values went through iDRAC's job queue (the simulator applies them at POST only
    # through a scheduled configuration job), and the job completed.
    jobs = fleet4.call(lambda: [(j.job_type, j.state) for j in fleet4.fleet.bmc(0).jobs.jobs.values()])
    assert jobs == [("BIOSConfiguration", "Completed")], jobs
    assert sorted((v["name"], v["raid_type"], v["drives"]) for v in dell["volumes"]) == [
        ("DATA", "RAID10", [2, 3, 4, 5]), ("OS", "RAID1", [0, 1])]
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        rows = latest_results(store)
        checked = audit.verify(store)
        applied = [(e.result, e.intent_id is not None) for e in audit.query(store, action="baseline.apply",
                                                                           host=hosts[0], limit=50)]
    finally:
        store.close()
    assert len(rows) == 12 and all(r["compliant"] for r in rows)
    # Each host's apply: the intent before the first write, every kind and the outcome naming it.
    assert checked.intact and checked.unfinished == []
    # (the refusal of the first attempt wrote nothing, so it opened no intent: it is its own entry)
    applied = [a for a in applied if a[0] != "refused"]
    assert applied[-1] == ("started", False) and applied[0] == ("ok", True)


def test_bios_value_silently_refused_is_reported_not_applied(
        fleet4: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = _setup(fleet4, tmp_path, monkeypatch)

    # Accepted by the PATCH, dropped at POST (the BMC's config job fails for that attribute).
    fleet4.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "bios_refuse",
                                       "args": {"attribute": "LogicalProc"}})
    code, data, err = cli(capsys, "baseline", "apply", "sim-0001", *args, "--kind", "bios", "--yes")
    assert code == 5
    assert "LogicalProc is 'Enabled', wanted 'Disabled'" in err
    assert "not applied" in err
    details = fleet4.call(lambda: fleet4.fleet.bmc(0).details())
    assert details["bios_changed"]["ProcCStates"] == "Disabled"  # the others were applied
    # ... and the report and the audit say so, old -> new: never "applied 0" after a change.
    (item,) = data["items"]
    assert item["result"] == "partial" and item["applied"] == 4, item
    (bios,) = item["kinds"]
    assert bios["outcome"] == "partial" and bios["remaining"] == ["set LogicalProc"]
    assert {w["target"]: (w["old"], w["new"]) for w in bios["writes"]}["ProcCStates"] == ("Enabled", "Disabled")
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        (entry,) = audit.query(store, host="sim-0001", action="baseline.apply.bios")
    finally:
        store.close()
    assert entry.result == "partial"
    assert {"target": "ProcCStates", "action": "set", "old": "Enabled"} in entry.before
    assert {"target": "ProcCStates", "action": "set", "new": "Disabled"} in entry.after["applied"]
    assert entry.after["remaining"] == ["set LogicalProc"] and "LogicalProc" in entry.after["failed"]
    code, data, _ = cli(capsys, "baseline", "verify", "sim-0001", *args, "--kind", "bios")
    assert code == 1 and [c["target"] for c in data["items"][0]["changes"]] == ["LogicalProc"]


def test_vanished_firmware_task_and_bmc_reboot(fleet4: ThreadedFleet, state: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = _setup(fleet4, tmp_path, monkeypatch)

    # The BMC forgets the next two update tasks (their monitors answer 404) while the updates complete.
    fleet4.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "task_vanish", "args": {"count": "2"}})
    before = fleet4.call(lambda: fleet4.fleet.bmc(0).sessions_expired)
    code, data, err = cli(capsys, "baseline", "apply", "sim-0001", *args, "--kind", "firmware", "--yes")
    assert code == 0, err
    log = requests(fleet4, "sim-0001")
    vanished = [r for r in log if r["method"] == "GET" and "/TaskService/Tasks/JID_" in r["path"] and r["status"] == 404]
    assert vanished, "the test did not make a task vanish"
    details = fleet4.call(lambda: fleet4.fleet.bmc(0).details())
    assert details["firmware"]["nic1"] == "22.71.3" and details["firmware"]["bios"] == "1.13.2"
    assert details["firmware"]["bmc"] == "7.10.30.00"
    # The BMC rebooted into its new firmware (sessions dropped) and the apply waited it out.
    assert fleet4.call(lambda: fleet4.fleet.bmc(0).sessions_expired) > before
    assert writes(log)["firmware_update"] == 7  # each component once


def _raid_args(sim: ThreadedFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str) -> list[str]:
    inv = tmp_path / "inv.yaml"
    if not inv.exists():
        write_inventory(sim, inv, monkeypatch)
    base = sim_baselines(tmp_path / template, [h.name for h in sim.fleet.hosts],
                         subset={"raid": template})
    return ["-i", str(inv), "--baselines", str(base), "--poll", "0.05", "--kind", "raid"]


def _layout(sim: ThreadedFleet, index: int) -> tuple[list[tuple[str, list[int], list[int]]], dict[int, str]]:
    def read() -> tuple[list[tuple[str, list[int], list[int]]], dict[int, str]]:
        storage = sim.fleet.bmc(index).storage
        return (sorted((v.name, list(v.drives), list(v.spares)) for v in storage.volumes),
                {d.bay: ("non-raid" if d.non_raid else d.hotspare) for d in storage.drives})
    return sim.call(read)


def test_raid_transitions_both_ways_with_spares_bound_and_verified(
        fleet4: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Dell (AssignSpare) and HPE (Volume Links.DedicatedSpareDrives): to JBOD, back to volumes with a
    dedicated and a global spare, and to JBOD again; each plan replayed before its first DELETE,
    each result verified from a re-read, the dedicated spare bound to its volume."""
    to_spares = _raid_args(fleet4, tmp_path, monkeypatch, "trading-db-r750")
    to_jbod = _raid_args(fleet4, tmp_path, monkeypatch, "os-raid1-jbod")
    ok = "--yes", "--allow-data-loss"
    # Dell: JBOD, back, JBOD again.
    for args in (to_jbod, to_spares, to_jbod, to_spares):
        code, data, err = cli(capsys, "baseline", "apply", "sim-0001", *args, *ok)
        assert code == 0 and data["items"][0]["result"] == "ok", err
        code, data, err = cli(capsys, "baseline", "verify", "sim-0001", *args)
        assert code == 0, err
    volumes, drives = _layout(fleet4, 0)
    assert volumes == [("DATA", [2, 3, 4, 5], [6]), ("OS", [0, 1], [])], volumes
    assert drives[6] == "Dedicated" and drives[7] == "Global"
    log = requests(fleet4, "sim-0001")
    assigns = [r for r in log if r["method"] == "POST" and r["path"].endswith("DellRaidService.AssignSpare")]
    assert assigns and all(r["status"] < 400 for r in assigns)
    # HPE: the dedicated spare is bound through its volume (DMTF), and verified bound.
    code, data, err = cli(capsys, "baseline", "apply", "sim-0002", *to_spares, *ok)
    assert code == 0, err
    volumes, drives = _layout(fleet4, 1)
    assert ("DATA", [2, 3, 4, 5], [6]) in volumes and drives[6] == "Dedicated"
    patches = [r for r in requests(fleet4, "sim-0002") if r["method"] == "PATCH" and "/Volumes/" in r["path"]]
    assert patches and patches[-1]["status"] == 200  # (iLO wants If-Match on a Volume: the connector retries)
    # Unbinding behind dcops' back is drift, not "Dedicated, so fine".
    fleet4.call(lambda: fleet4.fleet.bmc(1).storage.volume(next(
        v.id for v in fleet4.fleet.bmc(1).storage.volumes if v.name == "DATA")).spares.clear())
    code, data, err = cli(capsys, "baseline", "plan", "sim-0002", *to_spares)
    assert code == 1
    assert [c["action"] for c in data["items"][0]["changes"]] == ["unspare", "spare"]


def test_hpe_jbod_through_smart_storage_config_verified_without_allow_unverified(
        fleet4: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """HPE iLO 5 (sim flavour after the DL360 Gen10 Plus capture): Non-RAID disks are the Smart Array's
    Mixed mode, staged in SmartStorageConfig's settings object and in effect after a reset. The plan
    is one mode change (not a conversion per disk), apply resets once for it, and verify passes
    without --allow-unverified because the disk states are read back from the mode in effect."""
    to_jbod = _raid_args(fleet4, tmp_path, monkeypatch, "os-raid1-jbod")
    code, data, err = cli(capsys, "baseline", "plan", "sim-0002", *to_jbod)
    assert code == 1, err
    (item,) = data["items"]
    modes = [c for c in item["changes"] if c["action"] == "mode"]
    assert [(c["old"], c["new"]) for c in modes] == [("RAID", "Mixed")] and not item["unverified"], item
    code, data, err = cli(capsys, "baseline", "apply", "sim-0002", *to_jbod, "--yes", "--allow-data-loss")
    assert code == 0 and data["items"][0]["result"] == "ok", err
    assert fleet4.call(lambda: fleet4.fleet.bmc(1).storage.hpe_mode) == "Mixed"
    patches = [r for r in requests(fleet4, "sim-0002") if r["method"] == "PATCH" and "smartstorageconfig" in r["path"]]
    assert len(patches) == 1 and patches[0]["status"] == 200
    code, data, err = cli(capsys, "baseline", "verify", "sim-0002", *to_jbod)
    assert code == 0, err
    # A template that wants one unused disk Ready beside Non-RAID ones cannot be on a Smart Array.
    ready7 = _raid_args(fleet4, tmp_path, monkeypatch, "jbod-but-7")
    (Path(ready7[3]) / "raid" / "jbod-but-7.yaml").write_text(
        "name: jbod-but-7\nclear_existing: true\nvirtual_disks:\n  - {name: OS, raid: RAID1, disks: [0, 1]}\n"
        "unused_disks: non-raid\ndisk_states: {7: ready}\n")
    before = writes(requests(fleet4, "sim-0002"))
    code, data, err = cli(capsys, "baseline", "apply", "sim-0002", *ready7, "--yes", "--allow-data-loss")
    assert code == 3 and "per controller" in err, err
    assert writes(requests(fleet4, "sim-0002")) == before


def test_a_dedicated_spare_on_a_controller_that_cannot_bind_one_is_refused(
        fleet4: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = _raid_args(fleet4, tmp_path, monkeypatch, "small-spare")
    (Path(args[3]) / "raid" / "small-spare.yaml").write_text(
        "name: small-spare\nclear_existing: true\nvirtual_disks:\n  - {name: OS, raid: RAID1, disks: [0, 1]}\n"
        "  - {name: DATA, raid: RAID1, disks: [2, 3], dedicated_spares: [4]}\n")
    code, data, err = cli(capsys, "baseline", "plan", "sim-0003", *args)  # Lenovo: no way in its Redfish
    assert code == 3 and "cannot apply" in err and "dedicated spare" in err, err
    code, data, err = cli(capsys, "baseline", "apply", "sim-0003", *args, "--yes", "--allow-data-loss")
    assert code == 3 and data["items"][0]["result"] == "refused", err
    assert writes(requests(fleet4, "sim-0003")) == {}


def test_on_reset_controller_strip_size_and_disk_write_cache(
        fleet4: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A controller that applies volume operations only at the next reset (OperationApplyTimeSupport
    OnReset, as the Dell capture's AHCI controllers say): each create/delete is sent OnReset, the
    host is reset, the task then ends and the layout is verified. The template's strip size and
    disk write cache are applied and verified too."""
    fleet4.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "raid_onreset"})
    args = _raid_args(fleet4, tmp_path, monkeypatch, "strip-cache")
    (Path(args[3]) / "raid" / "strip-cache.yaml").write_text(
        "name: strip-cache\nclear_existing: true\ndisk_write_cache: disabled\nvirtual_disks:\n"
        "  - {name: OS, raid: RAID1, disks: [0, 1]}\n"
        "  - {name: DATA, raid: RAID10, disks: [2, 3, 4, 5], strip_size: 256KiB}\n")
    code, data, err = cli(capsys, "baseline", "plan", "sim-0001", *args)
    assert code == 1, err
    changes = {(c["action"], c["target"]): c for c in data["items"][0]["changes"]}
    assert changes[("delete", "DATA")]["reboot"] and changes[("create", "DATA")]["reboot"]
    assert "strip 262144 B" in changes[("create", "DATA")]["new"]
    assert ("disk-cache", "bay 0.write_cache") in changes
    code, data, err = cli(capsys, "baseline", "apply", "sim-0001", *args, "--yes", "--allow-data-loss")
    assert code == 0, err
    (kind,) = data["items"][0]["kinds"]
    assert kind["reboots"] == 2  # the delete and the create, each applied by a reset
    code, data, err = cli(capsys, "baseline", "verify", "sim-0001", *args)
    assert code == 0, err

    def read() -> tuple[int, list[bool]]:
        storage = fleet4.fleet.bmc(0).storage
        vol = next(v for v in storage.volumes if v.name == "DATA")
        return vol.strip_size, [storage.drives[b].write_cache for b in range(6)]
    strip, caches = fleet4.call(read)
    assert strip == 262144 and caches == [False] * 6
    # Sent without OnReset, such a controller refuses (the class of bug this guards).
    said = fleet4.call(lambda: _post_volume_without_apply_time(fleet4.fleet.bmc(0)))
    assert said == (400, "PropertyValueNotInList", ("Immediate", "@Redfish.OperationApplyTime")), said


def _post_volume_without_apply_time(bmc: object) -> tuple[int, str, tuple[str, ...]]:
    from dcops.sim.messages import RedfishError

    storage = bmc.storage  # type: ignore[attr-defined]
    free = [d.bay for d in storage.drives if storage.raid_status(d.bay) == "Ready"][:2]
    try:
        storage.create_volume({"RAIDType": "RAID1", "Links": {"Drives": [{"@odata.id": f"/x/{b}"} for b in free]},
                               "@Redfish.OperationApplyTime": "Immediate"}, {f"/x/{b}": b for b in free})
    except RedfishError as exc:
        return exc.status, *exc.messages[0]
    return 202, "", ()


def test_an_operation_staged_on_reset_by_a_killed_run_is_applied_not_sent_again(
        fleet4: ThreadedFleet, state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed after its DELETE went out OnReset (task Pending until a reset) and before the
    reset: the resumed apply resets first (the journal says so), sees the volume gone, and goes on
    without a second DELETE."""
    from dcops.baseline.apply import MemoryJournal, apply_raid
    from dcops.baseline.load import load_baselines
    from dcops.baseline.redfish import Pacing, open_target
    from dcops.inventory import load_inventory

    fleet4.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "raid_onreset"})
    inv = write_inventory(fleet4, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, [h.name for h in fleet4.fleet.hosts])
    template = load_baselines(base).raid["trading-db-r750"]
    host = next(h for h in load_inventory(inv).hosts if h.name == "sim-0001")
    target = open_target(host, Pacing(poll=0.05, settle=1.0))
    try:
        data = next(v for c in target.bmc.raid.controllers() for v in c.volumes if v.name == "DATA")
        # What the killed run did: the DELETE (OnReset), its intent journaled, no reset yet.
        target.bmc.raid.delete_volume(data.uri, wait=False, apply_time="OnReset")
        journal = MemoryJournal()
        journal.before("raid:delete:DATA", {"apply_time": "OnReset"})
        result = apply_raid(target, template, journal, allow_destructive=True)
    finally:
        target.close()
    log = requests(fleet4, "sim-0001")
    deletes = [r for r in log if r["method"] == "DELETE" and "/Volumes/" in r["path"] and r["status"] < 400]
    creates = [r for r in log if r["method"] == "POST" and r["path"].endswith("/Volumes") and r["status"] < 400]
    assert len(deletes) == 1 and len(creates) == 1, (deletes, creates)
    assert result.reboots == 2  # the staged DELETE's reset, then the CREATE's own
    assert [d["action"] for d in result.done][:1] == ["create"]
