"""Table-driven tests of the pure baseline core: version rules, BIOS and RAID diffs, invalid
baseline files (tests/cases/baseline/*.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.baseline.diff import diff_bios, diff_raid
from dcops.baseline.load import load_baselines
from dcops.baseline.models import (
    BiosBaseline,
    Change,
    DiskState,
    RaidTemplate,
    ReadPolicy,
    VirtualDisk,
    WritePolicy,
)
from dcops.baseline.state import BiosState, ControllerState, DriveState, RegistryAttribute, VolumeState
from dcops.baseline.versions import satisfies
from dcops.errors import InvalidInputError

CASES = Path(__file__).resolve().parents[2] / "cases" / "baseline"


def cases(name: str) -> list[Any]:
    data = yaml.safe_load((CASES / name).read_text())
    return [pytest.param(c, id=c.get("name") or f"{c.get('current')}-{c.get('wanted')}-{c.get('rule')}")
            for c in data]


@pytest.mark.parametrize("case", cases("versions.yaml"))
def test_versions(case: dict[str, Any]) -> None:
    ok, _ = satisfies(case["current"], str(case["wanted"]), case["rule"])
    assert ok is case["ok"]


def _show(change: Change) -> str:
    old = "" if change.old is None else str(change.old)
    text = f"{change.action} {change.target} {old}->{change.new}"
    return text + (" !" if change.reboot else "")


@pytest.mark.parametrize("case", cases("diff_bios.yaml"))
def test_diff_bios(case: dict[str, Any]) -> None:
    registry = None
    if "registry" in case:
        registry = {name: RegistryAttribute(name, spec["type"], tuple(spec.get("values", ())), spec.get("lower"),
                                            spec.get("upper"), spec.get("max_length"), spec.get("read_only", False),
                                            spec.get("reset_required", True))
                    for name, spec in case["registry"].items()}
    baseline = BiosBaseline("b", case["baseline"], case.get("by_vendor", {}))
    state = BiosState(case["current"], case.get("pending", {}), registry)
    changes, problems = diff_bios(baseline, case.get("vendor", "dell"), state)
    assert [_show(c) for c in changes] == case["changes"]
    expected = case.get("problems", [])
    assert len(problems) == len(expected), problems
    for want, got in zip(sorted(expected), sorted(problems), strict=True):
        assert want in got


def _template(spec: dict[str, Any]) -> RaidTemplate:
    vds = []
    for vd in spec.get("virtual_disks", []):
        disks = vd["disks"]
        bays = tuple(range(disks["first"], disks["last"] + 1)) if isinstance(disks, dict) else tuple(disks)
        vds.append(VirtualDisk(vd["name"], vd["raid"], bays, None,
                               ReadPolicy(vd["read_policy"]) if "read_policy" in vd else None,
                               WritePolicy(vd["write_policy"]) if "write_policy" in vd else None,
                               vd.get("os", False), tuple(vd.get("dedicated_spares", ()))))
    return RaidTemplate("t", tuple(vds), tuple(spec.get("global_spares", ())), None, spec.get("clear_existing", False),
                        DiskState(spec["unused_disks"]) if "unused_disks" in spec else None,
                        {int(b): DiskState(v) for b, v in spec.get("disk_states", {}).items()})


def _controller(drives: dict[int, list[Any]], volumes: list[list[Any]],
                spare_binding: str | None = "dmtf", passthrough: str | None = None) -> ControllerState:
    ds = []
    for bay, spec in drives.items():
        media = spec[0]
        hotspare = spec[1] if len(spec) > 1 else "none"
        state = spec[2] if len(spec) > 2 else None
        failed = len(spec) > 3 and spec[3] == "failed"
        ds.append(DriveState(f"d{bay}", bay, f"/d/{bay}", media=media, hotspare=hotspare, state=state, failed=failed))
    vs = []
    for n, vol in enumerate(volumes):
        policies = vol[3] if len(vol) > 3 else {}
        spares = policies.get("spares")  # given: the BMC reports Links.DedicatedSpareDrives
        vs.append(VolumeState(f"v{n}", f"/v/{n}", vol[0], vol[1], None, tuple(f"d{b}" for b in vol[2]),
                              policies.get("read"), policies.get("write"),
                              tuple(f"d{b}" for b in spares or ()), spares_reported=spares is not None))
    return ControllerState("c0", "/c0", "PERC", "/c0/Volumes", tuple(ds), tuple(vs), spare_binding=spare_binding,
                           passthrough_mode=passthrough)


@pytest.mark.parametrize("case", cases("diff_raid.yaml"))
def test_diff_raid(case: dict[str, Any]) -> None:
    changes, problems, unverified = diff_raid(_template(case["template"]),
                                              [_controller(case["drives"], case["volumes"],
                                                           case.get("spare_binding", "dmtf"),
                                                           case.get("passthrough"))])
    shown = []
    for c in changes:
        if c.action in ("create", "delete"):
            shown.append(f"{c.action} {c.target}" + (" destructive" if c.destructive else ""))
        else:
            shown.append(f"{c.action} {c.target} {c.old}->{c.new}")
    assert shown == case["changes"]
    for want in case.get("problems", []):
        assert any(want in p for p in problems), problems
    assert len(problems) == len(case.get("problems", []))
    for want in case.get("unverified", []):
        assert any(want in u for u in unverified), unverified
    assert len(unverified) == len(case.get("unverified", []))


@pytest.mark.parametrize("case", cases("invalid-baselines.yaml"))
def test_invalid_baselines_name_file_and_line(case: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "baselines"
    for rel, text in case["files"].items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    with pytest.raises(InvalidInputError) as info:
        load_baselines(root)
    got = [str(p).replace(f"{root}/", "") for p in info.value.problems]
    for want in case["problems"]:
        assert any(g.startswith(want) or want in g for g in got), f"{want!r} not in {got}"
    assert len(got) == len(case["problems"]), got


def test_shipped_baselines_are_valid() -> None:
    root = Path(__file__).resolve().parents[3]
    b = load_baselines(root / "baselines", playbooks_dir=root / "playbooks")
    assert {"dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13"} <= set(b.profiles)
    assert {"low-latency-trading", "virtualization-host", "big-data-node"} <= set(b.bios)
    assert b.raid["trading-db-r750"].os_disk is not None
    assert b.os["rhel9-trading"].network["trade-db-01"].ip == "198.51.100.11"


def test_raid_plans_are_replayed_before_anything_is_sent() -> None:
    """The order that broke on real controllers (a volume created on Non-RAID drives before they
    were converted; a spare bound to a volume not created yet) is refused by the replay."""
    from dcops.baseline.raidsim import check_raid_plan

    template = _template({"virtual_disks": [{"name": "DATA", "raid": "RAID1", "disks": [0, 1],
                                             "dedicated_spares": [2]}]})
    ctrl = _controller({0: ["HDD", "none", "non-raid"], 1: ["HDD", "none", "non-raid"], 2: ["HDD", "none", "ready"]},
                       [])
    changes, problems, _ = diff_raid(template, [ctrl])
    assert not problems and [c.action for c in changes] == ["convert", "convert", "create", "spare"]
    wrong = [changes[2], changes[0], changes[1], changes[3]]  # create before the conversions
    (why,) = check_raid_plan(template, ctrl, wrong)
    assert "step 1 of 4" in why and "Non-RAID" in why
    early_spare = [changes[3], *changes[:3]]  # the spare bound before its volume exists
    (why,) = check_raid_plan(template, ctrl, early_spare)
    assert "does not exist" in why
    assert check_raid_plan(template, ctrl, changes[:3]) == ["after the plan, bay 2 is not a dedicated spare of DATA"]
