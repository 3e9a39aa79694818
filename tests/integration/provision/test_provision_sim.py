"""`dcops provision` against the simulator with real post-install playbooks (ansible-runner and
ansible-core, `connection: local` into a temporary directory)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from dcops.store import audit, open_store
from tests.helpers.receivers import webhook
from tests.helpers.standins import Events, eapi_switch, production_listeners
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import (
    ROOT,
    cli,
    installs,
    requests,
    sim_baselines,
    write_inventory,
    writes,
)

pytestmark = pytest.mark.timeout(170)


def _ansible_args(tmp_path: Path) -> list[str]:
    return ["--playbooks", str(ROOT / "playbooks"), "--ansible-connection", "local",
            "--playbook-var", f"dcops_target_root={tmp_path}/hosts/{{{{ dcops_host }}}}",
            "--playbook-var", "dcops_patch_method=file", "--playbook-var", "dcops_agent_method=file",
            "--playbook-var", "dcops_network_activate=false"]


@pytest.fixture
def dell() -> Iterator[ThreadedFleet]:
    with ThreadedFleet(FleetSpec(hosts=2, profiles=("dell-r750",), timings=FAST, request_log=4096)) as sim:
        yield sim


@pytest.mark.slow
def test_provision_end_to_end_with_playbooks(dell: ThreadedFleet, state: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(dell, tmp_path / "inv.yaml", monkeypatch)
    events = Events()
    monkeypatch.setenv("DCOPS_TEST_SW_PW", "sw-secret")
    with eapi_switch(events, "sw-secret") as switch, production_listeners(["127.0.1.2"], events) as port, \
            webhook() as hook:
        base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], switch_api=switch.url, reach_port=port)
        args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05"]
        code, data, err = cli(capsys, "provision", "run", "sim-0001", *args, *_ansible_args(tmp_path), "--yes",
                              "--delivered-hook", f"{hook.url}/cmdb", "-v")
    assert code == 0, err
    assert [(i["host"], i["status"]) for i in data["items"]] == [("sim-0001", "delivered")]
    # The switch port went to the production VLAN (read back by the playbook), and only then was
    # the production address reached: nothing touched it before the gate.
    assert switch.ports["Ethernet1"]["mode"] == "access" and switch.ports["Ethernet1"]["accessVlanId"] == 120
    moved, reached = events.first("switch Ethernet1 vlan 120"), events.first("reached 127.0.1.2")
    assert moved is not None and reached is not None and moved < reached, events.items
    assert "sw-secret" not in err
    # The delivered hook got the host's facts for the CMDB.
    (path, facts), = hook.received
    assert path == "/cmdb" and facts["host"] == "sim-0001" and facts["address"] == "127.0.1.2"
    assert facts["serial"] and facts["host_keys"] and facts["host_keys"][0].startswith("ssh-ed25519 ")
    host_root = tmp_path / "hosts" / "sim-0001"
    ledger = (host_root / "var/lib/dcops/patches.ledger").read_text().split()
    assert ledger == ["KB-0001", "KB-0002", "KB-0003"]  # in order, verified by the playbook
    conn = (host_root / "etc/NetworkManager/system-connections/production.nmconnection").read_text()
    assert "address1=127.0.1.2/16,127.0.0.1" in conn
    answer = (tmp_path / "answers" / "sim-0001" / "ks.cfg").read_text()
    # The installer gets the provisioning address; the production one waits for the network step.
    assert "--ip=127.0.2.2 --netmask=255.255.0.0 --gateway=127.0.0.1" in answer
    # The installer ran from the virtual CD, read its answer image, called back and powered the
    # host off; the step then booted the installed system from disk.
    install = installs(dell, "sim-0001")
    assert install and install["image"] and install["finished"], install
    host = dell.control.get("/v1/hosts/sim-0001")
    assert host["power"] == "On" and host["last_boot"]["source"] != "Cd", host["last_boot"]
    counts = writes(requests(dell, "sim-0001"))
    assert counts == {"firmware_update": 7, "bios_stage": 1, "volume_delete": 1, "volume_create": 1,
                      "hotspare": 1, "media_insert": 2, "media_eject": 2}
    # Every step's before and after is in the audit log.
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        entries = audit.query(store, host="sim-0001", action="provision", limit=200)
    finally:
        store.close()
    done = {e.action for e in entries if e.result == "ok"}
    assert {f"provision.{s}" for s in ("discover", "accept", "pool", "firmware", "bios", "raid", "os-install",
                                       "post-install", "verify", "network", "delivered")} <= done
    bios = next(e for e in entries if e.action == "provision.bios" and e.result == "ok")
    # Post-install and the OS verification reached the host on its provisioning address.
    post = next(e for e in entries if e.action == "provision.post-install" and e.result == "ok")
    assert {p["address"] for p in post.after["playbooks"]} == {"127.0.2.2"}
    checked = next(e for e in entries if e.action == "provision.verify" and e.result == "ok")
    assert [p["drift"] for p in checked.after["os"]] == [[], [], []]
    assert any(c["target"] == "LogicalProc" and c["old"] == "Enabled" for c in bios.before)
    # `baseline verify --os` re-checks the delivered host's OS in check mode: compliant, then drift.
    verify_os = ["baseline", "verify", "sim-0001", "--os", "-i", str(inv), "--baselines", str(base),
                 *_ansible_args(tmp_path)]
    code, data, err = cli(capsys, *verify_os)
    assert code == 0, err
    assert data["items"][0]["result"] == "compliant"
    agent = tmp_path / "hosts" / "sim-0001" / "opt/dcops-agents/antivirus.version"
    agent.unlink()
    code, data, err = cli(capsys, *verify_os)
    assert code == 1 and data["items"][0]["result"] == "drift"
    assert 'agents.yml would still change "Install agents (file)"' in data["items"][0]["message"]
    # A delivered host is never provisioned again without --force.
    code, data, err = cli(capsys, "provision", "run", "sim-0001", *args, "--yes")
    assert code == 1 and "already delivered" in err
    code, data, _ = cli(capsys, "provision", "status", "-i", str(inv))
    assert {i["host"]: i["status"] for i in data["items"]} == {"sim-0001": "delivered"}


@pytest.mark.slow
def test_playbook_failure_stops_the_host_with_the_task_named(dell: ThreadedFleet, state: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(dell, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"])
    profile = base / "profiles" / "dell-r750.yaml"
    text = re.sub(r"playbooks:[^\n]*(\n  - .*)+", "playbooks: [patches.yml]", profile.read_text())
    profile.write_text(re.sub(r"network_playbook: .*", "", text))
    args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05", *_ansible_args(tmp_path)]
    broken = '[{"id": "KB-0001", "file": "KB-0001.patch"}, {"id": "KB-0099", "file": "KB-0099.patch"}]'
    code, data, err = cli(capsys, "provision", "run", "sim-0002", *args, "--yes", "--playbook-var",
                          f"dcops_patches={broken}")
    assert code == 5
    (item,) = data["items"]
    assert item["status"] == "failed" and item["step"] == "post-install"
    assert 'task "Apply patches in order (file)"' in item["message"] and "KB-0099" in item["message"]
    code, data, err = cli(capsys, "provision", "resume", "sim-0002", *args, "--yes")
    assert code == 1 and "retry post-install" in err
    code, data, err = cli(capsys, "provision", "retry", "post-install", "sim-0002", *args, "--yes")
    assert code == 0, err
    assert data["items"][0]["status"] == "delivered"
    counts = writes(requests(dell, "sim-0002"))
    assert counts["firmware_update"] == 7 and counts["bios_stage"] == 1 and counts["media_insert"] == 2


def test_until_pool_skip_and_abort(fleet4: ThreadedFleet, state: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(fleet4, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, [h.name for h in fleet4.fleet.hosts], playbooks=False)
    marks = ["-i", str(inv), "--baselines", str(base)]
    args = [*marks, "--poll", "0.05"]
    code, data, err = cli(capsys, "provision", "run", "sim-0003", "sim-0004", *args, "--yes", "--until", "pool")
    assert code == 0, err
    assert {i["status"] for i in data["items"]} == {"pending"}
    assert writes(requests(fleet4, "sim-0003")) == {}  # intake changes nothing on the server
    code, data, _ = cli(capsys, "provision", "plan", "sim-0003", *args)
    assert data["items"][0]["decision"] == "continue"
    assert data["items"][0]["work"] == "firmware,bios,raid,os-install,post-install,verify,network"
    code, data, err = cli(capsys, "provision", "skip", "network", "sim-0003", *marks)
    assert code == 2  # --reason is required
    code, data, err = cli(capsys, "provision", "skip", "network", "sim-0003", *marks,
                          "--reason", "rack switched by the network team, CHG-42")
    assert code == 0 and data["items"][0]["status"] == "skipped"
    code, data, _ = cli(capsys, "provision", "abort", "sim-0004", *marks, "--reason", "wrong rack")
    assert data["items"][0]["status"] == "aborted"
    # sim-0004 is the Supermicro: its profile's Non-RAID disks cannot be verified on it. Refused
    # before any change unless accepted.
    code, data, err = cli(capsys, "provision", "run", "sim-0004", *args, "--yes", "--until", "raid")
    assert code == 5 and "refused before any change" in err and "--allow-unverified" in err, err
    assert writes(requests(fleet4, "sim-0004")) == {}
    code, data, err = cli(capsys, "provision", "retry", "firmware", "sim-0004", *args, "--yes", "--allow-unverified")
    assert code == 0, err
    # Started over (after the abort) and on to the --until it was run with.
    assert data["items"][0]["status"] == "pending" and data["items"][0]["step"] == "raid"
    code, data, err = cli(capsys, "provision", "run", "sim-0003", *args, "--yes", "--until", "raid")
    assert code == 0, err
    assert data["items"][0]["status"] == "pending" and data["items"][0]["step"] == "raid"
    # Parked at its --until: resume leaves it; only run moves it on.
    code, data, err = cli(capsys, "provision", "resume", "sim-0003", *args, "--yes")
    assert code == 0, err
    assert data["items"][0]["status"] == "nothing" and "parked after raid" in data["items"][0]["message"]
    code, data, err = cli(capsys, "provision", "run", "sim-0003", *args, "--yes")
    assert code == 0, err
    assert data["items"][0]["status"] == "delivered"
    code, data, _ = cli(capsys, "provision", "status", "sim-0003", "-i", str(inv), "--steps")
    steps = {s["step"]: s["status"] for s in data["items"][0]["steps"]}
    assert steps["network"] == "skipped" and steps["verify"] == "done"
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        checked = audit.verify(store)
    finally:
        store.close()
    # Every step started has its outcome, across --until stops, skip, abort and resume.
    assert checked.intact and checked.unfinished == [], [(e.action, e.host) for e in checked.unfinished]


@pytest.mark.slow
def test_a_host_that_drifts_after_post_install_is_not_delivered(dell: ThreadedFleet, state: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Verification re-runs the post-install playbooks in check mode: a setting changed after them
    (here the SSH configuration) is drift, and the host stops at verify, never reaching the
    production network or the delivered hook."""
    inv = write_inventory(dell, tmp_path / "inv.yaml", monkeypatch)
    events = Events()
    with production_listeners(["127.0.1.3"], events) as port, webhook() as hook:
        base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], reach_port=port)
        args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05", *_ansible_args(tmp_path),
                "--delivered-hook", hook.url]
        code, data, err = cli(capsys, "provision", "run", "sim-0002", *args, "--until", "post-install", "--yes")
        assert code == 0, err
        sshd = tmp_path / "hosts" / "sim-0002" / "etc/ssh/sshd_config.d/90-dcops.conf"
        sshd.write_text(sshd.read_text().replace("PermitRootLogin no", "PermitRootLogin yes"))
        code, data, err = cli(capsys, "provision", "run", "sim-0002", *args, "--yes")
        assert code == 5, err
        (item,) = data["items"]
        assert item["status"] == "failed" and item["step"] == "verify"
        assert 'security-baseline.yml would still change "SSH - keys only, no root login"' in item["message"]
        assert 'task "Verify the security baseline"' in item["message"]  # and its read-back fails
        assert hook.received == [] and events.items == []  # not handed over, production untouched



def test_preflight_refuses_before_the_firmware_is_touched(dell: ThreadedFleet, state: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A RAID template that cannot apply (the existing DATA volume is in the way and the template
    may not delete it) stops the host at its first writing step, before any firmware is flashed."""
    inv = write_inventory(dell, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    raid = base / "raid" / "trading-db-r750.yaml"
    raid.write_text(raid.read_text().replace("clear_existing: true", "clear_existing: false"))
    args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05"]
    code, data, err = cli(capsys, "provision", "run", "sim-0001", *args, "--yes")
    assert code == 5, err
    (item,) = data["items"]
    assert item["status"] == "failed" and item["step"] == "firmware", item
    assert "refused before any change" in item["message"] and "clear_existing" in item["message"]
    assert writes(requests(dell, "sim-0001")) == {}
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        (entry,) = [e for e in audit.query(store, host="sim-0001", action="provision.firmware")
                    if e.result != "started"]
    finally:
        store.close()
    assert entry.result == "failed" and entry.before is None and entry.after["refused"]


def test_a_step_failing_half_way_audits_every_write(dell: ThreadedFleet, state: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(dell, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05"]
    # The BMC accepts LogicalProc and drops it at POST; the other attributes apply.
    dell.control.post("/v1/faults", {"hosts": ["sim-0001"], "kind": "bios_refuse",
                                     "args": {"attribute": "LogicalProc"}})
    code, data, err = cli(capsys, "provision", "run", "sim-0001", *args, "--yes", "--until", "bios")
    assert code == 5, err
    assert data["items"][0]["step"] == "bios"
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        (entry,) = [e for e in audit.query(store, host="sim-0001", action="provision.bios")
                    if e.result not in ("started",)]
    finally:
        store.close()
    assert entry.result == "partial"
    assert {"target": "ProcCStates", "action": "set", "old": "Enabled"} in entry.before
    assert {"target": "ProcCStates", "action": "set", "old": "Enabled", "new": "Disabled"} in entry.after["applied"]
    assert entry.after["remaining"] == ["set LogicalProc"]


def test_secure_erase_is_opt_in_and_audited(dell: ThreadedFleet, state: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    inv = write_inventory(dell, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    args = ["-i", str(inv), "--baselines", str(base), "--poll", "0.05", "--until", "raid", "--yes"]

    def erased(index: int) -> tuple[list[int], list[list[str]]]:
        storage = dell.fleet.bmc(index).storage
        return [d.erased for d in storage.drives], [list(v.initialized) for v in storage.volumes]

    before = dell.call(lambda: erased(0))
    code, data, err = cli(capsys, "provision", "run", "sim-0001", *args, "--secure-erase")
    assert code == 0, err
    code, data, err = cli(capsys, "provision", "run", "sim-0002", *args)
    assert code == 0, err
    # sim-0001: its two volumes (OS, DATA) initialized Slow before the template (every drive is in
    # a volume or a spare: none to secure-erase). sim-0002 (no --secure-erase): nothing erased.
    assert before == ([0] * 8, [[], []])
    assert dell.call(lambda: erased(0))[1][0] == ["Slow"]  # OS is kept by the template: initialized
    log = requests(dell, "sim-0001")
    inits = [r for r in log if r["method"] == "POST" and r["path"].endswith("Volume.Initialize")]
    assert len(inits) == 2 and all(r["status"] == 202 for r in inits)
    assert not [r for r in requests(dell, "sim-0002") if "Initialize" in r["path"] or "SecureErase" in r["path"]]
    store = open_store(f"sqlite:///{state}/state.db")
    try:
        (entry,) = [e for e in audit.query(store, host="sim-0001", action="provision.raid") if e.result == "ok"]
    finally:
        store.close()
    assert [w["action"] for w in entry.after["erased"]] == ["initialize", "initialize"]
