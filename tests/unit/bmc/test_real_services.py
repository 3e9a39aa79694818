"""How dcops reads real Redfish services (issue 12), class by class, on the real captures where
one shows the trait and on small hand-made documents where none does. Paging has its own file
(test_paging.py); the patrol round over every capture is in tests/integration/patrol.

Real captures used: NVIDIA GB200 NVL (OpenBMC GB200Nvl-24.12-8: GPU baseboard as a second
system, drives listed twice, GPU DRAM, a Critical leak detector), HPE Cray EX425 (two nodes
behind one BMC, error bodies served as documents, energy counters), DMTF public-smartnic (a
DPU system beside the host)."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
from dcops.bmc.redfish.docs import Reader, normalize, run_sync
from dcops.bmc.redfish.drivers import redfish_bmc
from dcops.bmc.redfish.read import read_health, read_observation
from dcops.bmc.redfish.systems import choose
from dcops.models import BmcEndpoint
from dcops.observation import ComponentKind, Health, Observation, PowerState, SensorKind, clean_serial
from dcops.patrol.checks import check_host
from dcops.patrol.model import HostMemory, Policy
from dcops.secrets import Secret
from tests.unit.bmc.mockups import fetcher, load, minimal_system, serve

Doc = dict[str, Any]
FAST = Timeouts(connect=1, read=5, deadline=20, retries=2, backoff=0.05)


def observe(docs: dict[str, Doc], **kwargs: Any) -> Observation:
    return run_sync(read_observation("h", **kwargs), fetcher(docs))


def put(docs: dict[str, Doc], path: str, doc: Doc) -> Doc:
    doc.setdefault("@odata.id", path)
    doc.setdefault("@odata.type", "#Resource.v1_0_0.Resource")
    docs[normalize(path)] = doc
    return doc


def writes(bmc: Any, count: int) -> list[tuple[str, str]]:
    """The writes (POST/PATCH, logins aside) the loopback BMC logged, once ``count`` are there:
    it logs an answer after sending it, so the client can be ahead of the log for a moment."""
    deadline = time.monotonic() + 30
    while True:
        found = [(m, p) for _, m, p, _ in list(bmc.log) if m in ("POST", "PATCH") and "Session" not in p]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def connector(url: str, system: str | None = None) -> RedfishConnector:
    host, port = url.rsplit("//", 1)[1].split(":")
    endpoint = BmcEndpoint(address=host, port=int(port), scheme="http", username="admin", password_ref="env:X",
                           system=system)
    return RedfishConnector("h1", endpoint, Secret("s3cret-pw"), FAST)


# --------------------------------------------------------------------------- 2. several systems

def test_gb200_host_is_system_0_not_the_gpu_baseboard() -> None:
    obs = observe(load("nvidia-gb200-nvl"))
    ident = obs.identity
    assert ident.system_id == "System_0"
    # System_0 names no maker, model or serial: its tray (Chassis_0, a Shelf) does.
    assert (ident.manufacturer, ident.model, ident.serial) == ("NVIDIA", "GB200 NVL", "1333024020524")
    # The baseboard's GPUs are the server's; the Grace CPUs both systems list are two, not four.
    assert len(obs.of_kind(ComponentKind.GPU)) == 4
    cpus = obs.of_kind(ComponentKind.CPU)
    assert len(cpus) == 2 and len({c.serial for c in cpus}) == 2


def test_gb200_power_boot_and_virtual_media_aim_at_the_chosen_system() -> None:
    docs = load("nvidia-gb200-nvl")
    with serve(docs) as bmc, redfish_bmc("h1", connector(bmc.url)) as dev:
        assert dev.power.status() is PowerState.ON
        dev.power.request("off")
        dev.boot.set_once("pxe")
        posted = writes(bmc, 2)
    assert posted == [("POST", "/redfish/v1/Systems/System_0/Actions/ComputerSystem.Reset"),
                      ("PATCH", "/redfish/v1/Systems/System_0")]


def baseboard_service() -> dict[str, Doc]:
    """minimal_system plus a GPU baseboard system that sorts first, as HGX trays list it."""
    docs = minimal_system()
    put(docs, "/redfish/v1/Systems/0_HGX_Baseboard", {"Id": "0_HGX_Baseboard", "SystemType": "Physical",
                                                      "Manufacturer": "NVIDIA", "Model": "HGX B200",
                                                      "SerialNumber": "BASEBOARD-SN",
                                                      "Status": {"Health": "OK"}})
    docs[normalize("/redfish/v1/Systems")]["Members"].insert(0, {"@odata.id": "/redfish/v1/Systems/0_HGX_Baseboard"})
    docs[normalize("/redfish/v1/Managers/1")]["Links"] = {
        "ManagerForServers": [{"@odata.id": "/redfish/v1/Systems/1"}]}
    return docs


def test_power_boot_vmedia_use_the_host_not_the_first_system() -> None:
    with serve(baseboard_service()) as bmc, redfish_bmc("h1", connector(bmc.url)) as dev:
        dev.power.request("off")
        dev.boot.set_once("cd")
        dev.vmedia.insert("http://127.0.0.1/x.iso")
        assert dev.inventory.observe().identity.serial == "SN1"
        paths = [p for _, p in writes(bmc, 3)]
    assert len(paths) >= 3 and all(p.startswith("/redfish/v1/Systems/1/") or p == "/redfish/v1/Systems/1" for p in paths)


def test_a_blade_node_is_pinned_by_the_book_and_keeps_its_own_parts() -> None:
    docs = load("hpe-cray-ex425")
    first = observe(docs)
    second = observe(docs, system="Node1")
    assert (first.identity.system_id, second.identity.system_id) == ("Node0", "Node1")
    # Each node's DIMMs sit in its own chassis; the other node's chassis is not read.
    assert {c.chassis for c in first.of_kind(ComponentKind.DIMM)} == {"Node0"}
    assert {c.chassis for c in second.of_kind(ComponentKind.DIMM)} == {"Node1"}
    assert not any(s.chassis == "Node1" for s in first.sensors)
    assert not any(s.chassis == "Node0" for s in second.sensors)
    with serve(docs) as bmc, redfish_bmc("h1", connector(bmc.url, system="Node1")) as dev:
        dev.power.request("off")
        posted = writes(bmc, 1)
    assert posted == [("POST", "/redfish/v1/Systems/Node1/Actions/ComputerSystem.Reset")]


def test_a_pin_naming_no_system_is_an_error_not_a_guess() -> None:
    obs = observe(load("hpe-cray-ex425"), system="Node7")
    assert obs.identity.system_id is None
    assert any(e.what == "bmc.system" and "Node0, Node1" in e.reason for e in obs.errors)
    check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("components",))
    assert any(e.part == "system" and "unknown" in e.summary for e in check.events)


def test_a_dpu_system_is_no_host_and_its_cpu_no_host_socket() -> None:
    docs = load("dmtf-public-smartnic")
    choice = choose([d for k, d in docs.items() if k.startswith("/redfish/v1/systems/") and k.count("/") == 4],
                    [docs[normalize("/redfish/v1/Managers/BMC")]])
    assert choice.host is not None and choice.host["Id"] == "437XR1138R2"
    obs = observe(docs)
    assert len(obs.of_kind(ComponentKind.CPU)) == 1 and len(obs.of_kind(ComponentKind.ACCELERATOR)) == 1
    assert len(obs.of_kind(ComponentKind.DIMM)) == 3


# --------------------------------------------------------------------------- 3. one part once

def test_gb200_drives_listed_by_system_and_backplane_are_one_each() -> None:
    drives = observe(load("nvidia-gb200-nvl")).of_kind(ComponentKind.DRIVE)
    assert len(drives) == 9 and len({d.serial for d in drives}) == 9


def test_absent_in_one_view_and_blank_in_the_other_is_an_empty_bay() -> None:
    docs = minimal_system()
    system = docs[normalize("/redfish/v1/Systems/1")]
    system["Storage"] = {"@odata.id": "/redfish/v1/Systems/1/Storage"}
    put(docs, "/redfish/v1/Systems/1/Storage", {"Members": [{"@odata.id": "/redfish/v1/Systems/1/Storage/1"}]})
    put(docs, "/redfish/v1/Systems/1/Storage/1", {"Id": "1", "Drives": [
        {"@odata.id": "/redfish/v1/Systems/1/Storage/1/Drives/0"}, {"@odata.id": "/redfish/v1/Systems/1/Storage/1/Drives/1"},
        {"@odata.id": "/redfish/v1/Systems/1/Storage/1/Drives/1"}]})  # drive 1 listed twice
    bay = {"Location": {"PartLocation": {"ServiceLabel": "Bay 0"}}}
    put(docs, "/redfish/v1/Systems/1/Storage/1/Drives/0", {"Id": "0", **copy.deepcopy(bay), "Status": {"State": "Enabled"}})
    put(docs, "/redfish/v1/Systems/1/Storage/1/Drives/1", {"Id": "1", "SerialNumber": "D1", "Model": "M",
                                                           "Location": {"PartLocation": {"ServiceLabel": "Bay 1"}},
                                                           "Status": {"State": "Enabled", "Health": "OK"}})
    chassis = docs[normalize("/redfish/v1/Chassis/1")]
    chassis["Drives"] = {"@odata.id": "/redfish/v1/Chassis/1/Drives"}
    put(docs, "/redfish/v1/Chassis/1/Drives", {"Members": [{"@odata.id": "/redfish/v1/Chassis/1/Drives/Bay0"},
                                                           {"@odata.id": "/redfish/v1/Chassis/1/Drives/Bay1"}]})
    put(docs, "/redfish/v1/Chassis/1/Drives/Bay0", {"Id": "Bay0", **copy.deepcopy(bay), "Status": {"State": "Absent"}})
    put(docs, "/redfish/v1/Chassis/1/Drives/Bay1", {"Id": "Bay1", "SerialNumber": "D1", "Model": "M",
                                                    "Status": {"State": "Enabled", "Health": "OK"}})
    drives = observe(docs).of_kind(ComponentKind.DRIVE)
    assert [(d.location, d.serial) for d in drives] == [("Bay 1", "D1")]


# --------------------------------------------------------------------------- 4. memory that is no DIMM

def test_gpu_memory_is_not_counted_as_dimms() -> None:
    obs = observe(load("nvidia-gb200-nvl"))
    assert len(obs.of_kind(ComponentKind.DIMM)) == 2  # the two LPDDR5X of the Grace modules
    assert len(obs.of_kind(ComponentKind.DEVICE_MEMORY)) == 4  # GPU_n_DRAM_0 on the baseboard
    docs = minimal_system()
    docs[normalize("/redfish/v1/Systems/1")]["Memory"] = {"@odata.id": "/redfish/v1/Systems/1/Memory"}
    put(docs, "/redfish/v1/Systems/1/Memory", {"Members": [{"@odata.id": "/redfish/v1/Systems/1/Memory/HBM0"},
                                                           {"@odata.id": "/redfish/v1/Systems/1/Memory/DIMM0"}]})
    put(docs, "/redfish/v1/Systems/1/Memory/HBM0", {"Id": "HBM0", "MemoryDeviceType": "HBM3", "CapacityMiB": 81920})
    put(docs, "/redfish/v1/Systems/1/Memory/DIMM0", {"Id": "DIMM0", "MemoryDeviceType": "DDR5", "CapacityMiB": 65536})
    obs = observe(docs)
    assert [c.location for c in obs.of_kind(ComponentKind.DIMM)] == ["DIMM0"]
    assert [c.extra.get("MemoryDeviceType") for c in obs.of_kind(ComponentKind.DEVICE_MEMORY)] == ["HBM3"]


# --------------------------------------------------------------------------- 5. error bodies

def test_an_error_body_is_a_read_error_not_a_resource() -> None:
    obs = observe(load("hpe-cray-ex425"))
    failed = {e.what.lower(): e.reason for e in obs.errors}
    assert any("mezz0/power" in what and "ResourceMissingAtURI" in why for what, why in failed.items()), failed
    reader = Reader()
    got = run_sync(reader.get("/x"), lambda path: {"error": {"code": "Base.1.8.InternalError",
                                                             "message": "boom"}})
    assert got is None and reader.errors[0].reason.startswith("error body")
    assert run_sync(Reader().get("/y"), lambda path: {"Name": "no id, no type"}) is None


# --------------------------------------------------------------------------- 6. health elsewhere

def test_a_critical_leak_detector_is_seen_where_every_rollup_says_ok() -> None:
    obs = run_sync(read_health("h"), fetcher(load("nvidia-gb200-nvl")))
    leaks = [s for s in obs.sensors_of(SensorKind.LEAK) if s.health is Health.CRITICAL]
    assert [s.name for s in leaks] == ["Chassis 0 LeakDetector 1 ColdPlate"]


def test_a_nic_warning_only_its_pcie_function_reports() -> None:
    docs = minimal_system()
    docs[normalize("/redfish/v1/Chassis/1")]["PCIeDevices"] = {"@odata.id": "/redfish/v1/Chassis/1/PCIeDevices"}
    put(docs, "/redfish/v1/Chassis/1/PCIeDevices", {"Members": [{"@odata.id": "/redfish/v1/Chassis/1/PCIeDevices/NIC1"}]})
    put(docs, "/redfish/v1/Chassis/1/PCIeDevices/NIC1", {
        "Id": "NIC1", "Name": "25G NIC", "Status": {"State": "Enabled"},
        "PCIeFunctions": {"@odata.id": "/redfish/v1/Chassis/1/PCIeDevices/NIC1/PCIeFunctions"}})
    put(docs, "/redfish/v1/Chassis/1/PCIeDevices/NIC1/PCIeFunctions",
        {"Members": [{"@odata.id": "/redfish/v1/Chassis/1/PCIeDevices/NIC1/PCIeFunctions/0"}]})
    put(docs, "/redfish/v1/Chassis/1/PCIeDevices/NIC1/PCIeFunctions/0", {"Id": "0", "Status": {"Health": "Warning"}})
    obs = observe(docs)
    [nic] = obs.of_kind(ComponentKind.PCIE_DEVICE)
    assert nic.health is Health.WARNING and nic.extra["functions_not_ok"] == ["0"]
    check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("components",))
    assert [e.part for e in check.events] == ["pcie_device:1:25G NIC"]


def test_systems_linked_only_from_the_chassis_are_read() -> None:
    docs = minimal_system()
    del docs[normalize("/redfish/v1/Systems")]
    docs[normalize("/redfish/v1/Chassis/1")]["Links"] = {"ComputerSystems": [{"@odata.id": "/redfish/v1/Systems/1"}]}
    assert observe(docs).identity.serial == "SN1"


def test_no_system_at_all_is_health_unknown_and_patrol_says_so() -> None:
    docs = minimal_system()
    del docs[normalize("/redfish/v1/Systems")]
    obs = observe(docs)
    assert obs.identity.system_id is None and obs.identity.health is Health.UNKNOWN
    assert any(e.what == "systems" for e in obs.errors)
    assert obs.health is Health.UNKNOWN  # the chassis says OK; the server is still unknown
    check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("components",))
    [event] = check.events
    assert event.part == "system" and "health unknown" in event.summary


# --------------------------------------------------------------------------- 7. placeholders, counters

def sensor_service(**sensor: Any) -> dict[str, Doc]:
    docs = minimal_system()
    docs[normalize("/redfish/v1/Chassis/1")]["Sensors"] = {"@odata.id": "/redfish/v1/Chassis/1/Sensors"}
    put(docs, "/redfish/v1/Chassis/1/Sensors", {"Members": [{"@odata.id": "/redfish/v1/Chassis/1/Sensors/S"}]})
    put(docs, "/redfish/v1/Chassis/1/Sensors/S", {"Id": "S", "Name": "S", **sensor})
    return docs


@pytest.mark.parametrize("sensor", [
    # Quirk (HPE iLO 7): unset thresholds of an idle rail come as 65535 -- "0 V <= lower fatal 65535 V".
    {"ReadingType": "Voltage", "Reading": 0, "ReadingUnits": "V",
     "Thresholds": {"LowerFatal": {"Reading": 65535}, "LowerCritical": {"Reading": 65535}}},
    {"ReadingType": "Voltage", "Reading": 12.1, "ReadingUnits": "V",
     "Thresholds": {"UpperCritical": {"Reading": 255}, "LowerCritical": {"Reading": -1}}},
    {"ReadingType": "Temperature", "Reading": 35, "ReadingUnits": "Cel", "Thresholds": {"UpperCritical": {"Reading": 0}}},
    # Quirk (NVIDIA DGX): energy counters carry power-like thresholds they exceed for ever.
    {"ReadingType": "EnergyJoules", "Reading": 50855416, "ReadingUnits": "J",
     "Thresholds": {"UpperCritical": {"Reading": 1000}}},
    {"ReadingType": "Power", "Reading": 7000, "ReadingUnits": "W", "SensorResetTime": "2025-01-01T00:00:00Z",
     "Thresholds": {"UpperCritical": {"Reading": 1000}}},
    {"ReadingType": "Current", "Reading": 0, "ReadingUnits": "A", "Status": {"Health": "OK"},
     "Thresholds": {"LowerCritical": {"Reading": 0.5}}},
])
def test_placeholder_thresholds_and_counters_raise_nothing(sensor: Doc) -> None:
    obs = observe(sensor_service(**sensor), sections=("sensors",))
    [reading] = obs.sensors
    assert reading.thresholds.is_empty() or reading.note
    check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("sensors",))
    assert not check.events, [e.summary for e in check.events]


def test_a_real_crossing_the_bmc_does_not_judge_still_pages() -> None:
    obs = observe(sensor_service(ReadingType="Temperature", Reading=97, ReadingUnits="Cel",
                                 Thresholds={"UpperCritical": {"Reading": 95}}), sections=("sensors",))
    check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("sensors",))
    assert [e.condition.value for e in check.events] == ["sensor_high"]


def test_a_crossing_the_bmc_calls_ok_is_noted_not_paged() -> None:
    obs = observe(sensor_service(ReadingType="Temperature", Reading=97, ReadingUnits="Cel", Status={"Health": "OK"},
                                 Thresholds={"UpperCritical": {"Reading": 95}}), sections=("sensors",))
    [reading] = obs.sensors
    assert reading.note and "BMC reports OK" in reading.note
    assert not check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("sensors",)).events


def test_cray_energy_counters_have_no_thresholds() -> None:
    obs = observe(load("hpe-cray-ex425"), sections=("sensors",))
    energy = obs.sensors_of(SensorKind.ENERGY)
    assert energy and all(s.thresholds.is_empty() for s in energy)


# --------------------------------------------------------------------------- 8. junk identities

@pytest.mark.parametrize(("raw", "clean"), [
    ("0x0000000000000000", None), ("SerialNumber", None), ("Serial Number", None), ("   ", None), ("", None),
    ("0xFFFFFFFF", None), ("N/A", None), ("NA", None),
    ("0x00000001780CC1C72400000019FF0080", "0x00000001780CC1C72400000019FF0080"), ("HA19340017", "HA19340017"),
])
def test_junk_serials_are_no_serials(raw: str, clean: str | None) -> None:
    assert clean_serial(raw) == clean


def test_gb200_junk_serials_on_real_parts() -> None:
    chassis = {c.location: c for c in observe(load("nvidia-gb200-nvl")).of_kind(ComponentKind.CHASSIS)}
    assert chassis["HGX_Chassis_0"].serial is None and chassis["HGX_Chassis_0"].raw_serial == "N/A"
    assert chassis["ERoT_BMC_0"].serial is None


# --------------------------------------------------------------------------- 9. one fault, one incident

def test_an_nvme_drive_failure_and_its_controller_rollup_are_one_incident() -> None:
    from dcops.patrol.converge import ConvergeState, converge

    docs = minimal_system()
    system = docs[normalize("/redfish/v1/Systems/1")]
    system["Storage"] = {"@odata.id": "/redfish/v1/Systems/1/Storage"}
    system["Status"] = {"Health": "OK", "HealthRollup": "Critical"}
    put(docs, "/redfish/v1/Systems/1/Storage", {"Members": [{"@odata.id": "/redfish/v1/Systems/1/Storage/NVMe1"}]})
    put(docs, "/redfish/v1/Systems/1/Storage/NVMe1", {
        "Id": "NVMe1", "Drives": [{"@odata.id": "/redfish/v1/Systems/1/Storage/NVMe1/Drives/0"}],
        "StorageControllers": [{"MemberId": "0", "Name": "NVMe controller", "SupportedControllerProtocols": ["PCIe"],
                                "Status": {"State": "Enabled", "Health": "Critical"}}]})
    put(docs, "/redfish/v1/Systems/1/Storage/NVMe1/Drives/0", {
        "Id": "0", "SerialNumber": "NV1", "Model": "U.2", "Protocol": "NVMe", "Status": {"Health": "Critical"},
        "Location": {"PartLocation": {"ServiceLabel": "NVMe Bay 0"}}})
    obs = observe(docs, sections=("components",))
    check = check_host("h", obs, HostMemory(), obs.taken_at, Policy(), sections=("components",))
    result = converge(ConvergeState(), [check], Policy().with_hysteresis(open_after=1), obs.taken_at, {})
    assert [i.part for i in result.opened] == ["drive:1:NVMe Bay 0"]
