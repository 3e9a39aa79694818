"""The capacity check against a real Placement and recorded Nova answers, read through
openstacksdk exactly as in production (tests/integration/capacity/lab.py describes the cloud)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcops.capacity.check import check_capacity
from dcops.capacity.errors import CloudConfigError, CloudUnreachableError
from dcops.capacity.model import NodeState
from dcops.capacity.openstack_source import CloudOptions, fetch_snapshot
from dcops.capacity.policy import build_policy
from dcops.capacity.racks import assign_racks
from dcops.cli.main import main
from dcops.models import BmcEndpoint, Host, Location
from dcops.secrets import Secret
from tests.integration.capacity.lab import Lab
from tests.integration.capacity.nova_replay import NovaReplay
from tests.integration.capacity.placement_server import PlacementServer

pytestmark = pytest.mark.timeout(120)
TOKEN = "admin"  # what Placement's noauth2 accepts as an admin token


def options(placement: PlacementServer, nova: NovaReplay, **kw: object) -> CloudOptions:
    return CloudOptions(placement_url=placement.url, compute_url=nova.compute_url, token=Secret(TOKEN),
                        timeout=60, **kw)  # type: ignore[arg-type]


def book(lab: Lab) -> list[Host]:
    """The inventory of the lab: every host but the one nobody entered (cmp-c09-01)."""
    return [Host(name=h.name, bmc=BmcEndpoint(address=h.ip), location=Location(site="lab", rack=h.rack), az=h.az)
            for h in lab.hosts if h.rack is not None]


def inventory_yaml(lab: Lab) -> str:
    racks: dict[str, list[str]] = {}
    for h in lab.hosts:
        if h.rack is not None:
            racks.setdefault(h.rack, []).append(
                f"              - {{name: {h.name}, u: {len(racks[h.rack]) + 1 if h.rack in racks else 1}, "
                f"az: {h.az}, bmc: {{address: 10.40.{len(racks)}.{len(racks[h.rack]) + 10}}}}}")
    lines = ["version: 1", "defaults:", "  bmc: {protocol: redfish, username: root, password: env:BMC_PW}",
             "sites:", "  - name: lab", "    rooms:", "      - name: r1", "        racks:"]
    for rack, hosts in racks.items():
        lines += [f"          - name: {rack}", "            hosts:", *hosts]
    return "\n".join(lines) + "\n"


def test_snapshot_through_openstacksdk(placement: PlacementServer, nova: NovaReplay, lab_cloud: Lab) -> None:
    snap = fetch_snapshot(options(placement, nova))
    assert snap.incomplete == () and snap.problems == ()
    assert snap.azs == ("az1", "az2", "az3")
    by_name = {n.name: n for n in snap.nodes}
    assert sorted(by_name) == sorted(h.name for h in lab_cloud.hosts)
    for host in lab_cloud.hosts:
        node = by_name[host.name]
        assert node.az == host.az and node.provider == host.uuid and node.hypervisor == host.hypervisor
        for rc, (total, reserved, ratio) in host.inventories.items():
            res = node.resources[rc]
            assert (res.total, res.reserved, float(res.allocation_ratio), res.used) == \
                (total, reserved, ratio, host.usage[rc])
    # disabled hosts are missing from Nova's AZ listing; their service still places them
    assert by_name["cmp-c01-03"].state is NodeState.DISABLED
    assert by_name["cmp-c01-03"].reason == "maintenance: DIMM B2 replacement CHG0042117"
    assert by_name["cmp-c02-02"].state is NodeState.DOWN
    # openstacksdk negotiated microversions with the recorded version document
    versions = {path.split("?")[0]: v for _, path, v in nova.requests}
    assert versions["/v2.1/os-hypervisors/detail"] == "compute 2.88"


def test_lab_cloud_verdicts(placement: PlacementServer, nova: NovaReplay, lab_cloud: Lab) -> None:
    snap = assign_racks(fetch_snapshot(options(placement, nova)), book(lab_cloud))
    result = check_capacity(snap, build_policy())
    azs = {az.az: az for az in result.azs}

    az1 = {c.resource_class: c for c in azs["az1"].classes}
    assert azs["az1"].policy_met
    memory = az1["MEMORY_MB"]
    # the rule: 12 identical nodes at p = 0.6 under q = 0.8 tolerate exactly 3
    assert (memory.usage_ratio, memory.seed_nodes, memory.tolerated_failures) == (0.6, 3, 3)
    assert memory.worst_rack is not None and memory.worst_rack.margin == 0 and memory.worst_rack.survivable
    assert azs["az1"].binding_class == "MEMORY_MB"

    az2 = azs["az2"]
    assert not az2.policy_met
    memory = next(c for c in az2.classes if c.resource_class == "MEMORY_MB")
    assert memory.tolerated_failures == 0 and memory.seed_nodes == 1
    assert memory.next_failure is not None and memory.next_failure.nodes == ["cmp-b03-01"]
    assert memory.worst_rack is not None and memory.worst_rack.rack == "B03"
    assert az2.reason is not None and az2.reason.startswith(
        "az2: losing rack B03 (1 node, 60.0 GiB allocated) leaves 20.0 GiB of room under q=0.8 (MEMORY_MB")

    az3 = azs["az3"]
    assert not az3.policy_met and az3.binding_class == "VCPU"
    assert [(u.name, u.state) for u in az3.unavailable] == [("cmp-c01-03", "disabled"), ("cmp-c02-02", "down")]
    assert az3.unmapped == ["cmp-c09-01"]
    vcpu = next(c for c in az3.classes if c.resource_class == "VCPU")
    assert (vcpu.nodes, vcpu.unavailable, vcpu.budget, vcpu.tolerated_failures) == (4, 2, 29.0, 0)
    assert any("cmp-c09-01" in p for p in result.problems)


def test_cli_live_check_then_snapshot_reproduces_it(placement: PlacementServer, nova: NovaReplay, lab_cloud: Lab,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    (tmp_path / "site.yaml").write_text(inventory_yaml(lab_cloud))
    cloud = ["--placement-url", placement.url, "--compute-url", nova.compute_url, "--token", "env:LAB_TOKEN"]
    code = main(["capacity", "check", *cloud, "-i", "site.yaml", "-o", "json"])
    live, err = capsys.readouterr()
    assert code == 1
    assert "az2: losing rack B03" in err and "az3:" in err and "cmp-c09-01" in err
    code = main(["capacity", "snapshot", *cloud, "-i", "site.yaml", "-o", "snap.json"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "wrote snap.json: 21 compute nodes in 3 AZ(s)" in err
    code = main(["capacity", "check", "--from-file", "snap.json", "-o", "json"])
    offline, _ = capsys.readouterr()
    assert code == 1
    assert json.loads(offline)["items"] == json.loads(live)["items"]
    assert json.loads(offline)["summary"]["by_az"] == json.loads(live)["summary"]["by_az"]


def test_clouds_yaml(placement: PlacementServer, nova: NovaReplay, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  lab:\n    auth_type: admin_token\n"
        f"    auth: {{endpoint: '{placement.url}', token: '{TOKEN}'}}\n"
        f"    placement_endpoint_override: '{placement.url}'\n"
        f"    compute_endpoint_override: '{nova.compute_url}'\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    snap = fetch_snapshot(CloudOptions(cloud="lab", timeout=60))
    assert len(snap.nodes) == 21 and snap.source == {"cloud": "lab"}
    with pytest.raises(CloudConfigError, match="cloud configuration"):
        fetch_snapshot(CloudOptions(cloud="nowhere"))


def test_nova_errors_are_translated(placement: PlacementServer, nova: NovaReplay) -> None:
    nova.fail["/v2.1/os-aggregates"] = 500
    with pytest.raises(CloudUnreachableError, match=r"Nova os-aggregates: HTTP 500") as info:
        fetch_snapshot(options(placement, nova))
    assert info.value.exit_code == 4
    nova.fail = {"/v2.1/os-services": 401}
    with pytest.raises(CloudUnreachableError, match=r"Nova os-services: credentials refused") as info:
        fetch_snapshot(options(placement, nova))
    assert TOKEN not in str(info.value).replace("admin_token", "")


def test_unreachable_placement(nova: NovaReplay) -> None:
    from tests.integration.capacity.placement_server import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CloudUnreachableError, match="Placement resource providers: cannot connect"):
        fetch_snapshot(CloudOptions(placement_url=dead, compute_url=nova.compute_url, token=Secret(TOKEN), timeout=5))


def test_hypervisor_without_provider_is_incomplete(placement: PlacementServer, nova: NovaReplay,
                                                   lab_cloud: Lab, tmp_path: Path) -> None:
    """A hypervisor Placement does not know (here: recorded Nova answers with one more host)."""
    directory = tmp_path / "nova"
    directory.mkdir()
    for item in nova.directory.iterdir():
        (directory / item.name).write_text(item.read_text())
    hypervisors = json.loads((directory / "os-hypervisors-detail.json").read_text())
    extra = dict(hypervisors["hypervisors"][0], id="0b3c0f5e-5d7a-4a6e-9c1e-000000000099",
                 hypervisor_hostname="cmp-a09-01.lab.example.net",
                 service={"host": "cmp-a09-01", "id": "x", "disabled_reason": None})
    hypervisors["hypervisors"].append(extra)
    (directory / "os-hypervisors-detail.json").write_text(json.dumps(hypervisors))
    services = json.loads((directory / "os-services.json").read_text())
    services["services"].append(dict(services["services"][-1], host="cmp-a09-01", zone="az1", id="y"))
    (directory / "os-services.json").write_text(json.dumps(services))
    replay = NovaReplay(directory).start()
    try:
        snap = fetch_snapshot(options(placement, replay))
    finally:
        replay.stop()
    assert len(snap.nodes) == 21
    assert snap.incomplete and "cmp-a09-01 (az1)" in snap.incomplete[0]
