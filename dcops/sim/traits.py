"""Traits of real Redfish services the simulator can serve on top of any profile (issue 12), so
fleet tests and benchmarks meet what real BMCs do, not only the tidy common case.

``sim up --trait NAME`` (repeatable) and ``--page-size N`` give every simulated host of the run
the traits; ``with_traits`` derives the profile (its name gets a ``+traits`` suffix, so each
variant has its own URI tree). Each trait names the real service it copies:

* ``page-size``: every collection answers at most N members and a ``Members@odata.nextLink``
  (``?$skip=N``); a service that pages its Sensors at 75 is common (NVIDIA DGX, OpenBMC).
* ``gpu-baseboard``: a second ComputerSystem ``HGX_Baseboard_0``, listed first, with GPUs and
  their HBM3 and neither Reset nor Boot (NVIDIA HGX / GB200 trays).
* ``duplicate-drive-views``: every drive also under ``Chassis/<id>/Drives/<n>``, another URI
  with the same serial (NVIDIA GB200, Dell iDRAC).
* ``placeholder-thresholds``: an idle rail reading 0 V, Health OK, with thresholds of 65535
  (HPE iLO 7: "0 V <= lower fatal threshold 65535 V").
* ``energy-counters``: a cumulative energy sensor in J whose power-like thresholds it always
  exceeds (NVIDIA DGX).
* ``leak-detector``: ``ThermalSubsystem/LeakDetection/LeakDetectors`` with two cold-plate
  detectors; fault ``leak`` makes one Critical while every rollup stays OK (NVIDIA GB200).
* ``pcie-nic-health``: ``PCIeDevices`` for the NICs; fault ``pcie_nic`` sets a Warning only on
  the NIC's PCIeFunction.
* ``error-body``: the chassis' ``Assembly`` link answers 200 with a ResourceMissingAtURI error
  body (HPE Cray EX nC).
* ``single-vmedia-slot``: one virtual-media slot, ``Managers/<id>/VirtualMedia/CD1``, listing no
  ``MediaTypes`` (Gigabyte H262-Z63, AMI MegaRAC, VirtualMedia v1_3_1): no second slot for an
  answer volume, so dcops boots a per-host installer ISO that carries the answer file.
* ``select-no-expand``: ``$select`` together with ``$expand`` answers 400
  ``QueryCombinationInvalid`` (OpenBMC bmcweb, ``query_param.hpp``; NVIDIA GB200 advertises both).
* ``expand-collections-only``: ``$expand`` expands a collection's members only; asked of any other
  resource (a Storage, for its ``Drives``), it answers the resource with its links as they are
  (DMTF Redfish-Mockup-Server, DMTF/Redfish-Mockup-Server#78: "the current $expand support has a
  limitation to only work on collections").
* ``expand-license-error``: ``$expand`` on any resource that is not a collection (a Chassis, a
  Storage) answers 500 InternalError "No sufficient LICENSE" (Dell iDRAC9 Redfish API Guide 4.20,
  "Query parameters": a sub-resource whose license or privilege is missing fails the entire
  expanded output; iDRAC8 2.63+ on a Manager, bb-Ricardo/check_redfish#151).
* ``expand-not-found``: ``$expand`` on any resource that is not a collection answers 404 (the same
  guide: "$expand on unsupported URI, you may receive 400/404/405 status code instead of 501").
* ``capture-sensor-counts``: as many temperature and voltage sensors (legacy Thermal/Power and the
  Sensors collection alike) as the real capture of the flavour's vendor lists (``CAPTURE_SENSORS``):
  a Dell R750 has 49 voltage rails, an HPE DL360 48 temperatures, where a profile has a dozen
  sensors in all. The simulator is otherwise lean: this is what a benchmark needs to cost a real
  BMC's minute visit (``patrol_peers.py --trait capture-sensor-counts``).
* ``basic-only``: the whole service behind basic auth, the session POST included: without an
  ``Authorization`` header it answers 401 with a Basic challenge (sushy-tools 2.x with
  ``SUSHY_EMULATOR_AUTH_FILE``, the emulator Ironic's CI uses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dcops.errors import UsageError
from dcops.sim import identity

if TYPE_CHECKING:
    from dcops.sim.profiles import HardwareProfile
    from dcops.sim.resources import Ctx, Tree

Doc = dict[str, Any]

TRAITS: dict[str, str] = {
    "gpu-baseboard": "a GPU baseboard as a second system, listed first, without Reset or Boot (NVIDIA HGX/GB200)",
    "duplicate-drive-views": "every drive also under Chassis/<id>/Drives with the same serial (GB200, iDRAC)",
    "placeholder-thresholds": "an idle rail at 0 V, Health OK, thresholds 65535 (HPE iLO 7)",
    "energy-counters": "a cumulative energy sensor (J) with thresholds it always exceeds (NVIDIA DGX)",
    "leak-detector": "cold-plate leak detectors; fault leak makes one Critical, rollups stay OK (GB200)",
    "pcie-nic-health": "PCIeDevices for the NICs; fault pcie_nic warns on the PCIeFunction only",
    "error-body": "the chassis' Assembly link answers 200 with an error body (HPE Cray EX)",
    "single-vmedia-slot": "one virtual-media slot CD1 without MediaTypes (Gigabyte H262-Z63, AMI MegaRAC)",
    "select-no-expand": "$select with $expand answers 400 QueryCombinationInvalid (OpenBMC bmcweb)",
    "basic-only": "the session POST too needs basic auth: 401 with a Basic challenge (sushy-tools + htpasswd)",
    "expand-collections-only": "$expand ignored on resources that are not collections (DMTF Redfish-Mockup-Server)",
    "expand-license-error": "$expand on a non-collection answers 500 'No sufficient LICENSE' (Dell iDRAC9/iDRAC8)",
    "expand-not-found": "$expand on a non-collection answers 404 (Dell iDRAC9: 400/404/405 instead of 501)",
    "capture-sensor-counts": "as many temperature and voltage sensors as the vendor's real capture (49 rails on a Dell R750)",
}
# (temperatures, voltages) in the real captures (../shared/mockups/vendors, legacy Thermal/Power):
# dell-poweredge-r750-idrac9-6.00 5/49, hpe-proliant-dl360-gen10plus-ilo5-3.11 48/0,
# supermicro-sys-821ge-tnhr-x13 38/12, gigabyte-h262-z63-ami 20/28 (AMI MegaRAC: used for the
# generic flavour and for Huawei, whose capture holds no Thermal/Power). Lenovo, which the
# simulator serves through the Sensors collection only: lenovo-thinksystem-sr670v2-xcc-2.83 lists
# 236 sensors, 39 of them temperatures and 9 voltages (its 144 discrete state sensors, no
# ReadingType or units, are not simulated).
CAPTURE_SENSORS: dict[str, tuple[int, int]] = {
    "dell": (5, 49), "hpe": (48, 0), "lenovo": (39, 9), "supermicro": (38, 12), "generic": (20, 28),
    "huawei": (20, 28),
}
BASEBOARD = "HGX_Baseboard_0"
GPUS = 4
PLACEHOLDER_SENSOR = "PVNN_STBY"
ENERGY_SENSOR = "NodeEnergy"
LEAK_DETECTORS = ("ColdPlate_0", "ColdPlate_1")


def with_traits(profile: HardwareProfile, traits: Iterable[str] = (), page_size: int = 0) -> HardwareProfile:
    """``profile`` serving ``traits`` and paging at ``page_size`` (0: no paging)."""
    wanted = frozenset(traits)
    unknown = sorted(wanted - set(TRAITS))
    if unknown:
        raise UsageError(f"unknown trait {unknown[0]!r}; known: {', '.join(TRAITS)}")
    if page_size < 0:
        raise UsageError("--page-size must be >= 0")
    if not wanted and not page_size:
        return profile
    suffix = "+".join(sorted(wanted) + ([f"page{page_size}"] if page_size else []))
    flavour = profile.flavour
    if "single-vmedia-slot" in wanted:
        # Gigabyte H262-Z63 (AMI MegaRAC): VirtualMedia lists CD1 only, without MediaTypes.
        flavour = dataclasses.replace(flavour, vmedia=(("CD1", ()),))
    sensors: dict[str, Any] = {}
    if "capture-sensor-counts" in wanted:
        sensors = _capture_sensor_counts(profile)
    return dataclasses.replace(profile, name=f"{profile.name}+{suffix}", traits=wanted, page_size=page_size,
                               flavour=flavour, **sensors)


def _capture_sensor_counts(profile: HardwareProfile) -> dict[str, Any]:
    """``temps`` and ``volts`` grown to the capture's counts (never shrunk), the added ones well
    within their thresholds (their keys ``xtemp<n>``/``xvolt<n>``: no fault names them)."""
    from dcops.sim.profiles import TempSpec, VoltSpec

    temps_wanted, volts_wanted = CAPTURE_SENSORS.get(profile.flavour.name, CAPTURE_SENSORS["generic"])
    temps = list(profile.temps)
    for n in range(len(temps) + 1, temps_wanted + 1):
        temps.append(TempSpec(f"xtemp{n}", f"Board Temp {n}", "SystemBoard", 30.0 + n % 15, 80.0, 90.0))
    volts = list(profile.volts)
    for n in range(len(volts) + 1, volts_wanted + 1):
        nominal = (12.0, 5.0, 3.3, 1.8, 1.2, 1.05)[n % 6]
        volts.append(VoltSpec(f"xvolt{n}", f"Rail {n} {nominal:g}V", nominal, round(nominal * 0.9, 3),
                              round(nominal * 1.1, 3)))
    return {"temps": tuple(temps), "volts": tuple(volts)}


def has(c: Ctx, trait: str) -> bool:
    return trait in c.p.traits


# ----------------------------------------------------------------------------- what existing documents gain

def system_members(c: Ctx) -> list[str]:
    """The Systems collection: the baseboard first, as HGX trays list it (a reader that takes
    the first system, or sorts by Id on Dell's ``System.Embedded.1``, takes the baseboard)."""
    base = [f"{c.P.systems}/{BASEBOARD}"] if has(c, "gpu-baseboard") else []
    return base + [c.P.system]


def chassis_links(c: Ctx, body: Doc) -> None:
    """Links a chassis gains from the traits."""
    chassis = c.P.chassis
    if has(c, "duplicate-drive-views"):
        body["Drives"] = {"@odata.id": f"{chassis}/Drives"}
    if has(c, "pcie-nic-health"):
        body["PCIeDevices"] = {"@odata.id": f"{chassis}/PCIeDevices"}
    if has(c, "error-body"):
        body["Assembly"] = {"@odata.id": f"{chassis}/Assembly"}
    if (has(c, "placeholder-thresholds") or has(c, "energy-counters")) and "Sensors" not in body:
        body["Sensors"] = {"@odata.id": f"{chassis}/Sensors"}
    if has(c, "leak-detector") and "ThermalSubsystem" not in body:
        body["ThermalSubsystem"] = {"@odata.id": f"{chassis}/ThermalSubsystem"}


def extra_sensor_ids(c: Ctx) -> list[str]:
    ids = []
    if has(c, "placeholder-thresholds"):
        ids.append(PLACEHOLDER_SENSOR)
    if has(c, "energy-counters"):
        ids.append(ENERGY_SENSOR)
    return ids


def thermal_subsystem_links(c: Ctx, body: Doc) -> None:
    if has(c, "leak-detector"):
        body["LeakDetection"] = {"@odata.id": f"{c.P.chassis}/ThermalSubsystem/LeakDetection"}


# ----------------------------------------------------------------------------- renderers

def r_baseboard(c: Ctx) -> Doc:
    path = f"{c.P.systems}/{BASEBOARD}"
    gpus = _gpu_health(c)
    return c.doc("ComputerSystem", path, {
        "Id": BASEBOARD, "Name": BASEBOARD, "SystemType": "Physical", "Manufacturer": "NVIDIA",
        "Model": "HGX Baseboard", "SerialNumber": identity.serial(c.bmc.seed, c.bmc.index, "baseboard", 13, "16"),
        "PowerState": c.bmc.power, "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": gpus},
        "Processors": {"@odata.id": f"{path}/Processors"}, "Memory": {"@odata.id": f"{path}/Memory"},
        "Links": {"Chassis": [{"@odata.id": c.P.chassis}]},
    })


def _gpu_health(c: Ctx) -> str:
    return str(c.bmc.rollup("gpu:"))


def r_baseboard_processors(c: Ctx) -> Doc:
    path = f"{c.P.systems}/{BASEBOARD}/Processors"
    return c.collection("Processor", path, "Processors", [f"{path}/GPU_{n}" for n in range(GPUS)])


def r_gpu(c: Ctx, n: int) -> Doc:
    path = f"{c.P.systems}/{BASEBOARD}/Processors/GPU_{n}"
    return c.doc("Processor", path, {
        "Id": f"GPU_{n}", "Name": f"GPU_{n}", "ProcessorType": "GPU", "Manufacturer": "NVIDIA",
        "Model": "B200", "SerialNumber": identity.serial(c.bmc.seed, c.bmc.index, f"gpu{n}", 13, "16"),
        "Location": {"PartLocation": {"ServiceLabel": f"GPU_{n}", "LocationType": "Embedded"}},
        "Memory": {"@odata.id": f"{path}/Memory"},
        "Status": {"State": "Enabled", "Health": c.bmc.component_health(f"gpu:{n}")},
    })


def r_baseboard_memory(c: Ctx) -> Doc:
    path = f"{c.P.systems}/{BASEBOARD}/Memory"
    return c.collection("Memory", path, "Memory", [f"{path}/GPU_{n}_DRAM_0" for n in range(GPUS)])


def r_gpu_memory(c: Ctx, n: int) -> Doc:
    # HBM3 as B200 baseboards list it: a device type, a capacity, linked to its GPU.
    path = f"{c.P.systems}/{BASEBOARD}/Memory/GPU_{n}_DRAM_0"
    return c.doc("Memory", path, {
        "Id": f"GPU_{n}_DRAM_0", "Name": f"GPU_{n}_DRAM_0", "MemoryDeviceType": "HBM3", "CapacityMiB": 196608,
        "Location": {"PartLocation": {"ServiceLabel": f"GPU_{n}_DRAM_0"}},
        "Links": {"Processors": [{"@odata.id": f"{c.P.systems}/{BASEBOARD}/Processors/GPU_{n}"}]},
        "Status": {"State": "Enabled", "Health": "OK"},
    })


def r_chassis_drives(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/Drives"
    return c.collection("Drive", path, "Drives", [f"{path}/{bay}" for bay in range(len(c.p.drives))])


def r_chassis_drive(c: Ctx, bay: int) -> Doc:
    """The same drive as the storage view's, under another URI (as GB200 and iDRAC list it)."""
    from dcops.sim.resources import r_drive

    doc = dict(r_drive(c, bay))
    doc["@odata.id"] = f"{c.P.chassis}/Drives/{bay}"
    doc["Id"] = str(bay)
    doc.pop("Oem", None)
    return doc


def r_extra_sensor(c: Ctx, sid: str) -> Doc | None:
    path = f"{c.P.chassis}/Sensors/{sid}"
    if sid == PLACEHOLDER_SENSOR and has(c, "placeholder-thresholds"):
        return c.doc("Sensor", path, {
            "Id": sid, "Name": "PVNN STBY", "ReadingType": "Voltage", "ReadingUnits": "V", "Reading": 0,
            "Thresholds": {"LowerFatal": {"Reading": 65535}, "LowerCritical": {"Reading": 65535},
                           "UpperCritical": {"Reading": 65535}},
            "Status": {"State": "Enabled", "Health": "OK"}})
    if sid == ENERGY_SENSOR and has(c, "energy-counters"):
        joules = round((c.now - c.bmc.created + 86400) * c.p.idle_watts)
        return c.doc("Sensor", path, {
            "Id": sid, "Name": "Node Energy", "ReadingType": "EnergyJoules", "ReadingUnits": "J", "Reading": joules,
            "SensorResetTime": "2025-01-01T00:00:00Z",
            "Thresholds": {"UpperCaution": {"Reading": 800}, "UpperCritical": {"Reading": 1000}},
            "Status": {"State": "Enabled"}})
    return None


def r_trait_sensors(c: Ctx) -> Doc:
    """The Sensors collection of a flavour that has none of its own (legacy Thermal/Power)."""
    path = f"{c.P.chassis}/Sensors"
    return c.collection("Sensor", path, "Sensors", [f"{path}/{sid}" for sid in extra_sensor_ids(c)])


def r_trait_thermal_subsystem(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/ThermalSubsystem"
    body: Doc = {"Id": "ThermalSubsystem", "Name": "Thermal Subsystem", "Status": {"State": "Enabled", "Health": "OK"}}
    thermal_subsystem_links(c, body)
    return c.doc("ThermalSubsystem", path, body)


def r_leak_detection(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/ThermalSubsystem/LeakDetection"
    # Quirk (NVIDIA GB200): LeakDetection rolls up OK while a detector under it is Critical.
    return c.doc("LeakDetection", path, {"Id": "LeakDetection", "Name": "Leak Detection",
                                         "LeakDetectors": {"@odata.id": f"{path}/LeakDetectors"},
                                         "Status": {"State": "Enabled", "Health": "OK", "HealthRollup": "OK"}})


def r_leak_detectors(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/ThermalSubsystem/LeakDetection/LeakDetectors"
    return c.collection("LeakDetector", path, "Leak Detectors", [f"{path}/{d}" for d in LEAK_DETECTORS])


def r_leak_detector(c: Ctx, name: str) -> Doc:
    path = f"{c.P.chassis}/ThermalSubsystem/LeakDetection/LeakDetectors/{name}"
    health = c.bmc.component_health(f"leak:{name}")
    return c.doc("LeakDetector", path, {
        "Id": name, "Name": f"LeakDetector {name}", "LeakDetectorType": "Moisture",
        "DetectorState": health, "Status": {"State": "Enabled" if health == "OK" else "Degraded", "Health": health}})


def r_pcie_devices(c: Ctx) -> Doc:
    path = f"{c.P.chassis}/PCIeDevices"
    return c.collection("PCIeDevice", path, "PCIe Devices", [f"{path}/NIC{n}" for n in range(1, len(c.p.nics) + 1)])


def r_pcie_device(c: Ctx, n: int) -> Doc:
    path = f"{c.P.chassis}/PCIeDevices/NIC{n}"
    # Quirk (various): the device says nothing about health; only its function does.
    return c.doc("PCIeDevice", path, {"Id": f"NIC{n}", "Name": c.p.nics[n - 1].model,
                                      "Status": {"State": "Enabled"},
                                      "PCIeFunctions": {"@odata.id": f"{path}/PCIeFunctions"}})


def r_pcie_functions(c: Ctx, n: int) -> Doc:
    path = f"{c.P.chassis}/PCIeDevices/NIC{n}/PCIeFunctions"
    return c.collection("PCIeFunction", path, "PCIe Functions", [f"{path}/0"])


def r_pcie_function(c: Ctx, n: int) -> Doc:
    path = f"{c.P.chassis}/PCIeDevices/NIC{n}/PCIeFunctions/0"
    return c.doc("PCIeFunction", path, {"Id": "0", "Name": "Function 0", "FunctionType": "Physical",
                                        "Status": {"State": "Enabled",
                                                   "Health": c.bmc.component_health(f"pcie_nic:{n}")}})


def r_error_body(c: Ctx) -> Doc:
    from dcops.sim.messages import base_text

    path = f"{c.P.chassis}/Assembly"
    severity, message, resolution = base_text("ResourceMissingAtURI", (path,))
    message_id = f"{c.fl.base_registry}.ResourceMissingAtURI"
    return {"error": {"code": message_id, "message": message, "@Message.ExtendedInfo": [
        {"MessageId": message_id, "Message": message, "MessageArgs": [path], "Severity": severity,
         "Resolution": resolution}]}}


def add_to_tree(tree: Tree, profile: HardwareProfile) -> None:
    """The URIs the traits of ``profile`` serve."""
    from dcops.sim.resources import Node

    P, traits = tree.paths, profile.traits
    if "gpu-baseboard" in traits:
        base = f"{P.systems}/{BASEBOARD}"
        tree.add(base, Node(r_baseboard, kind="ComputerSystem"))
        tree.add(f"{base}/Processors", Node(r_baseboard_processors, collection=True))
        tree.add(f"{base}/Memory", Node(r_baseboard_memory, collection=True))
        for n in range(GPUS):
            tree.add(f"{base}/Processors/GPU_{n}", Node(r_gpu, (n,)))
            tree.add(f"{base}/Memory/GPU_{n}_DRAM_0", Node(r_gpu_memory, (n,)))
    if "duplicate-drive-views" in traits:
        tree.add(f"{P.chassis}/Drives", Node(r_chassis_drives, collection=True))
        for bay in range(len(profile.drives)):
            tree.add(f"{P.chassis}/Drives/{bay}", Node(r_chassis_drive, (bay,)))
    if traits & {"placeholder-thresholds", "energy-counters"}:
        if profile.flavour.thermal_model == "legacy":
            tree.add(f"{P.chassis}/Sensors", Node(r_trait_sensors, collection=True))
        for sid in (PLACEHOLDER_SENSOR, ENERGY_SENSOR):
            tree.add(f"{P.chassis}/Sensors/{sid}", Node(r_extra_sensor, (sid,)))
    if "leak-detector" in traits:
        if profile.flavour.thermal_model == "legacy":
            tree.add(f"{P.chassis}/ThermalSubsystem", Node(r_trait_thermal_subsystem))
        leak = f"{P.chassis}/ThermalSubsystem/LeakDetection"
        tree.add(leak, Node(r_leak_detection))
        tree.add(f"{leak}/LeakDetectors", Node(r_leak_detectors, collection=True))
        for name in LEAK_DETECTORS:
            tree.add(f"{leak}/LeakDetectors/{name}", Node(r_leak_detector, (name,)))
    if "pcie-nic-health" in traits:
        tree.add(f"{P.chassis}/PCIeDevices", Node(r_pcie_devices, collection=True))
        for n in range(1, len(profile.nics) + 1):
            dev = f"{P.chassis}/PCIeDevices/NIC{n}"
            tree.add(dev, Node(r_pcie_device, (n,)))
            tree.add(f"{dev}/PCIeFunctions", Node(r_pcie_functions, (n,), collection=True))
            tree.add(f"{dev}/PCIeFunctions/0", Node(r_pcie_function, (n,)))
    if "error-body" in traits:
        tree.add(f"{P.chassis}/Assembly", Node(r_error_body))
