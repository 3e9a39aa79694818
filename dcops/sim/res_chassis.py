"""Chassis-side documents: Chassis, Thermal/Power (legacy), ThermalSubsystem/PowerSubsystem/Sensors
(newer model), NetworkAdapters, and HPE's storage enclosure chassis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcops.sim import identity, traits
from dcops.sim.profiles import HardwareProfile, TempSpec, fan_id, nic_id, psu_id, psu_name, sensor_id
from dcops.sim.resources import Ctx, Doc, Node, link, status

if TYPE_CHECKING:
    from dcops.sim.resources import Tree


def _temp(c: Ctx, spec: TempSpec) -> tuple[float, str]:
    key = f"temp:{spec.key}"
    base = spec.reading - (8.0 if c.bmc.power == "Off" and spec.key != "inlet" else 0.0)
    value = c.bmc.reading(key, base, 0.5, c.now)
    health = c.bmc.component_health(key)
    if value >= spec.upper_critical:
        health = "Critical"
    elif value >= spec.upper_caution and health == "OK":
        health = "Warning"
    return value, health


def _fan(c: Ctx, n: int) -> tuple[int, str]:
    key = f"fan:{n}"
    base = c.p.fan_rpm if c.bmc.power != "Off" else c.p.fan_rpm * 0.3
    value = int(c.bmc.reading(key, base, 40.0, c.now))
    return value, c.bmc.component_health(key)


def _psu_watts(c: Ctx, n: int) -> tuple[int, int]:
    """(output, input) watts of PSU ``n``: the load shared by the PSUs that work."""
    b = c.bmc
    working = [i for i in (1, 2) if b.component_health(f"psu:{i}") != "Critical"]
    if n not in working or not working:
        return 0, 0
    total = b.power_watts() or 12
    out = total // len(working)
    return out, int(out / 0.94)


def _volt(c: Ctx, key: str, reading: float) -> float:
    return c.bmc.reading(f"volt:{key}", reading, 0.02, c.now, digits=3)


def chassis_members(c: Ctx) -> list[str]:
    members = [c.P.chassis]
    if c.P.enclosure:
        members.append(c.P.enclosure)
    return members


def r_chassis_coll(c: Ctx) -> Doc:
    return c.collection("Chassis", c.P.chassis_coll, "Chassis Collection", chassis_members(c))


def r_chassis(c: Ctx) -> Doc:
    b, p, fl, P = c.bmc, c.p, c.fl, c.P
    health = b.chassis_health()
    body: Doc = {
        "Id": fl.chassis_id, "Name": "Computer System Chassis", "ChassisType": "RackMount",
        "Manufacturer": fl.manufacturer, "Model": p.model, "SerialNumber": b.serial,
        "PartNumber": p.sku_prefix or "0X0DW3A01", "SKU": b.serial if fl.name == "dell" else p.model,
        "AssetTag": b.asset_tag, "PowerState": b.power, "HeightMm": round(44.45 * p.u_height, 2),
        "Status": status(health, "Enabled", worst_all(b)),
        "NetworkAdapters": link(f"{P.chassis}/NetworkAdapters"),
        "Links": {"ComputerSystems": [link(P.system)], "ManagedBy": [link(P.manager)],
                  "Drives": [] if P.enclosure else [link(f"{P.drives}/{d}") for d in b.storage.drive_ids()]},
    }
    if fl.thermal_model in ("legacy", "both"):
        body["Thermal"] = link(f"{P.chassis}/Thermal")
        body["Power"] = link(f"{P.chassis}/Power")
    if fl.thermal_model in ("sensors", "both"):
        body["ThermalSubsystem"] = link(f"{P.chassis}/ThermalSubsystem")
        body["PowerSubsystem"] = link(f"{P.chassis}/PowerSubsystem")
        body["Sensors"] = link(f"{P.chassis}/Sensors")
    traits.chassis_links(c, body)
    if fl.name == "dell":
        # As the R750 capture has it: a chassis power action taking only On and ForceOff.
        body["Actions"] = {"#Chassis.Reset": {"ResetType@Redfish.AllowableValues": list(CHASSIS_RESET_TYPES),
                                              "target": f"{P.chassis}/Actions/Chassis.Reset"}}
    if b.rack:
        body["Location"] = {"Placement": {"Rack": b.rack}}
        if b.u:
            body["Location"]["Placement"]["RackOffset"] = b.u
            body["Location"]["Placement"]["RackOffsetUnits"] = "EIA_310"
    return c.doc("Chassis", P.chassis, body)


CHASSIS_RESET_TYPES = ("On", "ForceOff")


def worst_all(bmc: Any) -> str:
    return str(bmc.system_health())


def r_enclosure(c: Ctx) -> Doc:
    P = c.P
    assert P.enclosure
    return c.doc("Chassis", P.enclosure, {
        "Id": c.fl.drives_at, "Name": "Drive Enclosure", "ChassisType": "StorageEnclosure",
        "Manufacturer": c.fl.manufacturer, "Status": status("OK", "Enabled", c.bmc.storage.health()),
        "Drives": link(P.drives),
        "Links": {"ContainedBy": link(P.chassis), "Storage": [link(P.storage)]},
    })


# ----------------------------------------------------------------------------- legacy Thermal/Power

def r_thermal(c: Ctx) -> Doc:
    p, P = c.p, c.P
    path = f"{P.chassis}/Thermal"
    temps = []
    for i, spec in enumerate(p.temps):
        value, health = _temp(c, spec)
        temps.append({
            "@odata.id": f"{path}#/Temperatures/{i}", "MemberId": str(i), "Name": spec.name,
            "SensorNumber": 1 + i, "ReadingCelsius": value, "UpperThresholdNonCritical": spec.upper_caution,
            "UpperThresholdCritical": spec.upper_critical, "PhysicalContext": spec.context,
            "Status": status(health),
        })
    fans = []
    for n in range(1, p.fans + 1):
        rpm, health = _fan(c, n)
        fans.append({
            "@odata.id": f"{path}#/Fans/{n - 1}", "MemberId": str(n - 1), "Name": p.fan_names[n - 1],
            "Reading": rpm, "ReadingUnits": "RPM", "LowerThresholdCritical": 600, "PhysicalContext": "SystemBoard",
            "Status": status(health),
        })
    return c.doc("Thermal", path, {"Id": "Thermal", "Name": "Thermal", "Temperatures": temps, "Fans": fans,
                                   "Status": status(_thermal_health(c))})


def _thermal_health(c: Ctx) -> str:
    from dcops.sim.state import worst

    return worst(c.bmc.rollup("fan:"), c.bmc.rollup("temp:"))


def r_power(c: Ctx) -> Doc:
    b, p, fl, P = c.bmc, c.p, c.fl, c.P
    path = f"{P.chassis}/Power"
    watts = b.power_watts()
    psus = []
    for n in (1, 2):
        out, inp = _psu_watts(c, n)
        health = b.component_health(f"psu:{n}")
        psus.append({
            "@odata.id": f"{path}#/PowerSupplies/{n - 1}", "MemberId": str(n - 1), "Name": psu_name(fl, n),
            "Model": p.psu_model, "Manufacturer": fl.manufacturer if fl.name != "generic" else "Contoso",
            "SerialNumber": identity.serial(b.seed, b.index, f"psu{n}", 14, "PS"),
            "FirmwareVersion": b.firmware.version(f"psu{n}"), "PowerCapacityWatts": p.psu_watts,
            "PowerOutputWatts": out, "PowerInputWatts": inp, "LastPowerOutputWatts": out,
            "LineInputVoltage": 0 if health == "Critical" else 230, "PowerSupplyType": "AC",
            "LineInputVoltageType": "AC240V", "HotPluggable": True,
            "Status": status(health, b.comp_state.get(f"psu:{n}", "Enabled")),
        })
    volts = []
    for i, spec in enumerate(p.volts):
        volts.append({
            "@odata.id": f"{path}#/Voltages/{i}", "MemberId": str(i), "Name": spec.name, "SensorNumber": 40 + i,
            "ReadingVolts": _volt(c, spec.key, spec.reading), "LowerThresholdCritical": spec.lower_critical,
            "UpperThresholdCritical": spec.upper_critical, "PhysicalContext": "VoltageRegulator",
            "Status": status(b.component_health(f"volt:{spec.key}")),
        })
    lost = b.redundancy_lost or any(b.component_health(f"psu:{n}") == "Critical" for n in (1, 2))
    redundancy = [{
        "@odata.id": f"{path}#/Redundancy/0", "MemberId": "0", "Name": "PSU Redundancy", "Mode": "N+m",
        "MaxNumSupported": 2, "MinNumNeeded": 1,
        "RedundancySet": [link(f"{path}#/PowerSupplies/0"), link(f"{path}#/PowerSupplies/1")],
        "Status": status("Warning" if lost else "OK", "Enabled"),
    }]
    control = [{
        "@odata.id": f"{path}#/PowerControl/0", "MemberId": "0", "Name": "System Power Control",
        "PowerConsumedWatts": watts, "PowerCapacityWatts": 2 * p.psu_watts,
        "PowerMetrics": {"IntervalInMin": 1, "MinConsumedWatts": max(0, watts - 12),
                         "MaxConsumedWatts": watts + 15, "AverageConsumedWatts": watts},
        "RelatedItem": [link(P.chassis), link(P.system)], "Status": status(),
    }]
    return c.doc("Power", path, {"Id": "Power", "Name": "Power", "PowerControl": control, "PowerSupplies": psus,
                                 "Voltages": volts, "Redundancy": redundancy})


# ----------------------------------------------------------------------------- newer model

SensorSpec = tuple[str, str, str, str, str, Any]
_SPECS: dict[str, tuple[HardwareProfile, tuple[SensorSpec, ...], dict[str, SensorSpec]]] = {}


def sensor_specs(c: Ctx) -> tuple[SensorSpec, ...]:
    """(id, name, reading type, units, context, spec) of every sensor: a function of the profile
    only, so built once per profile (looked up by name, checked by identity, as ``tree_for`` does)."""
    return _specs(c.p)[0]


def _specs(p: HardwareProfile) -> tuple[tuple[SensorSpec, ...], dict[str, SensorSpec]]:
    hit = _SPECS.get(p.name)
    if hit is None or hit[0] is not p:
        specs = tuple(_build_specs(p))
        hit = _SPECS[p.name] = (p, specs, {s[0]: s for s in reversed(specs)})  # first of a duplicate id wins
    return hit[1], hit[2]


def _build_specs(p: HardwareProfile) -> list[SensorSpec]:
    out: list[SensorSpec] = []
    for temp in p.temps:
        out.append((sensor_id(temp.name), temp.name, "Temperature", "Cel", temp.context, temp))
    for n in range(1, p.fans + 1):
        name = p.fan_names[n - 1]
        out.append((sensor_id(name), name, "Rotational", "RPM", "Fan", n))
    for n in (1, 2):
        name = f"PSU{n} Input Power"
        out.append((sensor_id(name), name, "Power", "W", "PowerSupply", n))
    for spec in p.volts:
        out.append((sensor_id(spec.name), spec.name, "Voltage", "V", "VoltageRegulator", spec))
    out.append(("TotalPower", "Total Power", "Power", "W", "Chassis", None))
    return out


def r_sensors(c: Ctx) -> Doc:
    ids = [sid for sid, *_ in sensor_specs(c)] + traits.extra_sensor_ids(c)
    return c.collection("Sensor", f"{c.P.chassis}/Sensors", "Sensors", [f"{c.P.chassis}/Sensors/{sid}" for sid in ids])


def r_sensor(c: Ctx, sid: str) -> Doc | None:
    found = _specs(c.p)[1].get(sid)
    if found is None:
        return None
    _, name, rtype, units, context, spec = found
    b = c.bmc
    if c.fl.name == "lenovo":
        # As the XCC 2.83 capture has them: "C" and "Watts", not UCUM "Cel" and "W".
        units = {"Cel": "C", "W": "Watts"}.get(units, units)
    body: Doc = {"Id": sid, "Name": name, "ReadingType": rtype, "ReadingUnits": units, "PhysicalContext": context}
    if rtype == "Temperature":
        value, health = _temp(c, spec)
        body.update({"Reading": value, "Thresholds": {"UpperCaution": {"Reading": spec.upper_caution},
                                                      "UpperCritical": {"Reading": spec.upper_critical}},
                     "Status": status(health)})
    elif rtype == "Rotational":
        rpm, health = _fan(c, spec)
        body.update({"Reading": rpm, "Thresholds": {"LowerCritical": {"Reading": 600}}, "Status": status(health)})
    elif rtype == "Power" and spec is not None:
        _, inp = _psu_watts(c, spec)
        body.update({"Reading": inp, "Status": status(b.component_health(f"psu:{spec}"))})
    elif rtype == "Power":
        body.update({"Reading": b.power_watts(), "Status": status()})
    else:
        body.update({"Reading": _volt(c, spec.key, spec.reading),
                     "Thresholds": {"LowerCritical": {"Reading": spec.lower_critical},
                                    "UpperCritical": {"Reading": spec.upper_critical}},
                     "Status": status(b.component_health(f"volt:{spec.key}"))})
    return c.doc("Sensor", f"{c.P.chassis}/Sensors/{sid}", body)


def r_thermal_subsystem(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/ThermalSubsystem"
    body: Doc = {"Id": "ThermalSubsystem", "Name": "Thermal Subsystem", "Fans": link(f"{path}/Fans"),
                 "Status": status(_thermal_health(c))}
    traits.thermal_subsystem_links(c, body)
    return c.doc("ThermalSubsystem", path, body)


def r_fans(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/ThermalSubsystem/Fans"
    return c.collection("Fan", path, "Fan Collection",
                        [f"{path}/{fan_id(c.fl, n)}" for n in range(1, c.p.fans + 1)])


def r_fan(c: Ctx, n: int) -> Doc:
    rpm, health = _fan(c, n)
    name = c.p.fan_names[n - 1]
    return c.doc("Fan", f"{c.P.chassis}/ThermalSubsystem/Fans/{fan_id(c.fl, n)}", {
        "Id": fan_id(c.fl, n), "Name": name, "PhysicalContext": "SystemBoard", "HotPluggable": True,
        "SpeedPercent": {"DataSourceUri": f"{c.P.chassis}/Sensors/{sensor_id(name)}",
                         "Reading": round(100.0 * rpm / (c.p.fan_rpm * 1.6), 1), "SpeedRPM": rpm},
        "Location": {"PartLocation": {"ServiceLabel": name, "LocationType": "Bay", "LocationOrdinalValue": n}},
        "Status": status(health),
    })


def r_power_subsystem(c: Ctx) -> Doc:
    b, P = c.bmc, c.P
    path = f"{P.chassis}/PowerSubsystem"
    lost = b.redundancy_lost or any(b.component_health(f"psu:{n}") == "Critical" for n in (1, 2))
    return c.doc("PowerSubsystem", path, {
        "Id": "PowerSubsystem", "Name": "Power Subsystem", "CapacityWatts": 2 * c.p.psu_watts,
        "Allocation": {"AllocatedWatts": c.p.load_watts, "RequestedWatts": c.p.load_watts},
        "PowerSupplies": link(f"{path}/PowerSupplies"),
        "PowerSupplyRedundancy": [{
            "RedundancyType": "NPlusM", "MaxSupportedInGroup": 2, "MinNeededInGroup": 1,
            "RedundancyGroup": [link(f"{path}/PowerSupplies/{psu_id(c.fl, n)}") for n in (1, 2)],
            "Status": status("Warning" if lost else "OK"),
        }],
        "Status": status(b.rollup("psu:"), "Enabled", worst_psu(b, lost)),
    })


def worst_psu(bmc: Any, lost: bool) -> str:
    from dcops.sim.state import worst

    return worst(bmc.rollup("psu:"), "Warning" if lost else "OK")


def r_psus(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/PowerSubsystem/PowerSupplies"
    return c.collection("PowerSupply", path, "Power Supply Collection",
                        [f"{path}/{psu_id(c.fl, n)}" for n in (1, 2)])


def r_psu(c: Ctx, n: int) -> Doc:
    b, p, fl = c.bmc, c.p, c.fl
    health = b.component_health(f"psu:{n}")
    return c.doc("PowerSupply", f"{c.P.chassis}/PowerSubsystem/PowerSupplies/{psu_id(fl, n)}", {
        "Id": psu_id(fl, n), "Name": psu_name(fl, n), "Model": p.psu_model,
        "Manufacturer": fl.manufacturer, "SerialNumber": identity.serial(b.seed, b.index, f"psu{n}", 14, "PS"),
        "FirmwareVersion": b.firmware.version(f"psu{n}"), "PowerCapacityWatts": p.psu_watts,
        "PowerSupplyType": "AC", "InputNominalVoltageType": "AC200To240V", "HotPluggable": True,
        "Location": {"PartLocation": {"ServiceLabel": f"PSU {n}", "LocationType": "Bay",
                                      "LocationOrdinalValue": n}},
        "Status": status(health, b.comp_state.get(f"psu:{n}", "Enabled")),
    })


# ----------------------------------------------------------------------------- network adapters

def r_nics(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/NetworkAdapters"
    return c.collection("NetworkAdapter", path, "Network Adapter Collection",
                        [f"{path}/{nic_id(c.fl, n, nic)}" for n, nic in enumerate(c.p.nics, start=1)])


def r_nic(c: Ctx, n: int) -> Doc:
    b = c.bmc
    nic = c.p.nics[n - 1]
    nid = nic_id(c.fl, n, nic)
    return c.doc("NetworkAdapter", f"{c.P.chassis}/NetworkAdapters/{nid}", {
        "Id": nid, "Name": nic.model, "Manufacturer": nic.manufacturer, "Model": nic.model,
        "PartNumber": nic.part_number, "SerialNumber": identity.serial(b.seed, b.index, f"nic{n}", 12, "NIC"),
        "Controllers": [{"FirmwarePackageVersion": b.firmware.version(f"nic{n}"),
                         "ControllerCapabilities": {"NetworkPortCount": nic.ports}}],
        "Ports": link(f"{c.P.chassis}/NetworkAdapters/{nid}/Ports"),
        "Status": status(b.component_health(f"nic:{n}")),
    })


def _first_port(c: Ctx, n: int) -> int:
    """The global (0-based) number of NIC ``n``'s first port, as EthernetInterfaces count them."""
    return sum(nic.ports for nic in c.p.nics[:n - 1])


def r_ports(c: Ctx, n: int) -> Doc:
    path = f"{c.P.chassis}/NetworkAdapters/{nic_id(c.fl, n, c.p.nics[n - 1])}/Ports"
    return c.collection("Port", path, "Port Collection", [f"{path}/{p}" for p in range(c.p.nics[n - 1].ports)])


def r_port(c: Ctx, n: int, p: int) -> Doc:
    """A NIC port as HPE iLO 6 1.66 shows it (Port v1_6_0): its MAC, link and the LLDP data
    received from the switch (``NotTransmitted`` and empty strings when nothing was heard)."""
    b = c.bmc
    nic = c.p.nics[n - 1]
    index = _first_port(c, n) + p
    seen = b.lldp.get(index)
    up = b.power == "On"
    # HPE iLO 6 1.66 also serves ChassisId, PortId and the management addresses as "" when nothing
    # was heard, which breaks the schema's patterns (the DMTF Service Validator fails them); the reader
    # copes with that (tests/unit/provision/test_lldp.py reads the real capture), and the sim leaves
    # them out so every flavour stays valid.
    receive: Doc = {"ChassisIdSubtype": "NotTransmitted", "ManagementVlanId": 4095, "PortIdSubtype": "NotTransmitted"}
    if seen and up:  # LLDP frames arrive only while the host (its NIC) is powered
        receive.update(ChassisId=seen["chassis"], ChassisIdSubtype="MacAddr", PortId=seen["port"],
                       PortIdSubtype="IfName", SystemName=seen["system"])
    return c.doc("Port", f"{c.P.chassis}/NetworkAdapters/{nic_id(c.fl, n, nic)}/Ports/{p}", {
        "Id": str(p), "Name": "Port", "PortId": str(p + 1), "LinkNetworkTechnology": "Ethernet",
        "LinkStatus": "LinkUp" if up else "LinkDown", "CurrentSpeedGbps": nic.speed_mbps / 1000,
        "Ethernet": {"AssociatedMACAddresses": [b.mac(index)], "LLDPEnabled": True, "LLDPReceive": receive},
        "Status": status(),
    })


def add_to_tree(tree: Tree, profile: HardwareProfile) -> None:
    fl, P = profile.flavour, tree.paths
    tree.add(P.chassis_coll, Node(r_chassis_coll, collection=True))
    tree.add(P.chassis, Node(r_chassis))
    if fl.name == "dell":
        from dcops.sim import writes

        tree.add(f"{P.chassis}/Actions/Chassis.Reset", Node(None, post=writes.chassis_reset))
    if P.enclosure:
        tree.add(P.enclosure, Node(r_enclosure))
    if fl.thermal_model in ("legacy", "both"):
        tree.add(f"{P.chassis}/Thermal", Node(r_thermal))
        tree.add(f"{P.chassis}/Power", Node(r_power))
    if fl.thermal_model in ("sensors", "both"):
        tree.add(f"{P.chassis}/ThermalSubsystem", Node(r_thermal_subsystem))
        tree.add(f"{P.chassis}/ThermalSubsystem/Fans", Node(r_fans, collection=True))
        for n in range(1, profile.fans + 1):
            tree.add(f"{P.chassis}/ThermalSubsystem/Fans/{fan_id(fl, n)}", Node(r_fan, (n,)))
        tree.add(f"{P.chassis}/PowerSubsystem", Node(r_power_subsystem))
        tree.add(f"{P.chassis}/PowerSubsystem/PowerSupplies", Node(r_psus, collection=True))
        for n in (1, 2):
            tree.add(f"{P.chassis}/PowerSubsystem/PowerSupplies/{psu_id(fl, n)}", Node(r_psu, (n,)))
        tree.add(f"{P.chassis}/Sensors", Node(r_sensors, collection=True))
        names = [spec.name for spec in profile.temps] + list(profile.fan_names) + \
            [f"PSU{n} Input Power" for n in (1, 2)] + [spec.name for spec in profile.volts] + ["Total Power"]
        for name in names:
            sid = sensor_id(name) if name != "Total Power" else "TotalPower"
            tree.add(f"{P.chassis}/Sensors/{sid}", Node(r_sensor, (sid,)))
    tree.add(f"{P.chassis}/NetworkAdapters", Node(r_nics, collection=True))
    for n, nic in enumerate(profile.nics, start=1):
        tree.add(f"{P.chassis}/NetworkAdapters/{nic_id(fl, n, nic)}", Node(r_nic, (n,)))
        tree.add(f"{P.chassis}/NetworkAdapters/{nic_id(fl, n, nic)}/Ports", Node(r_ports, (n,), collection=True))
        for p in range(nic.ports):
            tree.add(f"{P.chassis}/NetworkAdapters/{nic_id(fl, n, nic)}/Ports/{p}", Node(r_port, (n, p)))
