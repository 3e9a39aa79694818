"""Trait ``capture-sensor-counts``: the simulator serves as many temperature and voltage sensors
as the vendor's real capture lists (legacy Thermal/Power and the Sensors collection), all healthy
and within their thresholds, so a benchmark pays what a real BMC's minute visit costs."""

from __future__ import annotations

import pytest

from dcops.sim.traits import CAPTURE_SENSORS
from tests.unit.sim.conftest import Client, make_bmc


def _chassis(client: Client) -> str:
    return str(client.get("/redfish/v1/Chassis").json["Members"][0]["@odata.id"])


@pytest.mark.parametrize(("profile", "flavour"), [("dell-r750", "dell"), ("hpe-dl360-gen10p", "hpe"),
                                                   ("lenovo-sr650v2", "lenovo"), ("supermicro-x13", "supermicro"),
                                                   ("generic-1s", "generic")])
def test_as_many_sensors_as_the_capture(profile: str, flavour: str) -> None:
    lean = Client(make_bmc(profile))
    client = Client(make_bmc(f"{profile}+capture-sensor-counts"))
    chassis, lean_chassis = _chassis(client), _chassis(lean)
    temps, volts = CAPTURE_SENSORS[flavour]
    if client.get(f"{chassis}/Thermal").status == 404:  # Lenovo: the Sensors collection only
        listed = client.get(f"{chassis}/Sensors", query={"$expand": ".($levels=1)"}).json["Members"]
        lean_listed = lean.get(f"{lean_chassis}/Sensors").json["Members@odata.count"]
        kinds = [m["ReadingType"] for m in listed]
        assert kinds.count("Temperature") == temps and kinds.count("Voltage") == volts
        assert len(listed) > lean_listed
        assert all(m["Status"]["Health"] == "OK" for m in listed)
        return
    thermal = client.get(f"{chassis}/Thermal").json
    power = client.get(f"{chassis}/Power").json
    lean_thermal, lean_power = lean.get(f"{lean_chassis}/Thermal").json, lean.get(f"{lean_chassis}/Power").json
    assert len(thermal["Temperatures"]) == max(temps, len(lean_thermal["Temperatures"]))
    assert len(power["Voltages"]) == max(volts, len(lean_power["Voltages"]))
    names = [t["Name"] for t in thermal["Temperatures"]] + [v["Name"] for v in power["Voltages"]]
    assert len(names) == len(set(names))  # every sensor its own
    for temp in thermal["Temperatures"]:
        assert temp["Status"]["Health"] == "OK" and temp["ReadingCelsius"] < temp["UpperThresholdNonCritical"]
    for volt in power["Voltages"]:
        assert volt["Status"]["Health"] == "OK"
        assert volt["LowerThresholdCritical"] < volt["ReadingVolts"] < volt["UpperThresholdCritical"]
