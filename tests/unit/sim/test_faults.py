"""Every fault kind: what the BMC then reports (health, readings, power, SEL) and that clearing it
restores a healthy server. Checked through the Redfish documents a client would read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dcops.errors import UsageError
from dcops.sim.faults import FAULT_KINDS, apply_fault, clear_faults, parse_latency
from dcops.sim.resources import Paths
from dcops.sim.server import SimRequest, degrade, handle, respond
from dcops.sim.state import Bmc
from tests.unit.sim.conftest import Client, FakeClock, make_bmc, system_path


def docs(bmc: Bmc) -> dict[str, Any]:
    """The documents the checks look at."""
    client = Client(bmc)
    paths = Paths(bmc.profile)
    # SEL oldest first, whatever order the flavour lists it in (iDRAC: newest first)
    entries = sorted(client.get(paths.log_entries, query={"$top": "1000"}).json["Members"], key=lambda e: int(e["Id"]))
    out = {
        "system": client.get(paths.system).json,
        "chassis": client.get(paths.chassis).json,
        "storage": client.get(paths.storage).json,
        "volumes": client.get(paths.volumes).json,
        "sel": [e["MessageId"] for e in entries],
        "sel_severity": [e["Severity"] for e in entries],
    }
    if bmc.flavour.thermal_model in ("legacy", "both"):
        out["thermal"] = client.get(f"{paths.chassis}/Thermal").json
        out["power"] = client.get(f"{paths.chassis}/Power").json
    if bmc.flavour.thermal_model in ("sensors", "both"):
        out["psus"] = [client.get(m["@odata.id"]).json for m in
                       client.get(f"{paths.chassis}/PowerSubsystem/PowerSupplies").json["Members"]]
        out["powersub"] = client.get(f"{paths.chassis}/PowerSubsystem").json
        out["fans"] = [client.get(m["@odata.id"]).json for m in
                       client.get(f"{paths.chassis}/ThermalSubsystem/Fans").json["Members"]]
        out["sensors"] = {s["Name"]: s for s in (client.get(m["@odata.id"]).json for m in
                                                 client.get(f"{paths.chassis}/Sensors").json["Members"])}
    return out


def member(doc_list: list[dict[str, Any]], name_part: str) -> dict[str, Any]:
    return next(d for d in doc_list if name_part in d["Name"])


Check = Callable[[Bmc, dict[str, Any]], None]


def psu2_failed(b: Bmc, d: dict[str, Any]) -> None:
    assert d["power"]["PowerSupplies"][1]["Status"]["Health"] == "Critical"
    assert d["power"]["PowerSupplies"][1]["PowerOutputWatts"] == 0
    assert d["power"]["Redundancy"][0]["Status"]["Health"] == "Warning"
    assert d["chassis"]["Status"]["Health"] == "Critical"
    assert d["system"]["Status"]["HealthRollup"] == "Critical"
    assert d["sel"][-2:] == ["PSU0001", "RDU0012"]
    assert d["system"]["PowerState"] == "On"  # one PSU carries the load


def lenovo_psu_input_lost(b: Bmc, d: dict[str, Any]) -> None:
    psu = d["psus"][0]
    assert psu["Status"] == {"State": "UnavailableOffline", "Health": "Critical"}
    assert d["powersub"]["PowerSupplyRedundancy"][0]["Status"]["Health"] == "Warning"
    assert d["sensors"]["PSU1 Input Power"]["Reading"] == 0
    assert d["sel"][-2:] == ["FQXSPPW0031J", "FQXSPPW0105I"]


def redundancy_only(b: Bmc, d: dict[str, Any]) -> None:
    assert all(p["Status"]["Health"] == "OK" for p in d["power"]["PowerSupplies"])
    assert d["power"]["Redundancy"][0]["Status"]["Health"] == "Warning"
    assert d["chassis"]["Status"]["Health"] == "Warning"
    assert d["sel"][-1] == "PSU.RedundancyLost"


def fan3_failed(b: Bmc, d: dict[str, Any]) -> None:
    fan = d["thermal"]["Fans"][2]
    assert fan["Reading"] == 0 and fan["Status"]["Health"] == "Critical"
    assert d["sel"][-1] == "iLO.FanFailure" and d["sel_severity"][-1] == "Critical"
    assert d["system"]["Status"]["Health"] == "Critical"


def lenovo_fan_failed(b: Bmc, d: dict[str, Any]) -> None:
    fan = d["fans"][0]
    assert fan["SpeedPercent"]["SpeedRPM"] == 0 and fan["Status"]["Health"] == "Critical"
    assert d["sensors"]["Fan 1 Front Tach"]["Reading"] == 0


def cpu2_hot(b: Bmc, d: dict[str, Any]) -> None:
    temp = member(d["thermal"]["Temperatures"], "CPU2")
    assert temp["ReadingCelsius"] == 101.0 and temp["ReadingCelsius"] > temp["UpperThresholdCritical"]
    assert temp["Status"]["Health"] == "Critical"
    assert d["sel"][-1] == "TMP.UpperCritical"


def inlet_hot_sensor(b: Bmc, d: dict[str, Any]) -> None:
    sensor = d["sensors"]["Ambient Temp"]
    assert sensor["Reading"] > sensor["Thresholds"]["UpperCritical"]["Reading"]
    assert sensor["Status"]["Health"] == "Critical"


def dimm_ue(b: Bmc, d: dict[str, Any]) -> None:
    dimm = Client(b).get(f"{system_path(b)}/Memory/DIMM.Socket.B3").json
    assert dimm["Status"]["Health"] == "Critical"
    assert d["system"]["MemorySummary"]["Status"]["HealthRollup"] == "Critical"
    entry = Client(b).get(f"{Paths(b.profile).log_entries}").json["Members"][0]  # iDRAC: newest first
    assert entry["MessageId"] == "MEM0001" and "DIMM B3" in entry["Message"]


def drive_predictive(b: Bmc, d: dict[str, Any]) -> None:
    drive = Client(b).get(f"{Paths(b.profile).drives}/{b.storage.drive_ids()[1]}").json
    assert drive["FailurePredicted"] is True and drive["Status"]["Health"] == "Warning"
    assert d["storage"]["Status"]["HealthRollup"] == "Warning"


def raid0_drive_failed(b: Bmc, d: dict[str, Any]) -> None:
    vol = Client(b).get(f"{Paths(b.profile).volumes}/{b.storage.volumes[0].id}").json
    assert vol["Status"] == {"State": "Degraded", "Health": "Warning"}  # RAID1 lost one of two, no spare
    assert d["sel"][-2:] == ["FQXSPSS4008M", "FQXSPSS4012M"]


def volume_degraded(b: Bmc, d: dict[str, Any]) -> None:
    vol = Client(b).get(f"{Paths(b.profile).volumes}/{b.storage.volumes[0].id}").json
    assert vol["Status"]["Health"] == "Warning"
    assert d["storage"]["Status"]["HealthRollup"] == "Warning"
    assert d["sel"][-1] == "VOL.Degraded"


def abnormal_shutdown(b: Bmc, d: dict[str, Any]) -> None:
    assert d["system"]["PowerState"] == "Off"
    assert d["system"]["Status"]["Health"] == "Critical"
    cpu = Client(b).get(f"{system_path(b)}/Processors/CPU.Socket.1").json
    assert cpu["Status"]["Health"] == "Critical"
    newest = Client(b).get(Paths(b.profile).log_entries).json["Members"][:2]
    assert [e["MessageId"] for e in newest] == ["SYS1001", "CPU0000"]
    assert all(e["Severity"] == "Critical" for e in newest)


def net_down(b: Bmc, d: dict[str, Any]) -> None:
    assert not b.net.reachable and b.net.down == {"fault"}


def mgmt_switch_down(b: Bmc, d: dict[str, Any]) -> None:
    # The management switch: the host's mgmt address and its BMC go dark; the host runs on.
    assert b.net.links_down == {"mgmt"} and not b.net.reachable and b.net.down == {"switch"} and b.power == "On"


def rack_power(b: Bmc, d: dict[str, Any]) -> None:
    assert not b.net.reachable and b.power == "Off" and b.sessions == {}


def slow(b: Bmc, d: dict[str, Any]) -> None:
    assert b.net.extra_latency == (1.0, 3.0)


def errors(b: Bmc, d: dict[str, Any]) -> None:
    reply = respond(b, SimRequest("GET", "/redfish/v1"))
    assert reply.status == 503 and reply.headers["Retry-After"] == "30"


def readback_fails(b: Bmc, d: dict[str, Any]) -> None:
    assert respond(b, SimRequest("GET", "/redfish/v1")).status == 200  # nothing yet: it waits for a reset
    b.reset("ForceRestart")
    assert b.power in ("On", "PoweringOn", "Off")  # the reset was carried out...
    reply = respond(b, SimRequest("GET", "/redfish/v1"))
    assert reply.status == 500  # ...and then the BMC stops serving


def bios_refuse(b: Bmc, d: dict[str, Any]) -> None:
    assert b.bios_refused == {"LogicalProc"}


def task_vanish(b: Bmc, d: dict[str, Any]) -> None:
    assert b.vanish_tasks == 2


def install_poweroff(b: Bmc, d: dict[str, Any]) -> None:
    assert b.install_poweroff == 0.3  # the install timing of the fast preset


def lldp_neighbor(b: Bmc, d: dict[str, Any]) -> None:
    assert b.lldp == {1: {"system": "leaf-a01", "port": "Ethernet7", "chassis": "02:1C:73:00:00:01"}}


def raid_onreset(b: Bmc, d: dict[str, Any]) -> None:
    assert b.storage.apply_times() == ["OnReset"]
    assert d["volumes"]["@Redfish.OperationApplyTimeSupport"]["SupportedValues"] == ["OnReset"]


def malformed(b: Bmc, d: dict[str, Any]) -> None:
    import orjson

    reply = degrade(b, handle(b, SimRequest("GET", "/redfish/v1")))
    assert reply.status == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(reply.body)


# (kind, args, profile, check after apply)
def leak(b: Bmc, d: dict[str, Any]) -> None:
    # Quirk (NVIDIA GB200): only the detector says so; LeakDetection and the chassis stay OK.
    client = Client(b)
    base = f"{Paths(b.profile).chassis}/ThermalSubsystem/LeakDetection"
    assert client.get(f"{base}/LeakDetectors/ColdPlate_1").json["Status"]["Health"] == "Critical"
    assert client.get(f"{base}/LeakDetectors/ColdPlate_0").json["Status"]["Health"] == "OK"
    assert client.get(base).json["Status"]["HealthRollup"] == "OK"
    assert d["chassis"]["Status"]["Health"] == "OK"


def pcie_nic(b: Bmc, d: dict[str, Any]) -> None:
    client = Client(b)
    device = f"{Paths(b.profile).chassis}/PCIeDevices/NIC2"
    assert "Health" not in client.get(device).json["Status"]
    assert client.get(f"{device}/PCIeFunctions/0").json["Status"]["Health"] == "Warning"
    assert d["chassis"]["Status"]["Health"] == "OK"


FAULT_CASES: list[tuple[str, dict[str, str], str, Check]] = [
    ("psu_fail", {"psu": "2"}, "dell-r750", psu2_failed),
    ("psu_input_lost", {"psu": "1"}, "lenovo-sr650v2", lenovo_psu_input_lost),
    ("redundancy_lost", {}, "generic-1s", redundancy_only),
    ("fan_fail", {"fan": "3"}, "hpe-dl360-gen10p", fan3_failed),
    ("fan_fail", {"fan": "1"}, "lenovo-sr650v2", lenovo_fan_failed),
    ("over_temp", {"sensor": "cpu2", "value": "101"}, "supermicro-x13", cpu2_hot),
    ("over_temp", {"sensor": "Ambient Temp"}, "lenovo-sr650v2", inlet_hot_sensor),
    ("dimm_ue", {"dimm": "DIMM.Socket.B3"}, "dell-r750", dimm_ue),
    ("drive_predictive", {"drive": "1"}, "generic-1s", drive_predictive),
    ("drive_fail", {"drive": "0"}, "lenovo-sr650v2", raid0_drive_failed),
    ("volume_degraded", {}, "supermicro-x13", volume_degraded),
    ("abnormal_shutdown", {}, "dell-r750", abnormal_shutdown),
    ("bmc_unreachable", {"mode": "hang"}, "generic-1s", net_down),
    ("network_down", {"network": "mgmt"}, "generic-1s", mgmt_switch_down),
    ("bmc_slow", {"latency": "1-3s"}, "generic-1s", slow),
    ("bmc_errors", {"rate": "1", "status": "503"}, "generic-1s", errors),
    ("malformed_json", {"rate": "1"}, "generic-1s", malformed),
    ("readback_fails", {"status": "500"}, "generic-1s", readback_fails),
    ("rack_power_loss", {}, "hpe-dl360-gen10p", rack_power),
    ("bios_refuse", {"attribute": "logicalproc"}, "dell-r750", bios_refuse),
    ("task_vanish", {"count": "2"}, "generic-1s", task_vanish),
    ("install_poweroff", {}, "lenovo-sr650v2", install_poweroff),
    ("leak", {"detector": "ColdPlate_1"}, "dell-r750+leak-detector", leak),
    ("pcie_nic", {"nic": "2"}, "lenovo-sr650v2+pcie-nic-health", pcie_nic),
    ("raid_onreset", {}, "dell-r750", raid_onreset),
    ("lldp_neighbor", {"nic": "1", "port": "2", "switch": "leaf-a01", "switch_port": "Ethernet7"}, "dell-r750",
     lldp_neighbor),
]


def test_every_fault_kind_has_a_case() -> None:
    assert {case[0] for case in FAULT_CASES} == set(FAULT_KINDS)


@pytest.mark.parametrize(("kind", "args", "profile", "check"), FAULT_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in FAULT_CASES])
def test_fault_applies_and_clears(clock: FakeClock, kind: str, args: dict[str, str], profile: str,
                                  check: Check) -> None:
    bmc = make_bmc(profile, clock)
    healthy = docs(bmc)
    assert healthy["system"]["Status"]["Health"] == "OK"
    sel_before = len(bmc.sel)
    key = apply_fault(bmc, kind, args)
    assert key in bmc.faults
    check(bmc, docs(bmc) if bmc.net.reachable or kind == "bmc_unreachable" else {})
    cleared = clear_faults(bmc)
    assert cleared == [key] and bmc.faults == {}
    clock.advance(5)  # rebuilds, AC restore and BMC boot finish
    bmc.tick()
    after = docs(bmc)
    assert bmc.net.reachable and bmc.net.error_rate == 0 and bmc.net.malformed_rate == 0
    assert bmc.net.extra_latency == (0.0, 0.0) and not bmc.net.links_down
    assert after["chassis"]["Status"]["Health"] == "OK"
    assert after["system"]["Status"]["Health"] == "OK"
    assert after["storage"]["Status"]["HealthRollup"] == "OK"
    assert not bmc.bios_refused and bmc.vanish_tasks == 0 and bmc.install_poweroff is None and bmc.lldp == {}
    assert bmc.storage.apply_times() == ["Immediate", "OnReset"]
    if kind not in ("bmc_unreachable", "bmc_slow", "bmc_errors", "malformed_json", "bios_refuse", "task_vanish",
                    "install_poweroff", "readback_fails", "leak", "pcie_nic", "raid_onreset", "network_down",
                    "lldp_neighbor"):
        # behaviours, not hardware events, leave no SEL entry; nor do the trait faults whose
        # point is that one resource alone reports them
        assert len(bmc.sel) > sel_before  # the hardware event left a trace


def test_rack_power_loss_restores_power_by_the_ac_recovery_policy(clock: FakeClock) -> None:
    on = make_bmc("dell-r750", clock)
    off = make_bmc("dell-r750", clock, index=1)
    off.reset("ForceOff")
    for bmc in (on, off):
        apply_fault(bmc, "rack_power_loss")
        assert bmc.power == "Off"
        clear_faults(bmc)
    clock.advance(1)
    for bmc in (on, off):
        bmc.tick()
    assert on.power == "On" and off.power == "Off"  # AcPwrRcvry=Last
    assert on.sel[-2].message_id == "PWR2262" and on.sel[-1].message_id == "SYS1003"


def test_both_psus_failing_cuts_the_host_power(clock: FakeClock) -> None:
    bmc = make_bmc("generic-1s", clock)
    apply_fault(bmc, "psu_fail", {"psu": "1"})
    assert bmc.power == "On"
    apply_fault(bmc, "psu_fail", {"psu": "2"})
    assert bmc.power == "Off"


def test_unreachable_for_a_duration_comes_back_by_itself(clock: FakeClock) -> None:
    bmc = make_bmc("generic-1s", clock)
    apply_fault(bmc, "bmc_unreachable", {"duration": "2s"})
    clock.advance(1)
    bmc.tick()
    assert not bmc.net.reachable
    clock.advance(1.1)
    bmc.tick()
    assert bmc.net.reachable and bmc.faults == {}


def test_clear_by_kind_leaves_the_other_faults() -> None:
    bmc = make_bmc("generic-1s")
    apply_fault(bmc, "fan_fail", {"fan": "2"})
    apply_fault(bmc, "psu_fail")
    assert clear_faults(bmc, "fan_fail") == ["fan_fail:2"]
    assert list(bmc.faults) == ["psu_fail:1"]


@pytest.mark.parametrize(("kind", "args"), [
    ("no_such_fault", {}), ("psu_fail", {"psu": "3"}), ("fan_fail", {"fan": "x"}),
    ("over_temp", {"sensor": "toaster"}), ("dimm_ue", {"dimm": "Z9"}), ("drive_fail", {"drive": "99"}),
    ("bmc_errors", {"rate": "2"}), ("bmc_unreachable", {"mode": "vanish"}), ("bmc_slow", {"latency": "fast"}),
    ("bios_refuse", {}), ("bios_refuse", {"attribute": "NoSuchKnob"}), ("task_vanish", {"count": "0"}),
    ("install_poweroff", {"duration": "soon"}), ("install_poweroff", {"duration": "-1"}),
    ("lldp_neighbor", {}), ("lldp_neighbor", {"nic": "9", "switch": "s", "switch_port": "p"}),
])
def test_bad_fault_arguments_are_usage_errors(kind: str, args: dict[str, str]) -> None:
    bmc = make_bmc("generic-1s")
    with pytest.raises(UsageError):
        apply_fault(bmc, kind, args)
    assert bmc.faults == {}


@pytest.mark.parametrize(("text", "expected"), [
    ("50-300ms", (0.05, 0.3)), ("2s", (2.0, 2.0)), ("0", (0.0, 0.0)), ("1-3s", (1.0, 3.0)), ("250ms", (0.25, 0.25)),
])
def test_parse_latency(text: str, expected: tuple[float, float]) -> None:
    assert parse_latency(text) == pytest.approx(expected)


def test_an_armed_fault_strikes_just_before_its_read_once_and_clearing_disarms_it() -> None:
    from dcops.sim.faults import arm_fault, strike_armed

    bmc = make_bmc()
    key = arm_fault(bmc, "psu_fail", {"psu": "1"}, "LogServices")
    assert key == "armed:psu_fail:before:LogServices" and not bmc.faults
    strike_armed(bmc, "/redfish/v1/Chassis/1/Power")  # a read before the SEL: still healthy
    assert not bmc.faults
    strike_armed(bmc, "/redfish/v1/Managers/1/LogServices/Sel/Entries")
    assert list(bmc.faults) == ["psu_fail:1"] and not bmc.armed
    clear_faults(bmc)
    arm_fault(bmc, "fan_fail", {"fan": "1"}, "logservices")
    clear_faults(bmc)
    assert not bmc.armed  # a cleared fleet has nothing left to strike
    with pytest.raises(UsageError):
        arm_fault(bmc, "no_such_fault", {}, "LogServices")
