"""Collecting each vendor capture (tests/fixtures/redfish/*.tar.gz), replayed by `dcops sim` on
loopback, yields the parts the capture holds, with serials and models, including the mainboard
where the capture has one. The expected values were read from the capture files by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dcops.assets.collect import collect_fleet, collect_one
from dcops.assets.model import AssetSnapshot, PartKind
from dcops.models import BmcEndpoint, Host, Protocol
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"

# capture: identity (manufacturer, model, serial the book would carry), part counts (chassis and
# BMC left out), mainboard (serial, model) or None, BMC placement, one DIMM and one drive
# (slot, serial, part number / model) or None, firmware entries.
EXPECTED: dict[str, dict[str, Any]] = {
    "dell-poweredge-r750-idrac9-6.00": {
        "identity": ["Dell Inc.", "PowerEdge R750", "F54P1G3"],
        "counts": {"cpu": 2, "dimm": 16, "drive": 3, "gpu": 1, "mainboard": 1, "nic": 4, "psu": 2,
                   "storage_controller": 2},
        "mainboard": [None, "SystemPlanar"], "placement": None,
        "dimm": ["System.Embedded.1/DIMM.Socket.B1", "2E67A144", "18ASF4G72PDZ-3G2E1"],
        "drive": ["Enclosure.Internal.0-1/Disk.Bay.2:Enclosure.Internal.0-1", "61P0A06CTCD8",
                  "Dell Ent NVMe CM6 RI 1.92TB"]},
    "dmtf-public-bladed": {
        # Four blades, four systems: the host is Blade1's (chosen by evidence, ties to the lowest Id).
        "identity": ["Contoso", "SX1000", "529QB9450R6"], "counts": {"cpu": 1, "psu": 2},
        "mainboard": None, "placement": "WEB43 U12", "dimm": None, "drive": None},
    "dmtf-public-liquid-cooled-server": {
        "identity": ["Contoso", "3500", "437XR1138R2"], "counts": {"accelerator": 1, "cpu": 1, "dimm": 3, "psu": 1},
        "mainboard": None, "placement": "WEB43 U12", "dimm": None, "drive": None},
    "dmtf-public-localstorage": {
        "identity": ["Contoso", "3500RX", "437XR1138R2"],
        "counts": {"cpu": 1, "dimm": 3, "drive": 4, "psu": 1, "storage_controller": 1},
        "mainboard": None, "placement": None, "dimm": None,
        "drive": ["1U/Drive Sample#35D38F11ACEF7BD3", "1234567", "C123"]},
    "dmtf-public-rackmount1": {
        "identity": ["Contoso", "3500", "437XR1138R2"], "counts": {"accelerator": 1, "cpu": 1, "dimm": 3, "psu": 1},
        "mainboard": None, "placement": "Onsite-Main/35/WEB43 U12", "dimm": None, "drive": None},
    "dmtf-public-smartnic": {
        "identity": ["Contoso", "3500", "437XR1138R2"],
        # The SmartNIC's SoC (a DPU system) is an accelerator of the host, its DRAM not a DIMM.
        "counts": {"accelerator": 1, "cpu": 1, "dimm": 3, "drive": 1, "nic": 1, "psu": 1, "storage_controller": 1},
        "mainboard": None, "placement": "WEB43 U12", "dimm": None,
        "drive": ["Card1/Local SATA drive", "72D0A037FRD26", "ST9146802SS"]},
    "dmtf-public-tower": {
        "identity": ["Contoso", "3500", "437XR1238R2"],
        "counts": {"cpu": 8, "dimm": 8, "drive": 10, "gpu": 2, "nic": 1, "psu": 2, "storage_controller": 5},
        "mainboard": None, "placement": None, "dimm": None, "drive": None},
    "gigabyte-h262-z63-ami": {
        "identity": ["GIGABYTE", "H262-Z63-00", "GJG9NF512A000302"],
        "counts": {"cpu": 2, "dimm": 16, "drive": 1, "mainboard": 1, "psu": 2},
        "mainboard": ["JG8NG900142", None], "placement": None,
        "dimm": ["Self/DIMM_P0_A0", "12BBD2FD", "M393A2K43DB2-CWE"],
        "drive": ["Self/SAMSUNG MZ7LH1T9HMLT-00005", "S455NY0M831393", "SAMSUNG MZ7LH1T9HMLT-00005"]},
    "hpe-cray-ex425": {
        # Two nodes behind one BMC: Node0 is the host unless the book pins Node1 (bmc.system).
        "identity": ["HPE", "HPE CRAY EX425 (MILAN)", "HA19340017"], "counts": {"cpu": 2, "dimm": 16, "nic": 1},
        "mainboard": None, "placement": None, "dimm": ["Node0/DIMM 1", "53393FF2", "HMA82GR7CJR8N-XN"],
        "drive": None},
    "hpe-proliant-dl360-gen10plus-ilo5-3.11": {
        "identity": ["HPE", "ProLiant DL360 Gen10 Plus - SIMULATED", "MXQ2390RHW"],
        "counts": {"cpu": 2, "dimm": 12, "drive": 2, "nic": 1, "psu": 2, "storage_controller": 1},
        "mainboard": None, "placement": None, "dimm": ["1/PROC 1 DIMM 1", "14D4DE03", "M393A2K43DB3-CWE"],
        "drive": ["DE00A000/Slot=12:Port=2I:Box=1:Bay=1", "S521NA0T605357", "MK000480GWSSC"]},
    "hpe-proliant-dl380a-gen11-ilo6-1.66": {
        "identity": ["HPE", "ProLiant DL380a Gen11 -- SIMULATED", "2M2D2J00L4"],
        "counts": {"cpu": 2, "dimm": 16, "drive": 7, "gpu": 2, "nic": 1, "psu": 4, "storage_controller": 2},
        "mainboard": None, "placement": None, "dimm": ["1/PROC 1 DIMM 1", "524AA715", "M321R4GA3EB0-CWMXJ"],
        "drive": ["DE00A000/Slot=17:Port=2:Box=1:Bay=4", "S70XNN0XC13973", "MO006400KYDND"]},
    "huawei-2288h-v5-ibmc-3.12-partial": {
        "identity": ["Huawei", "2288H V5", "2102311TYBN0J3000293"], "counts": {"drive": 10, "storage_controller": 1},
        "mainboard": None, "placement": None, "dimm": None, "drive": ["1/Disk0", "38DGK77LF77D", None]},
    "lenovo-thinksystem-sr670v2-xcc-2.83": {
        "identity": ["Lenovo", "ThinkSystem SR670 V2", "J105958B"],
        "counts": {"cpu": 2, "dimm": 16, "drive": 4, "gpu": 8, "mainboard": 1, "nic": 2, "psu": 4,
                   "storage_controller": 2},
        "mainboard": ["C1KS36R003P", None], "placement": None,
        "dimm": ["1/DIMM 1", "802C0F2323410FE42B", "36ASF8G72PZ-3G2F1"],
        "drive": ["1/M.2 - Drive0", "233442ABA3AB", "Micron_7450_MTFDKBA960TFR"]},
    "nvidia-gb200-nvl": {
        # System_0 is the host (HGX_Baseboard_0 has no Reset/Boot); its identity is its tray's
        # (Chassis_0); each E1.S drive is listed by the system and the backplane: one part.
        "identity": ["NVIDIA", "GB200 NVL", "1333024020524"],
        "counts": {"cpu": 2, "dimm": 2, "drive": 9, "gpu": 4, "nic": 6, "storage_controller": 9},
        "mainboard": None, "placement": None,
        "dimm": ["BMC_0/LP5x_0 LP5x_0", "9223382488031113395", "699-2G548-0201-TS3"],
        "drive": ["StorageBackplane_0/NVMe E1.S Slot 0", "S6RMNG0X506940", "SAMSUNG MZTL23T8HCLS-00A07"]},
    "supermicro-sys-821ge-tnhr-x13": {
        "identity": ["Supermicro", "SYS-821GE-TNHR", "S889914X3710910"],
        "counts": {"cpu": 2, "dimm": 32, "drive": 8, "mainboard": 1, "nic": 10, "psu": 8, "storage_controller": 1},
        "mainboard": ["OM234S005959", "X13DEG-OAD"], "placement": None,
        "dimm": ["1/P1-DIMMA1", "80CE012314049467FF", "M321R8GA0BB0-CQKZJ"],
        "drive": ["1/Disk.Bay.0", "S6CKNN0W502286", "MZQL27T6HBLA-00A07"]},
}
CAPTURES = sorted(p.name[: -len(".tar.gz")] for p in FIXTURES.glob("*.tar.gz"))
PASSWORD_ENV = "DCOPS_TEST_ASSETS_BMC_PW"


@pytest.fixture(scope="module")
def replay() -> Iterator[ThreadedFleet]:
    spec = FleetSpec(hosts=0, mockups=tuple(str(FIXTURES / f"{name}.tar.gz") for name in CAPTURES))
    with ThreadedFleet(spec, control=False) as sim:
        yield sim


def _hosts(sim: ThreadedFleet) -> list[Host]:
    return [Host(name=name, bmc=BmcEndpoint(address="127.0.0.1", port=replay.port, scheme="http",
                                            protocol=Protocol.REDFISH, username=sim.username,
                                            password_ref=f"env:{PASSWORD_ENV}"))
            for name, replay in zip(CAPTURES, sim.fleet.replays, strict=True)]


def test_every_capture_has_a_row() -> None:
    assert sorted(EXPECTED) == CAPTURES


def _check(name: str, snap: AssetSnapshot) -> None:
    want = EXPECTED[name]
    assert [snap.manufacturer, snap.model, snap.serials().get("service_tag") or snap.serial] == want["identity"]
    counts = Counter(p.kind.value for p in snap.parts if p.kind not in (PartKind.CHASSIS, PartKind.BMC))
    assert dict(counts) == want["counts"]
    board = snap.of_kind(PartKind.MAINBOARD)
    assert ([board[0].serial, board[0].model] if board else None) == want["mainboard"]
    assert snap.board_serial == (want["mainboard"][0] if want["mainboard"] else None)
    assert (str(snap.placement) if snap.placement else None) == want["placement"]
    for kind in ("dimm", "drive"):
        if want[kind] is None:
            continue
        slot, serial, model = want[kind]
        found = [p for p in snap.parts if p.kind.value == kind and p.slot == slot]
        assert found, f"no {kind} in {slot}: {[p.slot for p in snap.parts if p.kind.value == kind]}"
        assert found[0].serial == serial
        assert (found[0].model or found[0].part_number) == model
    # Every part has a slot of its own: history compares slot by slot. (Serials need not be unique:
    # the DMTF tower mockup gives two storage controllers one serial.)
    slots = [(p.kind, p.slot) for p in snap.parts]
    assert all(p.slot for p in snap.parts) and len(slots) == len(set(slots))


def test_collect_every_capture_over_asyncio(replay: ThreadedFleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, replay.password)
    outcomes = collect_fleet(_hosts(replay), concurrency=20, deadline=60)
    errors = {o.host: o.error for o in outcomes if o.error}
    assert not errors
    for outcome in outcomes:
        assert outcome.snapshot is not None
        _check(outcome.host, outcome.snapshot)


@pytest.mark.parametrize("name", ["dell-poweredge-r750-idrac9-6.00", "supermicro-sys-821ge-tnhr-x13"])
def test_collect_one_over_the_sync_connector_reads_the_same(replay: ThreadedFleet, monkeypatch: pytest.MonkeyPatch,
                                                            name: str) -> None:
    monkeypatch.setenv(PASSWORD_ENV, replay.password)
    host = next(h for h in _hosts(replay) if h.name == name)
    _check(name, collect_one(host))


def test_unreachable_bmc_is_an_outcome_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(PASSWORD_ENV, "x")
    host = Host(name="dark", bmc=BmcEndpoint(address="127.0.0.1", port=port, scheme="http",
                                             protocol=Protocol.REDFISH, username="u",
                                             password_ref=f"env:{PASSWORD_ENV}"))
    [outcome] = collect_fleet([host], deadline=10)
    assert outcome.snapshot is None and outcome.error and "dark" in outcome.error
