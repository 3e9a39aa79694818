"""State -> Redfish JSON, per flavour: the URI tree of a profile and the documents of the system side
(ComputerSystem, processors, memory, NICs, BIOS, storage, virtual media).

A ``Tree`` is built once per profile and shared by every host of that profile; it maps each static
URI (matched case-insensitively, trailing slash ignored) to a ``Node`` naming the renderer and the
write handlers. Members whose ids change at run time (sessions, volumes, tasks, log entries, Dell
firmware items) are resolved by a per-collection function. Chassis-side documents live in
``res_chassis``, services (managers, sessions, update, tasks, logs, registries) in ``res_services``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dcops.sim import identity
from dcops.sim.messages import base_text
from dcops.sim.profiles import (
    Flavour,
    HardwareProfile,
    cpu_id,
    cpu_locator,
    dimm_id,
    dimm_locator,
    drive_id,
    drive_locator,
    eth_id,
)
from dcops.sim.state import iso
from dcops.sim.storage import READ_CACHE, WRITE_CACHE

if TYPE_CHECKING:
    from dcops.sim.state import Bmc

Doc = dict[str, Any]

# @odata.type versions (all present in the DMTF 2025.4 CSDL bundle).
V = {
    # Oem console resources, versions as the captures carry them (dcops.sim.kvm)
    "DelliDRACCardService": "v1_1_0", "IKVM": "v1_0_2", "KvmService": "v1_0_0",
    "ServiceRoot": "v1_17_0", "ComputerSystem": "v1_20_0", "Processor": "v1_18_0", "Memory": "v1_17_0",
    "EthernetInterface": "v1_9_0", "Bios": "v1_2_0", "Storage": "v1_15_0", "StorageController": "v1_7_0",
    "Drive": "v1_17_0", "Volume": "v1_9_0", "VirtualMedia": "v1_6_0", "Certificate": "v1_7_0", "Chassis": "v1_23_0",
    "Thermal": "v1_7_0", "Power": "v1_7_1", "ThermalSubsystem": "v1_3_0", "Fan": "v1_5_0",
    "PowerSubsystem": "v1_1_0", "PowerSupply": "v1_5_0", "Sensor": "v1_9_0", "NetworkAdapter": "v1_9_0",
    "Port": "v1_8_0",  # LLDPReceive.SystemName (v1_8); HPE iLO 6 1.66 serves v1_6_0
    "Manager": "v1_17_0", "ManagerNetworkProtocol": "v1_10_0", "LogService": "v1_4_0", "LogEntry": "v1_15_0",
    "SessionService": "v1_1_8", "Session": "v1_6_0", "AccountService": "v1_13_0", "ManagerAccount": "v1_10_0", "Role": "v1_3_3",
    "UpdateService": "v1_11_0", "SoftwareInventory": "v1_9_0", "TaskService": "v1_2_0", "Task": "v1_7_0",
    "MessageRegistryFile": "v1_1_3", "ActionInfo": "v1_3_0",
    "PCIeDevice": "v1_21_0", "PCIeFunction": "v1_7_0", "LeakDetection": "v1_2_0", "LeakDetector": "v1_6_0",
}


class Node:
    """What a URI is: a renderer for GET and optional write handlers."""

    __slots__ = ("get", "args", "patch", "post", "delete", "kind", "collection")

    def __init__(self, get: Callable[..., Doc | None] | None, args: tuple[Any, ...] = (), *,
                 patch: Callable[..., Any] | None = None, post: Callable[..., Any] | None = None,
                 delete: Callable[..., Any] | None = None, kind: str = "", collection: bool = False) -> None:
        self.get = get
        self.args = args
        self.patch = patch
        self.post = post
        self.delete = delete
        self.kind = kind
        self.collection = collection


@dataclass
class Tree:
    """The URI space of one profile."""

    paths: Paths
    static: dict[str, Node] = field(default_factory=dict)
    dynamic: dict[str, Callable[[Bmc, str], Node | None]] = field(default_factory=dict)

    def add(self, path: str, node: Node) -> None:
        self.static[norm(path)] = node

    def resolve(self, bmc: Bmc, path: str) -> Node | None:
        key = norm(path)
        node = self.static.get(key)
        if node is not None:
            return node
        parent, _, _ = key.rpartition("/")
        resolver = self.dynamic.get(parent)
        if resolver is None:
            # An action of a dynamic member: <collection>/<id>/Actions/<Name> (Volume.Initialize).
            parts = path.rstrip("/").rsplit("/", 3)
            owner = self.dynamic.get(norm(parts[0])) if len(parts) == 4 and parts[2].lower() == "actions" else None
            member = owner(bmc, parts[1]) if owner is not None else None
            return None if member is None else _member_action(member, parts[3])
        leaf = path.rstrip("/").rsplit("/", 1)[-1]
        return resolver(bmc, leaf)


def _member_action(member: Node, name: str) -> Node | None:
    from dcops.sim import writes

    if member.kind == "Volume" and name.lower() == "volume.initialize":
        return Node(None, member.args, post=writes.initialize_volume)
    return None


def norm(path: str) -> str:
    """The matching key of a URI: lower case, no trailing slash."""
    return path.rstrip("/").lower() or "/"


class Paths:
    """Canonical URIs of one profile."""

    def __init__(self, profile: HardwareProfile) -> None:
        fl = profile.flavour
        self.profile = profile
        self.root = "/redfish/v1"
        self.systems = "/redfish/v1/Systems"
        self.system = f"{self.systems}/{fl.system_id}"
        self.chassis_coll = "/redfish/v1/Chassis"
        self.chassis = f"{self.chassis_coll}/{fl.chassis_id}"
        self.managers = "/redfish/v1/Managers"
        self.manager = f"{self.managers}/{fl.manager_id}"
        self.bios = f"{self.system}/Bios"
        self.bios_settings = f"{self.bios}/{fl.bios_settings_id}"
        self.storage_coll = f"{self.system}/Storage"
        self.storage = f"{self.storage_coll}/{fl.storage_id}"
        self.controllers = f"{self.storage}/Controllers"
        self.volumes = f"{self.storage}/Volumes"
        self.enclosure = f"{self.chassis_coll}/{fl.drives_at}" if fl.drives_at != "storage" else None
        self.drives = f"{self.enclosure}/Drives" if self.enclosure else f"{self.storage}/Drives"
        owner = self.manager if fl.log_at == "manager" else self.system
        self.log_services = f"{owner}/LogServices"
        self.log = f"{self.log_services}/{fl.log_id}"
        self.log_entries = f"{self.log}/Entries"
        vm_owner = self.manager if fl.vmedia_at == "manager" else self.system
        self.vmedia = f"{vm_owner}/VirtualMedia"
        self.sessions = "/redfish/v1/SessionService/Sessions"
        self.firmware = "/redfish/v1/UpdateService/FirmwareInventory"
        self.tasks = "/redfish/v1/TaskService/Tasks"
        self.task_monitors = "/redfish/v1/TaskService/TaskMonitors"
        self.registries = "/redfish/v1/Registries"


class Ctx:
    """One rendering: the BMC, its flavour and profile, and the time."""

    __slots__ = ("bmc", "fl", "p", "P", "now")

    def __init__(self, bmc: Bmc, paths: Paths, now: float | None = None) -> None:
        self.bmc = bmc
        self.fl: Flavour = bmc.profile.flavour
        self.p: HardwareProfile = bmc.profile
        self.P = paths
        self.now = bmc.clock() if now is None else now

    def doc(self, typ: str, path: str, body: Doc) -> Doc:
        """A resource document: @odata.id and @odata.type first, @odata.context when the flavour has it."""
        out: Doc = {"@odata.id": path, "@odata.type": f"#{typ}.{V[typ]}.{typ}"}
        if self.fl.odata_context:
            out["@odata.context"] = f"/redfish/v1/$metadata#{typ}.{typ}"
        out.update(body)
        return out

    def collection(self, typ: str, path: str, name: str, members: list[str]) -> Doc:
        out: Doc = {"@odata.id": path, "@odata.type": f"#{typ}Collection.{typ}Collection"}
        if self.fl.odata_context:
            out["@odata.context"] = f"/redfish/v1/$metadata#{typ}Collection.{typ}Collection"
        out["Name"] = name
        out["Members@odata.count"] = len(members)
        out["Members"] = [{"@odata.id": m} for m in members]
        return out

    def hpath(self, path: str, slash: bool = True) -> str:
        """A URI as the flavour writes it in some links. Quirk (HPE iLO): lower case, often with a
        trailing slash (/redfish/v1/systems/1/bios/settings/); clients must follow links as given."""
        if self.fl.lowercase_links:
            return path.lower() + ("/" if slash else "")
        return path

    def hlink(self, path: str, slash: bool = True) -> Doc:
        return {"@odata.id": self.hpath(path, slash)}


def etag_of(body: bytes) -> str:
    """The weak ETag of a serialised document (CRC-32 of its bytes)."""
    import zlib

    return f'W/"{zlib.crc32(body):08X}"'


def link(path: str) -> Doc:
    return {"@odata.id": path}


def status(health: str = "OK", state: str = "Enabled", rollup: str | None = None) -> Doc:
    out: Doc = {"State": state, "Health": health}
    if rollup is not None:
        out["HealthRollup"] = rollup
    return out


# ---------------------------------------------------------------------------------------------
# Systems

def r_systems(c: Ctx) -> Doc:
    from dcops.sim.traits import system_members

    return c.collection("ComputerSystem", c.P.systems, "Computer System Collection", system_members(c))


def r_system(c: Ctx) -> Doc:
    b, p, fl, P = c.bmc, c.p, c.fl, c.P
    health = b.system_health()
    cpu_health = b.rollup("cpu:")
    mem_health = b.rollup("dimm:")
    body: Doc = {
        "Id": fl.system_id,
        "Name": "System",
        "SystemType": "Physical",
        "Manufacturer": fl.manufacturer,
        "Model": p.model,
        "SKU": b.serial if fl.name == "dell" else (p.sku_prefix or p.model),
        "SerialNumber": b.serial,
        "PartNumber": p.sku_prefix or "0X0DW3A01",
        "UUID": b.uuid,
        "AssetTag": b.asset_tag,
        "HostName": "",
        "BiosVersion": b.firmware.version("bios"),
        "PowerState": b.power,
        "LastResetTime": iso(b.last_reset),
        "BootProgress": {"LastState": b.boot_progress},
        "LocationIndicatorActive": b.indicator_led != "Off",
        "Status": status(health, "Enabled", health),
        "ProcessorSummary": {
            "Count": p.sockets, "CoreCount": p.sockets * p.cpu.cores,
            "LogicalProcessorCount": p.sockets * p.cpu.threads, "Model": p.cpu.model,
        },
        "MemorySummary": {
            "TotalSystemMemoryGiB": p.memory_gib, "MemoryMirroring": "System",
        },
        "Boot": {
            "BootSourceOverrideEnabled": b.boot["BootSourceOverrideEnabled"],
            "BootSourceOverrideTarget": b.boot["BootSourceOverrideTarget"],
            "BootSourceOverrideTarget@Redfish.AllowableValues": list(fl.boot_targets),
            "BootSourceOverrideMode": b.boot["BootSourceOverrideMode"],
            "BootSourceOverrideMode@Redfish.AllowableValues": ["UEFI", "Legacy"],
        },
        "Processors": link(f"{P.system}/Processors"),
        "Memory": link(f"{P.system}/Memory"),
        "EthernetInterfaces": link(f"{P.system}/EthernetInterfaces"),
        "Storage": link(P.storage_coll),
        "Bios": c.hlink(P.bios, slash=False),
        "Links": {"Chassis": [link(P.chassis)], "ManagedBy": [link(P.manager)]},
        "Actions": {"#ComputerSystem.Reset": {
            "target": f"{P.system}/Actions/ComputerSystem.Reset",
            "ResetType@Redfish.AllowableValues": list(fl.reset_types),
        }},
    }
    if fl.name == "dell":
        # iDRAC still reports the deprecated summary Status objects and IndicatorLED.
        body["IndicatorLED"] = "Lit" if b.indicator_led != "Off" else "Off"
        body["ProcessorSummary"]["Status"] = status(cpu_health, "Enabled", cpu_health)
        body["MemorySummary"]["Status"] = status(mem_health, "Enabled", mem_health)
    if fl.log_at == "system":
        body["LogServices"] = link(P.log_services)
    if fl.vmedia_at == "system":
        body["VirtualMedia"] = link(P.vmedia)
    if b.boot_progress != "None" and b.power != "Off":
        body["BootProgress"]["LastStateTime"] = iso(b.last_reset)
    if not fl.boot_progress:
        del body["BootProgress"]  # not on this firmware (see Flavour.boot_progress)
    if not fl.last_reset_time:
        del body["LastResetTime"]
    if fl.oem == "Dell":
        body["Oem"] = {"Dell": {"@odata.type": "#DellOem.v1_3_0.DellOemResources", "DellSystem": {
            "ChassisServiceTag": b.serial, "ExpressServiceCode": str(int(b.serial, 36)),
            "SystemGeneration": "15G Monolithic", "MaxDIMMSlots": p.sockets * p.dimm_slots_per_socket,
            "PopulatedDIMMSlots": p.sockets * p.dimms_per_socket, "CPURollupStatus": cpu_health,
            "FanRollupStatus": b.rollup("fan:"), "PSRollupStatus": b.rollup("psu:"),
            "StorageRollupStatus": b.storage.health(), "TempRollupStatus": b.rollup("temp:"),
            "SysMemPrimaryStatus": mem_health}}}
    elif fl.oem == "Hpe":
        post = {"On": "FinishedPost", "PoweringOn": "InPost", "PoweringOff": "InPostDiscoveryComplete"}
        body["Oem"] = {"Hpe": {"@odata.type": "#HpeComputerSystemExt.v2_14_0.HpeComputerSystemExt",
                               "PostState": post.get(b.power, "PowerOff"),
                               "PowerRegulatorMode": "Dynamic", "ServerAssetTag": b.asset_tag,
                               # As in the DL360 Gen10 Plus (iLO 5 3.11) capture: lower case, a list.
                               "SmartStorageConfig": [c.hlink(f"{P.system}/smartstorageconfig", False)]}}
    return c.doc("ComputerSystem", P.system, body)


def r_processors(c: Ctx) -> Doc:
    return c.collection("Processor", f"{c.P.system}/Processors", "Processors Collection",
                        [f"{c.P.system}/Processors/{cpu_id(c.fl, s)}" for s in range(1, c.p.sockets + 1)])


def r_processor(c: Ctx, sock: int) -> Doc:
    p, fl = c.p, c.fl
    health = c.bmc.component_health(f"cpu:{sock}")
    vendor = "GenuineIntel" if p.cpu.manufacturer == "Intel" else "AuthenticAMD"
    return c.doc("Processor", f"{c.P.system}/Processors/{cpu_id(fl, sock)}", {
        "Id": cpu_id(fl, sock), "Name": f"CPU {sock}", "Socket": cpu_locator(fl, sock),
        "ProcessorType": "CPU", "ProcessorArchitecture": p.cpu.arch, "InstructionSet": p.cpu.isa,
        "Manufacturer": p.cpu.manufacturer, "Model": p.cpu.model, "MaxSpeedMHz": p.cpu.max_mhz,
        "TotalCores": p.cpu.cores, "TotalEnabledCores": p.cpu.cores, "TotalThreads": p.cpu.threads,
        "ProcessorId": {"VendorId": vendor},
        "SerialNumber": identity.hex_serial(c.bmc.seed, c.bmc.index, f"cpu{sock}", 16),
        "Status": status(health),
    })


def dimm_slots(c: Ctx) -> list[tuple[int, int, bool]]:
    slots = c.p.dimm_slots()
    return slots if c.fl.list_absent_dimms else [s for s in slots if s[2]]


def r_memory_coll(c: Ctx) -> Doc:
    per = c.p.dimm_slots_per_socket
    return c.collection("Memory", f"{c.P.system}/Memory", "Memory Collection",
                        [f"{c.P.system}/Memory/{dimm_id(c.fl, s, n, per)}" for s, n, _ in dimm_slots(c)])


def r_memory(c: Ctx, sock: int, slot: int, populated: bool) -> Doc:
    p, fl = c.p, c.fl
    per = p.dimm_slots_per_socket
    mid = dimm_id(fl, sock, slot, per)
    path = f"{c.P.system}/Memory/{mid}"
    locator = dimm_locator(fl, sock, slot, per)
    if not populated:
        return c.doc("Memory", path, {"Id": mid, "Name": locator, "Status": {"State": "Absent"}})
    health = c.bmc.component_health(f"dimm:{sock}:{slot}")
    return c.doc("Memory", path, {
        "Id": mid, "Name": locator, "MemoryType": "DRAM", "MemoryDeviceType": p.dimm.device_type,
        "CapacityMiB": p.dimm.capacity_gib * 1024, "OperatingSpeedMhz": p.dimm.speed_mhz,
        "AllowedSpeedsMHz": [p.dimm.speed_mhz], "Manufacturer": p.dimm.manufacturer,
        "PartNumber": p.dimm.part_number, "RankCount": p.dimm.ranks, "DataWidthBits": 64, "BusWidthBits": 72,
        "ErrorCorrection": "MultiBitECC",
        "SerialNumber": identity.hex_serial(c.bmc.seed, c.bmc.index, f"dimm{sock}.{slot}"),
        "MemoryLocation": {"Socket": sock, "Slot": slot, "Channel": (slot - 1) // 2, "MemoryController": 0},
        "Location": {"PartLocation": {"ServiceLabel": locator, "LocationType": "Slot",
                                      "LocationOrdinalValue": (sock - 1) * per + slot}},
        "Status": status(health),
    })


def _eth_ports(c: Ctx) -> list[tuple[str, int, int, int]]:
    """(id, nic index 1-based, port 1-based, global port number 0-based) for every host NIC port."""
    out = []
    n = 0
    for i, nic in enumerate(c.p.nics, start=1):
        for port in range(1, nic.ports + 1):
            out.append((eth_id(c.fl, n + 1, i, nic, port), i, port, n))
            n += 1
    return out


def r_eth_coll(c: Ctx) -> Doc:
    return c.collection("EthernetInterface", f"{c.P.system}/EthernetInterfaces", "System Ethernet Interfaces",
                        [f"{c.P.system}/EthernetInterfaces/{eid}" for eid, *_ in _eth_ports(c)])


def r_eth(c: Ctx, eid: str, nic_index: int, port: int, n: int) -> Doc:
    nic = c.p.nics[nic_index - 1]
    mac = c.bmc.mac(n)
    up = c.bmc.power == "On"
    return c.doc("EthernetInterface", f"{c.P.system}/EthernetInterfaces/{eid}", {
        "Id": eid, "Name": f"{nic.model} port {port}", "MACAddress": mac, "PermanentMACAddress": mac,
        "SpeedMbps": nic.speed_mbps, "FullDuplex": True, "AutoNeg": True, "InterfaceEnabled": True,
        "LinkStatus": "LinkUp" if up else "LinkDown", "Status": status(),
    })


# ---------------------------------------------------------------------------------------------
# BIOS

def r_bios(c: Ctx) -> Doc:
    b, P = c.bmc, c.P
    reg = b.registry
    body: Doc = {
        "Id": "bios" if c.fl.name == "hpe" else "Bios",
        "Name": "BIOS Configuration Current Settings",
        "AttributeRegistry": reg.id,
        "Attributes": b.bios_attributes(),
        "@Redfish.Settings": {
            "@odata.type": "#Settings.v1_3_5.Settings",
            "SettingsObject": c.hlink(P.bios_settings),
            "SupportedApplyTimes": ["OnReset"],
        },
    }
    if not c.fl.lowercase_links:
        body["Actions"] = {"#Bios.ResetBios": {"target": f"{P.bios}/Actions/Bios.ResetBios"}}
    if c.fl.lowercase_links:
        # sushy sends @Redfish.Settings.ETag as If-Match when it PATCHes the settings object.
        import orjson

        settings = r_bios_settings(c)
        settings.pop("@odata.etag", None)
        body["@Redfish.Settings"]["ETag"] = etag_of(orjson.dumps(settings))
    if b.bios_applied_at is not None:
        body["@Redfish.Settings"]["Time"] = iso(b.bios_applied_at)
        if b.bios_failed:
            # Settings the BIOS dropped at POST (bios_refuse): one message per attribute, as the
            # Settings annotation allows, so a client can tell "not applied" from "applied".
            body["@Redfish.Settings"]["Messages"] = [
                {"MessageId": f"{c.fl.base_registry}.PropertyNotUpdated",
                 "Message": base_text("PropertyNotUpdated", (name,))[1], "MessageArgs": [name],
                 "MessageSeverity": "Critical", "RelatedProperties": [f"#/Attributes/{name}"]}
                for name in b.bios_failed]
        else:
            body["@Redfish.Settings"]["Messages"] = [{"MessageId": f"{c.fl.base_registry}.Success",
                                                       "Message": "The request completed successfully."}]
    return c.doc("Bios", P.bios, body)


def r_bios_settings(c: Ctx) -> Doc:
    b = c.bmc
    if c.fl.bios_settings_full:
        attrs = b.bios_attributes() if not b.bios_reset_pending else {}
        attrs.update(b.bios_pending)
    else:
        attrs = dict(b.bios_pending)
    path = c.hpath(c.P.bios_settings)
    body: Doc = {"Id": c.fl.bios_settings_id, "Name": "BIOS Configuration Pending Settings",
                 "AttributeRegistry": b.registry.id, "Attributes": attrs}
    if c.fl.lowercase_links:
        # Quirk (HPE iLO): ResetBios is an action of the settings object, under its lower-case URI.
        body["Actions"] = {"#Bios.ResetBios": {"target": f"{path.rstrip('/')}/Actions/Bios.ResetBios"}}
    return c.doc("Bios", path, body)


# ---------------------------------------------------------------------------------------------
# Storage

def r_storage_coll(c: Ctx) -> Doc:
    return c.collection("Storage", c.P.storage_coll, "Storage Collection", [c.P.storage])


def r_storage(c: Ctx) -> Doc:
    b, P = c.bmc, c.P
    health = b.storage.health()
    drives = [f"{P.drives}/{did}" for did in b.storage.drive_ids()]
    body: Doc = {
        "Id": c.fl.storage_id, "Name": c.p.raid_model,
        "Status": status("OK", "Enabled", health),
        "Drives@odata.count": len(drives), "Drives": [link(d) for d in drives],
        "Volumes": link(P.volumes), "Controllers": link(P.controllers),
        "Links": {"Enclosures": [link(P.enclosure or P.chassis)]},
    }
    return c.doc("Storage", P.storage, body)


def r_controllers(c: Ctx) -> Doc:
    return c.collection("StorageController", c.P.controllers, "Storage Controllers", [f"{c.P.controllers}/0"])


def r_controller(c: Ctx) -> Doc:
    b, p = c.bmc, c.p
    busy = c.now < b.storage.busy_until
    return c.doc("StorageController", f"{c.P.controllers}/0", {
        "Id": "0", "Name": p.raid_model, "Model": p.raid_model,
        "Manufacturer": "Broadcom / LSI", "FirmwareVersion": b.firmware.version("raid"),
        "SerialNumber": identity.serial(b.seed, b.index, "raid", 12, "SK"),
        "SupportedRAIDTypes": ["RAID0", "RAID1", "RAID5", "RAID6", "RAID10"],
        "SupportedControllerProtocols": ["PCIe"],
        "SupportedDeviceProtocols": sorted({d.protocol for d in p.drives}),
        "Status": status("OK", "Updating" if busy else "Enabled"),
    })


def r_drive(c: Ctx, bay: int) -> Doc:
    b, fl = c.bmc, c.fl
    spec = c.p.drives[bay]
    drive = b.storage.drives[bay]
    did = drive_id(fl, bay)
    vol = b.storage.volume_of(bay)
    state = "Enabled"
    if drive.failed:
        state = "UnavailableOffline"
    elif vol is not None and vol.rebuild_until is not None and c.now < vol.rebuild_until:
        state = "Updating"
    body: Doc = {
        "Id": did, "Name": drive_locator(fl, bay), "Model": spec.model, "Manufacturer": spec.manufacturer,
        "SerialNumber": identity.serial(b.seed, b.index, f"drive{bay}", 12, "S"),
        "Revision": b.firmware.version(f"drive{bay}"), "MediaType": spec.media, "Protocol": spec.protocol,
        "CapacityBytes": spec.capacity_bytes, "BlockSizeBytes": 512,
        "FailurePredicted": drive.predicted, "HotspareType": drive.hotspare, "WriteCacheEnabled": drive.write_cache,
        "PhysicalLocation": {"PartLocation": {"ServiceLabel": drive_locator(fl, bay), "LocationType": "Bay",
                                              "LocationOrdinalValue": bay}},
        "Status": status(b.storage.drive_health(bay), state),
        "Links": {"Volumes": [link(f"{c.P.volumes}/{vol.id}")] if vol else []},
        "Actions": {"#Drive.SecureErase": {"target": f"{c.P.drives}/{did}/Actions/Drive.SecureErase"}},
    }
    if spec.rpm:
        body["RotationSpeedRPM"] = spec.rpm
    raid_status = b.storage.raid_status(bay)
    if fl.oem == "Dell":
        body["Oem"] = {"Dell": {"@odata.type": "#DellOem.v1_3_0.DellOemResources", "DellPhysicalDisk": {
            "@odata.type": "#DellPhysicalDisk.v1_6_0.DellPhysicalDisk", "Id": did, "Name": "DellPhysicalDisk",
            "RaidStatus": raid_status, "HotSpareStatus": "No" if drive.hotspare == "None" else drive.hotspare,
            "MediaType": spec.media}}}
    elif fl.oem != "Hpe":  # iLO 5: the disk mode is the controller's, in SmartStorageConfig
        # Not a vendor's shape: the simulator's documented simple form of Ready / Non-RAID (PATCHable).
        body["Oem"] = {"DcopsSim": {"@odata.type": "#DcopsSimDrive.v1_0_0.DcopsSimDrive", "RaidStatus": raid_status}}
    return c.doc("Drive", f"{c.P.drives}/{did}", body)


def r_drives_coll(c: Ctx) -> Doc:
    return c.collection("Drive", c.P.drives, "Drive Collection",
                        [f"{c.P.drives}/{did}" for did in c.bmc.storage.drive_ids()])


def r_volumes(c: Ctx) -> Doc:
    doc = c.collection("Volume", c.P.volumes, "Volume Collection",
                       [f"{c.P.volumes}/{v.id}" for v in c.bmc.storage.volumes])
    # As the Dell R750 capture's collections carry it (there: OnReset only, on its AHCI controllers).
    doc["@Redfish.OperationApplyTimeSupport"] = {"@odata.type": "#Settings.v1_3_3.OperationApplyTimeSupport",
                                                 "SupportedValues": c.bmc.storage.apply_times()}
    if c.fl.spare_binding == "dmtf":
        # HPE iLO 5 3.11 / iLO 6 1.66 captures: a capabilities object for volume creation.
        doc["@Redfish.CollectionCapabilities"] = {
            "@odata.type": "#CollectionCapabilities.v1_2_0.CollectionCapabilities", "MaxMembers": 64,
            "Capabilities": [{"CapabilitiesObject": link(f"{c.P.volumes}/Capabilities"), "UseCase": "VolumeCreation",
                              "Links": {"TargetCollection": link(c.P.volumes)}}]}
    return doc


def r_volume_caps(c: Ctx) -> Doc:
    """The Volumes collection's capabilities object, as in the HPE iLO 5 3.11 capture."""
    return c.doc("Volume", f"{c.P.volumes}/Capabilities", {
        "Id": "Capabilities", "Name": "Capabilities for VolumeCollection",
        "CapacityBytes@Redfish.OptionalOnCreate": True, "DisplayName@Redfish.OptionalOnCreate": True,
        "Links@Redfish.RequiredOnCreate": True,
        "Links": {"Drives@Redfish.RequiredOnCreate": True, "DedicatedSpareDrives@Redfish.OptionalOnCreate": True,
                  "DedicatedSpareDrives@Redfish.UpdatableAfterCreate": True},
        "RAIDType@Redfish.RequiredOnCreate": True,
        "RAIDType@Redfish.AllowableValues": ["RAID0", "RAID1", "RAID5", "RAID6", "RAID10"],
        "ReadCachePolicy@Redfish.OptionalOnCreate": True, "ReadCachePolicy@Redfish.UpdatableAfterCreate": True,
        "ReadCachePolicy@Redfish.AllowableValues": list(READ_CACHE),
        "WriteCachePolicy@Redfish.OptionalOnCreate": True, "WriteCachePolicy@Redfish.UpdatableAfterCreate": True,
        "WriteCachePolicy@Redfish.AllowableValues": list(WRITE_CACHE)})


def r_volume(c: Ctx, vid: str) -> Doc | None:
    b = c.bmc
    vol = b.storage.volume(vid)
    if vol is None:
        return None
    health, state = b.storage.volume_status(vol, c.now)
    body: Doc = {
        "Id": vol.id, "Name": vol.name, "DisplayName": vol.name, "RAIDType": vol.raid_type,
        "CapacityBytes": vol.capacity_bytes, "Encrypted": vol.encrypted, "BlockSizeBytes": 512,
        "StripSizeBytes": vol.strip_size,
        "Actions": {"#Volume.Initialize": {
            "target": f"{c.P.volumes}/{vol.id}/Actions/Volume.Initialize",
            "InitializeType@Redfish.AllowableValues": ["Fast", "Slow"]}},
        "ReadCachePolicy": vol.read_cache, "ReadCachePolicy@Redfish.AllowableValues": list(READ_CACHE),
        "WriteCachePolicy": vol.write_cache, "WriteCachePolicy@Redfish.AllowableValues": list(WRITE_CACHE),
        "Status": status(health, state),
        "Identifiers": [{"DurableName": vol.wwn, "DurableNameFormat": "NAA"}] if vol.wwn else [],
        "Links": {"Drives": [link(f"{c.P.drives}/{drive_id(c.fl, bay)}") for bay in vol.drives],
                  "DedicatedSpareDrives": [link(f"{c.P.drives}/{drive_id(c.fl, bay)}") for bay in vol.spares]},
    }
    if c.fl.spare_binding == "dmtf":
        # As HPE iLO 6 1.66 lists it (Volumes/239 of its capture).
        body["Links"]["@Redfish.WriteableProperties"] = ["DedicatedSpareDrives"]
    if vol.rebuild_until is not None and vol.rebuild_start is not None and c.now < vol.rebuild_until:
        span = max(vol.rebuild_until - vol.rebuild_start, 1e-9)
        body["Operations"] = [{"Operation": "Rebuild",
                               "PercentageComplete": int((c.now - vol.rebuild_start) / span * 100)}]
    return c.doc("Volume", f"{c.P.volumes}/{vol.id}", body)


def _hpe_ssc_body(c: Ctx, mode: str, path: str) -> Doc:
    st = c.bmc.storage
    drives = [f"{2 if bay < 4 else 1}I:1:{bay + 1}" for bay in range(len(st.drives))]
    return {
        "@odata.context": "/redfish/v1/$metadata#SmartStorageConfig.SmartStorageConfig",
        "@odata.id": path, "@odata.type": "#SmartStorageConfig.v2_0_2.SmartStorageConfig",
        "Id": path.rstrip("/").rsplit("/", 1)[-1], "DataGuard": "Strict", "Location": "Slot 12",
        "LocationFormat": "PCISlot",
        "LogicalDrives": [{"LogicalDriveName": v.name, "LogicalDriveNumber": v.n, "Raid": v.raid_type.title(),
                           "DataDrives": [drives[b] for b in v.drives], "SpareDrives": [drives[b] for b in v.spares],
                           "DriveLocationFormat": "ControllerPort:Box:Bay"} for v in st.volumes],
        "PhysicalDrives": [{"Location": loc, "LocationFormat": "ControllerPort:Box:Bay"} for loc in drives],
        "Ports": [{"PortIndex": 0, "OperatingModeAfterReboot": mode},
                  {"PortIndex": 1, "OperatingModeAfterReboot": mode}],
    }


def r_hpe_smart_storage_config(c: Ctx) -> Doc:
    """HPE iLO 5 SmartStorageConfig (the DL360 Gen10 Plus capture's shape, trimmed): the mode in
    effect, and @Redfish.Settings naming the settings object with the last apply's outcome."""
    st = c.bmc.storage
    base = c.hpath(f"{c.P.system}/smartstorageconfig")
    body = _hpe_ssc_body(c, st.hpe_mode, base)
    body["@Redfish.Settings"] = {"@odata.type": "#Settings.v1_0_0.Settings",
                                 "Messages": [{"MessageId": st.hpe_mode_message}],
                                 "SettingsObject": {"@odata.id": f"{base}settings/"}}
    return body


def r_hpe_smart_storage_settings(c: Ctx) -> Doc:
    st = c.bmc.storage
    return _hpe_ssc_body(c, st.hpe_mode_staged or st.hpe_mode, c.hpath(f"{c.P.system}/smartstorageconfig/settings"))


def r_dell_jobs(c: Ctx) -> Doc:
    """iDRAC's job queue (not linked from the Manager here: its DellJob schema is OEM)."""
    from dcops.sim import jobs as dell_jobs

    queue = c.bmc.jobs.jobs if c.bmc.jobs is not None else {}
    return {"@odata.context": "/redfish/v1/$metadata#DellJobCollection.DellJobCollection",
            "@odata.id": dell_jobs.QUEUE, "@odata.type": "#DellJobCollection.DellJobCollection",
            "Name": "JobQueue", "Description": "Collection of Job Instances",
            "Members@odata.count": len(queue), "Members": [link(f"{dell_jobs.QUEUE}/{j}") for j in queue]}


def r_dell_job(c: Ctx, job_id: str) -> Doc | None:
    if c.bmc.jobs is None or job_id not in c.bmc.jobs.jobs:
        return None
    return c.bmc.jobs.doc(c.bmc.jobs.jobs[job_id])


def r_dell_raid_service(c: Ctx) -> Doc:
    """Dell's DellRaidService, with the two actions the simulator models (Ready <-> Non-RAID)."""
    path = f"{c.P.system}/Oem/Dell/DellRaidService"
    return {"@odata.context": "/redfish/v1/$metadata#DellRaidService.DellRaidService", "@odata.id": path,
            "@odata.type": "#DellRaidService.v1_5_1.DellRaidService", "Id": "DellRaidService",
            "Name": "DellRaidService", "Description": "The DellRaidService resource provides some actions to "
                                                      "support RAID functionality.",
            "Actions": {f"#DellRaidService.{a}": {"target": f"{path}/Actions/DellRaidService.{a}"}
                        for a in ("ConvertToNonRAID", "ConvertToRAID", "AssignSpare", "UnassignSpare")}}


# ---------------------------------------------------------------------------------------------
# Virtual media

def r_vmedia_coll(c: Ctx) -> Doc:
    return c.collection("VirtualMedia", c.P.vmedia, "Virtual Media Services",
                        [f"{c.P.vmedia}/{vid}" for vid, _ in c.fl.vmedia])


def r_vmedia(c: Ctx, vid: str) -> Doc:
    fl = c.fl
    media = c.bmc.vmedia[vid]
    path = f"{c.P.vmedia}/{vid}"
    actions: Doc = {}
    insert = {"target": f"{path}/Actions/VirtualMedia.InsertMedia"}
    if fl.name == "supermicro":
        insert["@Redfish.ActionInfo"] = f"{path}/InsertMediaActionInfo"
    # Quirk (Supermicro X13): only the action that applies right now is listed.
    if fl.name != "supermicro" or not media.inserted:
        actions["#VirtualMedia.InsertMedia"] = insert
    if fl.name != "supermicro" or media.inserted:
        actions["#VirtualMedia.EjectMedia"] = {"target": f"{path}/Actions/VirtualMedia.EjectMedia"}
    types = dict(fl.vmedia)[vid]
    return c.doc("VirtualMedia", path, {
        "Id": vid, "Name": "Virtual CD" if "CD" in types or not types else "Virtual Removable Media",
        # Gigabyte/AMI MegaRAC (VirtualMedia v1_3_1) lists no MediaTypes on its one slot.
        **({"MediaTypes": list(types)} if types else {}),
        "Image": media.image, "ImageName": media.image.rsplit("/", 1)[-1] if media.image else None,
        "Inserted": media.inserted, "WriteProtected": media.write_protected if media.inserted else None,
        "ConnectedVia": "URI" if media.inserted else "NotConnected",
        "TransferProtocolType": media.protocol, "UserName": media.user, "Password": None,
        **({"VerifyCertificate": media.verify_certificate, "Certificates": {"@odata.id": f"{path}/Certificates"}}
           if fl.vmedia_certificates else {}),
        "Actions": actions,
    })


def r_vmedia_certs(c: Ctx, vid: str) -> Doc:
    path = f"{c.P.vmedia}/{vid}/Certificates"
    return c.collection("Certificate", path, f"CertificateCollection_VM-{vid}",
                        [f"{path}/{n + 1}" for n in range(len(c.bmc.vmedia[vid].certificates))])


def r_vmedia_cert(c: Ctx, vid: str, n: int) -> Doc:
    return c.doc("Certificate", f"{c.P.vmedia}/{vid}/Certificates/{n + 1}", {
        "Id": str(n + 1), "Name": "Virtual media CA certificate", "CertificateType": "PEM",
        "CertificateString": c.bmc.vmedia[vid].certificates[n],
        "CertificateUsageTypes": ["Device"]})


def _vmedia_cert_ci(vid: str) -> Callable[[Bmc, str], Node | None]:
    def resolve(bmc: Bmc, leaf: str) -> Node | None:
        from dcops.sim import writes

        n = int(leaf) - 1 if leaf.isdigit() else -1
        return Node(r_vmedia_cert, (vid, n), delete=writes.delete_vmedia_cert, kind="Certificate") \
            if 0 <= n < len(bmc.vmedia[vid].certificates) else None
    return resolve


def r_insert_action_info(c: Ctx, vid: str) -> Doc:
    params = [{"Name": "Image", "Required": True, "DataType": "String"},
              {"Name": "UserName", "Required": False, "DataType": "String"},
              {"Name": "Password", "Required": False, "DataType": "String"},
              {"Name": "TransferProtocolType", "Required": False, "DataType": "String",
               "AllowableValues": ["HTTP", "HTTPS", "NFS", "CIFS"]}]
    return c.doc("ActionInfo", f"{c.P.vmedia}/{vid}/InsertMediaActionInfo",
                 {"Id": "InsertMediaActionInfo", "Name": "Insert Media Action Info", "Parameters": params})


# ---------------------------------------------------------------------------------------------
# The tree

_TREES: dict[str, Tree] = {}


def tree_for(profile: HardwareProfile) -> Tree:
    """The URI tree of ``profile`` (built once and shared by every host of the profile; looked up by
    name, since hashing the frozen profile on every request would cost more than the lookup)."""
    tree = _TREES.get(profile.name)
    if tree is None or tree.paths.profile is not profile:
        tree = _TREES[profile.name] = _build_tree(profile)
    return tree


def _build_tree(profile: HardwareProfile) -> Tree:
    from dcops.sim import res_chassis, res_services, traits, writes

    paths = Paths(profile)
    tree = Tree(paths)
    fl, P = profile.flavour, paths
    tree.add(P.systems, Node(r_systems, collection=True))
    tree.add(P.system, Node(r_system, patch=writes.patch_system, kind="ComputerSystem"))
    tree.add(f"{P.system}/Actions/ComputerSystem.Reset", Node(None, post=writes.system_reset))
    tree.add(f"{P.system}/Processors", Node(r_processors, collection=True))
    for sock in range(1, profile.sockets + 1):
        tree.add(f"{P.system}/Processors/{cpu_id(fl, sock)}", Node(r_processor, (sock,)))
    tree.add(f"{P.system}/Memory", Node(r_memory_coll, collection=True))
    for sock, slot, populated in profile.dimm_slots():
        if populated or fl.list_absent_dimms:
            tree.add(f"{P.system}/Memory/{dimm_id(fl, sock, slot, profile.dimm_slots_per_socket)}",
                     Node(r_memory, (sock, slot, populated)))
    tree.add(f"{P.system}/EthernetInterfaces", Node(r_eth_coll, collection=True))
    n = 0
    for i, nic in enumerate(profile.nics, start=1):
        for port in range(1, nic.ports + 1):
            eid = eth_id(fl, n + 1, i, nic, port)
            tree.add(f"{P.system}/EthernetInterfaces/{eid}", Node(r_eth, (eid, i, port, n)))
            n += 1
    tree.add(P.bios, Node(r_bios, kind="Bios"))
    tree.add(f"{P.bios}/Actions/Bios.ResetBios", Node(None, post=writes.bios_reset))
    tree.add(P.bios_settings, Node(r_bios_settings, patch=writes.patch_bios, kind="BiosSettings"))
    tree.add(f"{P.bios_settings}/Actions/Bios.ResetBios", Node(None, post=writes.bios_reset))
    tree.add(P.storage_coll, Node(r_storage_coll, collection=True))
    tree.add(P.storage, Node(r_storage))
    tree.add(P.controllers, Node(r_controllers, collection=True))
    tree.add(f"{P.controllers}/0", Node(r_controller))
    tree.add(P.volumes, Node(r_volumes, post=writes.create_volume, collection=True))
    tree.dynamic[norm(P.volumes)] = _volume_ci
    if fl.oem == "Dell":
        raid_service = f"{P.system}/Oem/Dell/DellRaidService"
        tree.add(raid_service, Node(r_dell_raid_service))
        tree.add(f"{raid_service}/Actions/DellRaidService.ConvertToNonRAID",
                 Node(None, (True,), post=writes.dell_convert))
        tree.add(f"{raid_service}/Actions/DellRaidService.ConvertToRAID",
                 Node(None, (False,), post=writes.dell_convert))
        tree.add(f"{raid_service}/Actions/DellRaidService.AssignSpare", Node(None, post=writes.dell_assign_spare))
        tree.add(f"{raid_service}/Actions/DellRaidService.UnassignSpare",
                 Node(None, post=writes.dell_unassign_spare))
    if fl.spare_binding == "dmtf":
        tree.add(f"{P.volumes}/Capabilities", Node(r_volume_caps))
    if fl.oem == "Hpe":
        tree.add(f"{P.system}/smartstorageconfig", Node(r_hpe_smart_storage_config))
        tree.add(f"{P.system}/smartstorageconfig/settings",
                 Node(r_hpe_smart_storage_settings, patch=writes.patch_hpe_smart_storage))
    if fl.spare_binding == "dell":
        from dcops.sim import jobs as dell_jobs

        tree.add(dell_jobs.QUEUE, Node(r_dell_jobs, post=writes.dell_create_job, collection=True))
        tree.dynamic[norm(dell_jobs.QUEUE)] = lambda bmc, leaf: (
            Node(r_dell_job, (leaf,)) if bmc.jobs is not None and leaf in bmc.jobs.jobs else None)
        tree.add(dell_jobs.DELETE_QUEUE, Node(None, post=writes.dell_delete_job_queue))
    if P.enclosure:
        tree.add(f"{P.drives}", Node(r_drives_coll, collection=True))
    for bay in range(len(profile.drives)):
        tree.add(f"{P.drives}/{drive_id(fl, bay)}", Node(r_drive, (bay,), patch=writes.patch_drive, kind="Drive"))
        tree.add(f"{P.drives}/{drive_id(fl, bay)}/Actions/Drive.SecureErase",
                 Node(None, (bay,), post=writes.secure_erase_drive))
    tree.add(P.vmedia, Node(r_vmedia_coll, collection=True))
    for vid, _ in fl.vmedia:
        if fl.vmedia_certificates:
            tree.add(f"{P.vmedia}/{vid}", Node(r_vmedia, (vid,), patch=writes.patch_vmedia, kind="VirtualMedia"))
            tree.add(f"{P.vmedia}/{vid}/Certificates", Node(r_vmedia_certs, (vid,), post=writes.add_vmedia_cert,
                                                            collection=True))
            tree.dynamic[norm(f"{P.vmedia}/{vid}/Certificates")] = _vmedia_cert_ci(vid)
        else:
            tree.add(f"{P.vmedia}/{vid}", Node(r_vmedia, (vid,)))
        tree.add(f"{P.vmedia}/{vid}/Actions/VirtualMedia.InsertMedia", Node(None, (vid,), post=writes.insert_media))
        tree.add(f"{P.vmedia}/{vid}/Actions/VirtualMedia.EjectMedia", Node(None, (vid,), post=writes.eject_media))
        if fl.name == "supermicro":
            tree.add(f"{P.vmedia}/{vid}/InsertMediaActionInfo", Node(r_insert_action_info, (vid,)))
    res_chassis.add_to_tree(tree, profile)
    res_services.add_to_tree(tree, profile)
    traits.add_to_tree(tree, profile)
    return tree


def _volume_ci(bmc: Bmc, leaf: str) -> Node | None:
    from dcops.sim import writes

    low = leaf.lower()
    vol = bmc.storage.volume(leaf) or next((v for v in bmc.storage.volumes if v.id.lower() == low), None)
    return Node(r_volume, (vol.id,), patch=writes.patch_volume, delete=writes.delete_volume,
                kind="Volume") if vol else None


def render(bmc: Bmc, path: str, now: float | None = None) -> Doc | None:
    """The document at ``path`` (None when there is none): the pure entry point tests use."""
    tree = tree_for(bmc.profile)
    node = tree.resolve(bmc, path)
    if node is None or node.get is None:
        return None
    return node.get(Ctx(bmc, tree.paths, now), *node.args)

