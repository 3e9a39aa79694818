"""Vendor flavours and hardware profiles of the simulator: shared, immutable templates.

A *flavour* is how one BMC family shapes its Redfish service (resource IDs, where VirtualMedia and
logs live, Thermal/Power or the newer subsystems, session limits, ETag rules, query support). A
*profile* is one server model of a flavour (CPUs, DIMMs, RAID, NICs, PSUs, fans, sensors, firmware).
Shapes follow the captures in ``tests/fixtures/vendors/`` (see SOURCES.md there); every per-host
value (serials, MACs, UUIDs) comes from ``identity`` and every mutable value from ``state``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

GIB = 1024**3
GB = 1000**3


@dataclass(frozen=True)
class Flavour:
    """How one BMC family shapes its Redfish service."""

    name: str
    manufacturer: str  # ComputerSystem.Manufacturer
    vendor: str  # the inventory's vendor name
    product: str  # ServiceRoot.Product
    redfish_version: str
    base_registry: str  # "Base.1.12": prefix of the Base MessageIds this BMC reports
    system_id: str
    chassis_id: str
    manager_id: str
    manager_model: str
    oem: str | None  # OEM key ("Dell", "Hpe", ...) or None
    # Thermal/Power (legacy), ThermalSubsystem/PowerSubsystem/Sensors, or both.
    thermal_model: str = "legacy"
    vmedia_at: str = "manager"  # "manager" or "system"
    vmedia: tuple[tuple[str, tuple[str, ...]], ...] = (("Cd", ("CD", "DVD")),)
    # InsertMedia parameters this BMC rejects with 400 (Supermicro X12/X13 quirk).
    vmedia_rejects: frozenset[str] = frozenset()
    # VirtualMedia ``VerifyCertificate`` + ``Certificates`` collection per slot (DMTF VirtualMedia
    # v1_4+; lenovo-thinksystem-sr670v2-xcc-2.83 shows both, VerifyCertificate false by default).
    vmedia_certificates: bool = False
    session_limit: int = 8
    session_timeout: int = 1800
    session_id_style: str = "seq"  # "seq" (1, 2, ...) or "hex" (HPE-like long ids)
    etag_required: frozenset[str] = frozenset()  # resource kinds whose PATCH needs If-Match
    odata_etag: bool = False  # bodies carry @odata.etag
    odata_context: bool = False  # bodies carry @odata.context
    lowercase_links: bool = False  # HPE: some links lower-case with a trailing slash
    expand_levels: int = 1  # 0: no $expand
    expand_all: bool = True  # "*" and "~" as well as "."
    top_skip: bool = True
    reject_unsupported_query: bool = True  # 501 for $expand/$top when unsupported (else ignore)
    # $select advertised (ProtocolFeaturesSupported.SelectQuery) and honoured, paths included:
    # the Dell, HPE, Lenovo and Supermicro captures advertise it; Huawei iBMC 3.12 advertises no
    # query option at all.
    select_query: bool = True
    log_at: str = "manager"  # where the SEL LogService lives
    log_id: str = "Sel"
    bios_settings_id: str = "Settings"
    bios_settings_full: bool = False  # the settings object repeats every attribute
    storage_id: str = "RAID.Integrated.1-1"
    drives_at: str = "storage"  # "storage" or the id of an enclosure chassis
    drive_id: str = "{bay}"  # format: bay, ctrl
    volume_id: str = "{n}"  # format: n, ctrl
    dimm_id: str = "DIMM{idx}"  # format: sock, slot, letter, idx
    list_absent_dimms: bool = False
    cpu_id: str = "CPU{sock}"
    psu_id: str = "PSU{n}"
    fan_id: str = "Fan{n}"
    nic_id: str = "NIC{n}"  # format: n, slot
    eth_id: str = "NIC{n}"  # ComputerSystem EthernetInterfaces ids; format n, nic, port
    fw_id_style: str = "named"  # "named", "numeric" or "dell" (Installed-<cid>-<version>__<FQDD>)
    power_on_when_on: str = "noop"  # "noop" (204) or "conflict" (409 like iDRAC)
    reset_types: tuple[str, ...] = (
        "On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "PushPowerButton",
        "PowerCycle",
    )
    boot_targets: tuple[str, ...] = ("None", "Pxe", "Cd", "Usb", "Hdd", "BiosSetup", "UefiHttp", "UefiTarget")
    task_id_style: str = "seq"  # "seq" or "jid" (Dell JID_nnnnnnnnnnnn)
    mac_oui: str = "02:00:00"
    serial_length: int = 10
    serial_prefix: str = ""
    # How a dedicated hot spare is bound to its volume: "dmtf" (Volume Links.DedicatedSpareDrives
    # writable, as HPE iLO 6 publishes it), "dell" (DellRaidService.AssignSpare; Drive HotspareType
    # read-only) or "none" (the BMC has no way; Drive HotspareType takes None and Global only).
    spare_binding: str = "none"
    # Whether ComputerSystem has BootProgress: the Dell iDRAC9 6.00, HPE iLO 5 3.11 and Lenovo XCC
    # 2.83 captures have none (clients must not depend on it); Supermicro X13 and iLO 6 have it.
    boot_progress: bool = True
    last_reset_time: bool = True  # ComputerSystem.LastResetTime (absent in the iLO 5 and XCC captures)


@dataclass(frozen=True)
class CpuSpec:
    model: str
    manufacturer: str
    cores: int
    threads: int
    max_mhz: int
    arch: str = "x86"
    isa: str = "x86-64"


@dataclass(frozen=True)
class DimmSpec:
    capacity_gib: int
    speed_mhz: int
    manufacturer: str
    part_number: str
    device_type: str = "DDR4"
    ranks: int = 2


@dataclass(frozen=True)
class DriveSpec:
    model: str
    manufacturer: str
    media: str  # SSD or HDD
    protocol: str  # SAS, SATA, NVMe
    capacity_bytes: int
    firmware: str
    rpm: int | None = None


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    raid_type: str
    drives: tuple[int, ...]


@dataclass(frozen=True)
class NicSpec:
    model: str
    manufacturer: str
    ports: int
    speed_mbps: int
    firmware: str
    part_number: str
    slot: str  # "Embedded.1", "Integrated.1", "Slot.3"


@dataclass(frozen=True)
class TempSpec:
    key: str  # inlet, exhaust, cpu1, ...: the name faults use, whatever the flavour calls it
    name: str
    context: str  # PhysicalContext
    reading: float
    upper_caution: float
    upper_critical: float


@dataclass(frozen=True)
class VoltSpec:
    key: str
    name: str
    reading: float
    lower_critical: float
    upper_critical: float


@dataclass(frozen=True)
class HardwareProfile:
    """One server model: the template every simulated host of this model shares."""

    name: str
    flavour: Flavour
    model: str
    sku_prefix: str
    u_height: int
    cpu: CpuSpec
    sockets: int
    dimm: DimmSpec
    dimm_slots_per_socket: int
    dimms_per_socket: int
    raid_model: str
    raid_firmware: str
    drives: tuple[DriveSpec, ...]
    volumes: tuple[VolumeSpec, ...]
    nics: tuple[NicSpec, ...]
    psu_watts: int
    psu_model: str
    psu_firmware: str
    fans: int
    fan_names: tuple[str, ...]
    fan_rpm: int
    temps: tuple[TempSpec, ...]
    volts: tuple[VoltSpec, ...]
    bmc_firmware: str
    bios_version: str
    cpld_version: str
    supplier: str
    service_provider: str
    idle_watts: int = 180
    load_watts: int = 420
    hot_spares: tuple[int, ...] = ()
    # @Redfish.OperationApplyTimeSupport of the controller's Volumes collection: a PERC/Smart Array/
    # MegaRAID applies at once; Dell's BOSS and AHCI controllers only OnReset (the R750 capture).
    raid_apply_times: tuple[str, ...] = ("Immediate", "OnReset")
    extra_firmware: tuple[tuple[str, str, str], ...] = field(default=())  # (key, name, version)
    traits: frozenset[str] = frozenset()  # real-service traits served on top (dcops.sim.traits)
    page_size: int = 0  # > 0: collections are served in pages of this many members

    @property
    def vendor(self) -> str:
        return self.flavour.vendor

    def dimm_slots(self) -> list[tuple[int, int, bool]]:
        """Every DIMM slot as (socket, slot, populated); populated slots come first per socket."""
        return [(sock, slot, slot <= self.dimms_per_socket)
                for sock in range(1, self.sockets + 1)
                for slot in range(1, self.dimm_slots_per_socket + 1)]

    @property
    def memory_gib(self) -> int:
        return self.sockets * self.dimms_per_socket * self.dimm.capacity_gib


# ---------------------------------------------------------------------------------------------
# Flavours. The comments name the capture each choice comes from.

DELL = Flavour(
    # dell-poweredge-r750-idrac9-6.00: System.Embedded.1, iDRAC.Embedded.1, SEL under the manager,
    # VirtualMedia CD/RemovableDisk under the manager, Bios/Settings, no @odata.etag in bodies.
    name="dell", manufacturer="Dell Inc.", vendor="Dell", product="Integrated Dell Remote Access Controller",
    redfish_version="1.13.1", base_registry="Base.1.12", system_id="System.Embedded.1",
    chassis_id="System.Embedded.1", manager_id="iDRAC.Embedded.1", manager_model="15G Monolithic", oem="Dell",
    thermal_model="legacy", vmedia_at="manager",
    vmedia=(("RemovableDisk", ("USBStick",)), ("CD", ("CD", "DVD"))),
    session_limit=8, session_timeout=1800, odata_context=True,
    expand_levels=1, log_at="manager", log_id="Sel", bios_settings_id="Settings",
    storage_id="RAID.Integrated.1-1",
    drive_id="Disk.Bay.{bay}:Enclosure.Internal.0-1:{ctrl}", volume_id="Disk.Virtual.{n}:{ctrl}",
    dimm_id="DIMM.Socket.{letter}{slot}", cpu_id="CPU.Socket.{sock}", psu_id="PSU.Slot.{n}",
    fan_id="Fan.Embedded.{n}", nic_id="NIC.{slot}", eth_id="NIC.{slot}-{port}-1", fw_id_style="dell",
    power_on_when_on="conflict", task_id_style="jid", mac_oui="B0:7B:25", serial_length=7, spare_binding="dell",
    boot_progress=False,
    boot_targets=("None", "Pxe", "Floppy", "Cd", "Hdd", "BiosSetup", "Utilities", "UefiTarget", "SDCard",
                  "UefiHttp"),
)

HPE = Flavour(
    # hpe-proliant-dl360-gen10plus-ilo5-3.11: ids "1", Bios linked as /redfish/v1/systems/1/bios/ and
    # its settings as .../bios/settings/ (lower case, trailing slash), VirtualMedia 1/2 under
    # Managers/1, IML under Systems/1/LogServices, @odata.etag everywhere, SessionTimeout 30 min.
    name="hpe", manufacturer="HPE", vendor="HPE", product="ProLiant DL360 Gen10 Plus",
    redfish_version="1.13.0", base_registry="Base.1.4", system_id="1", chassis_id="1", manager_id="1",
    manager_model="iLO 5", oem="Hpe", thermal_model="legacy", vmedia_at="manager",
    vmedia=(("1", ("Floppy", "USBStick")), ("2", ("CD", "DVD"))),
    session_limit=16, session_timeout=1800, session_id_style="hex",
    etag_required=frozenset({"BiosSettings", "Volume"}), odata_etag=True, odata_context=True, lowercase_links=True,
    expand_levels=1, expand_all=False, log_at="system", log_id="IML", bios_settings_id="Settings",
    bios_settings_full=True, storage_id="DE00A000",
    drives_at="DE00A000", drive_id="{bay}", volume_id="{n}", dimm_id="proc{sock}dimm{slot}",
    list_absent_dimms=True, cpu_id="{sock}", psu_id="{n}", fan_id="{n}", nic_id="DC{n}", eth_id="{n}",
    fw_id_style="numeric", mac_oui="88:E9:A4",
    # The capture's Volumes/Capabilities: Links.DedicatedSpareDrives@Redfish.UpdatableAfterCreate.
    spare_binding="dmtf", boot_progress=False, last_reset_time=False,
    boot_targets=("None", "Cd", "Hdd", "Usb", "SDCard", "Utilities", "Diags", "BiosSetup", "Pxe", "UefiShell",
                  "UefiHttp", "UefiTarget"),
    reset_types=("On", "ForceOff", "GracefulShutdown", "ForceRestart", "Nmi", "PushPowerButton", "GracefulRestart"),
)

LENOVO = Flavour(
    # lenovo-thinksystem-sr670v2-xcc-2.83: ids "1", Bios/Pending, SEL under Systems/1/LogServices,
    # VirtualMedia EXT1.. / Remote1.. under Managers/1, ThermalSubsystem/PowerSubsystem/Sensors.
    name="lenovo", manufacturer="Lenovo", vendor="Lenovo", product="ThinkSystem SR650 V2",
    redfish_version="1.15.0", base_registry="Base.1.8", system_id="1", chassis_id="1", manager_id="1",
    manager_model="XClarity Controller", oem="Lenovo", thermal_model="sensors", vmedia_at="manager",
    vmedia=(("EXT1", ("CD", "DVD", "USBStick")), ("Remote1", ("CD", "DVD", "USBStick"))),
    session_limit=16, session_timeout=300, odata_etag=True, odata_context=True, expand_levels=2,
    log_at="system", log_id="SEL", bios_settings_id="Pending", bios_settings_full=True,
    storage_id="RAID_Slot3", drive_id="Disk.{bay}",
    volume_id="Volume{n}", dimm_id="{idx}", list_absent_dimms=True, cpu_id="{sock}", psu_id="PSU{n}",
    fan_id="Fan{n}", nic_id="slot-{n}", eth_id="NIC{n}", mac_oui="08:94:EF", boot_progress=False,
    last_reset_time=False, vmedia_certificates=True,
)

SUPERMICRO = Flavour(
    # supermicro-sys-821ge-tnhr-x13: ids "1", Bios/SD, Log1 under Systems/1/LogServices, VirtualMedia1..
    # under Managers/1 with an InsertMediaActionInfo, few sessions, Thermal/Power.
    name="supermicro", manufacturer="Supermicro", vendor="Supermicro", product="Supermicro Redfish Service",
    redfish_version="1.11.0", base_registry="Base.1.4", system_id="1", chassis_id="1", manager_id="1",
    manager_model="ASPEED", oem="Supermicro", thermal_model="legacy", vmedia_at="manager",
    vmedia=(("VirtualMedia1", ("CD", "DVD", "Floppy", "USBStick")),
            ("VirtualMedia2", ("CD", "DVD", "Floppy", "USBStick"))),
    # Quirk (Supermicro X12/X13): InsertMedia refuses Inserted/WriteProtected; clients retry without.
    vmedia_rejects=frozenset({"Inserted", "WriteProtected"}),
    session_limit=4, session_timeout=300, odata_etag=True, expand_levels=2, top_skip=False,
    reject_unsupported_query=False, log_at="system", log_id="Log1", bios_settings_id="SD",
    bios_settings_full=True, storage_id="HA-RAID",
    drive_id="HA-RAID.0.Disk.{bay}", volume_id="{n}", dimm_id="{idx}", list_absent_dimms=True,
    cpu_id="{sock}", psu_id="{n}", fan_id="{n}", nic_id="{n}", eth_id="{n}", mac_oui="3C:EC:EF",
)

GENERIC = Flavour(
    # DMTF public-rackmount1 style: VirtualMedia under the system, both thermal models.
    name="generic", manufacturer="Contoso", vendor="Contoso", product="Contoso Redfish Service",
    redfish_version="1.17.0", base_registry="Base.1.16", system_id="1", chassis_id="1", manager_id="BMC",
    manager_model="Joo Janta 200", oem=None, thermal_model="both", vmedia_at="system",
    vmedia=(("Cd", ("CD", "DVD")), ("Usb", ("USBStick",))), session_limit=8, session_timeout=1800,
    expand_levels=3, log_at="system", log_id="SEL", bios_settings_id="Settings",
    storage_id="1", drive_id="Disk{bay}",
    volume_id="{n}", dimm_id="DIMM{idx}", cpu_id="CPU{sock}", psu_id="{n}", fan_id="Fan{n}", nic_id="NIC{n}",
    eth_id="NIC{n}", mac_oui="02:42:AC",
)

HUAWEI = Flavour(
    # huawei-2288h-v5-ibmc-3.12-partial: ids "1" (Systems/1, Chassis/1, Managers/1, Model "iBMC"),
    # Redfish 1.0.2, Oem.Huawei.KvmService under the manager. The capture has no logs, thermal or
    # firmware: those follow the generic shapes. Kept out of the default fleet mix.
    name="huawei", manufacturer="Huawei", vendor="Huawei", product="iBMC",
    redfish_version="1.0.2", base_registry="Base.1.0", system_id="1", chassis_id="1", manager_id="1",
    manager_model="iBMC", oem="Huawei", thermal_model="legacy", vmedia_at="manager",
    vmedia=(("CD", ("CD", "DVD")),), session_limit=8, session_timeout=300, expand_levels=0,
    reject_unsupported_query=False, select_query=False, log_at="system", log_id="Log1", bios_settings_id="Settings",
    storage_id="RAIDStorage0", drive_id="HDDPlaneDisk{bay}", volume_id="LogicalDrive{n}", dimm_id="mainboardDIMM{idx}",
    cpu_id="{sock}", psu_id="{n}", fan_id="{n}", nic_id="mainboardNIC{n}", eth_id="{n}", mac_oui="70:7B:E8",
)

FLAVOURS: dict[str, Flavour] = {f.name: f for f in (DELL, HPE, LENOVO, SUPERMICRO, GENERIC, HUAWEI)}


# ---------------------------------------------------------------------------------------------
# Hardware profiles.

def _temps(names: dict[str, str], cpus: int) -> tuple[TempSpec, ...]:
    specs = [
        TempSpec("inlet", names["inlet"], "Intake", 22.0, 42.0, 47.0),
        TempSpec("exhaust", names["exhaust"], "Exhaust", 36.0, 70.0, 75.0),
    ]
    for n in range(1, cpus + 1):
        specs.append(TempSpec(f"cpu{n}", names["cpu"].format(n=n, n1=n + 1), "CPU", 48.0 + n, 93.0, 98.0))
    specs.append(TempSpec("dimm", names["dimm"], "Memory", 34.0, 80.0, 85.0))
    return tuple(specs)


def _volts(names: tuple[str, str, str]) -> tuple[VoltSpec, ...]:
    return (
        VoltSpec("12v", names[0], 12.1, 10.8, 13.2),
        VoltSpec("5v", names[1], 5.02, 4.5, 5.5),
        VoltSpec("3v3", names[2], 3.31, 2.97, 3.63),
    )


_XEON_6338 = CpuSpec("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", "Intel", 32, 64, 3200)
_XEON_5318Y = CpuSpec("Intel(R) Xeon(R) Gold 5318Y CPU @ 2.10GHz", "Intel", 24, 48, 3400)
_XEON_6430 = CpuSpec("Intel(R) Xeon(R) Gold 6430", "Intel", 32, 64, 3400)
_EPYC_7313P = CpuSpec("AMD EPYC 7313P 16-Core Processor", "AMD", 16, 32, 3700)

_DDR4_32 = DimmSpec(32, 3200, "Hynix Semiconductor", "HMA84GR7DJR4N-XN")
_DDR4_64 = DimmSpec(64, 3200, "Samsung", "M393A8G40AB2-CWE")
_DDR5_32 = DimmSpec(32, 4800, "Micron Technology", "MTC20F2085S1RC48BA1", device_type="DDR5", ranks=2)
_DDR4_16 = DimmSpec(16, 3200, "Micron Technology", "18ASF2G72PDZ-3G2E1", ranks=1)

_SAS_SSD_960 = DriveSpec("KPM6WRUG960G", "KIOXIA", "SSD", "SAS", 960197124096, "BD03")
_SAS_HDD_2T4 = DriveSpec("ST2400MM0129", "SEAGATE", "HDD", "SAS", 2400476553216, "C004", rpm=10000)
_SATA_SSD_480 = DriveSpec("MZ7L3480HCHQ", "SAMSUNG", "SSD", "SATA", 480103981056, "JXTC104Q")
_NVME_1T6 = DriveSpec("Dell Ent NVMe v2 AGN MU U.2 1.6TB", "SAMSUNG", "SSD", "NVMe", 1600321314816, "2.1.3")
_NVME_3T84 = DriveSpec("MZQL23T8HCLS-00A07", "SAMSUNG", "SSD", "NVMe", 3840755982336, "GDC5602Q")

PROFILES: dict[str, HardwareProfile] = {}


def _add(profile: HardwareProfile) -> None:
    PROFILES[profile.name] = profile


_add(HardwareProfile(
    name="dell-r750", flavour=DELL, model="PowerEdge R750", sku_prefix="", u_height=2,
    cpu=_XEON_6338, sockets=2, dimm=_DDR4_32, dimm_slots_per_socket=16, dimms_per_socket=8,
    raid_model="PERC H755 Front", raid_firmware="52.16.1-4405",
    drives=(_SAS_SSD_960,) * 2 + (_SAS_HDD_2T4,) * 6,
    volumes=(VolumeSpec("OS", "RAID1", (0, 1)), VolumeSpec("DATA", "RAID5", (2, 3, 4, 5, 6))),
    hot_spares=(7,),
    nics=(NicSpec("Broadcom Gigabit Ethernet BCM5720", "Broadcom Inc. and subsidiaries", 2, 1000, "21.80.9",
                  "0KKMMR", "Embedded.1"),
          NicSpec("Broadcom Adv. Dual 25Gb Ethernet", "Broadcom Inc. and subsidiaries", 2, 25000, "21.80.16.95",
                  "0Y36FR", "Integrated.1")),
    psu_watts=1400, psu_model="PWR SPLY,1400W,RDNT,LTON", psu_firmware="00.1D.7D",
    fans=6, fan_names=tuple(f"System Board Fan{n}A" for n in range(1, 7)), fan_rpm=7800,
    temps=_temps({"inlet": "System Board Inlet Temp", "exhaust": "System Board Exhaust Temp",
                  "cpu": "CPU{n} Temp", "dimm": "System Board DIMM Temp"}, 2),
    volts=_volts(("System Board 12V PG", "System Board 5V PG", "System Board 3.3V PG")),
    bmc_firmware="6.00.30.00", bios_version="1.8.2", cpld_version="1.0.5",
    supplier="Dell Technologies", service_provider="Dell ProSupport",
))

_add(HardwareProfile(
    name="dell-r650", flavour=DELL, model="PowerEdge R650", sku_prefix="", u_height=1,
    cpu=_XEON_5318Y, sockets=2, dimm=_DDR4_64, dimm_slots_per_socket=16, dimms_per_socket=8,
    raid_model="PERC H755 Front", raid_firmware="52.16.1-4405",
    drives=(_NVME_1T6,) * 4, volumes=(VolumeSpec("OS", "RAID1", (0, 1)),),
    nics=(NicSpec("Broadcom Gigabit Ethernet BCM5720", "Broadcom Inc. and subsidiaries", 2, 1000, "21.80.9",
                  "0KKMMR", "Embedded.1"),
          NicSpec("Mellanox ConnectX-6 Lx 2x25G", "Mellanox Technologies", 2, 25000, "26.36.10.10",
                  "0F6FXM", "Slot.3")),
    psu_watts=1100, psu_model="PWR SPLY,1100W,RDNT,DELTA", psu_firmware="00.3D.67",
    fans=8, fan_names=tuple(f"System Board Fan{n}A" for n in range(1, 9)), fan_rpm=11000,
    temps=_temps({"inlet": "System Board Inlet Temp", "exhaust": "System Board Exhaust Temp",
                  "cpu": "CPU{n} Temp", "dimm": "System Board DIMM Temp"}, 2),
    volts=_volts(("System Board 12V PG", "System Board 5V PG", "System Board 3.3V PG")),
    bmc_firmware="6.00.30.00", bios_version="1.9.2", cpld_version="1.0.6",
    supplier="Dell Technologies", service_provider="Dell ProSupport", idle_watts=150, load_watts=380,
))

_add(HardwareProfile(
    # A Dell whose only storage is a BOSS-S2 M.2 mirror: the controller takes volume creates and
    # deletes OnReset only (as the R750 capture's BOSS/AHCI Volumes collections say).
    name="dell-r650-boss", flavour=DELL, model="PowerEdge R650", sku_prefix="", u_height=1,
    cpu=_XEON_5318Y, sockets=2, dimm=_DDR4_64, dimm_slots_per_socket=16, dimms_per_socket=8,
    raid_model="BOSS-S2", raid_firmware="2.5.13.4008", raid_apply_times=("OnReset",),
    drives=(_SATA_SSD_480,) * 2, volumes=(VolumeSpec("OS", "RAID1", (0, 1)),),
    nics=(NicSpec("Broadcom Gigabit Ethernet BCM5720", "Broadcom Inc. and subsidiaries", 2, 1000, "21.80.9",
                  "0KKMMR", "Embedded.1"),),
    psu_watts=800, psu_model="PWR SPLY,800W,RDNT,DELTA", psu_firmware="00.3D.67",
    fans=8, fan_names=tuple(f"System Board Fan{n}A" for n in range(1, 9)), fan_rpm=11000,
    temps=_temps({"inlet": "System Board Inlet Temp", "exhaust": "System Board Exhaust Temp",
                  "cpu": "CPU{n} Temp", "dimm": "System Board DIMM Temp"}, 2),
    volts=_volts(("System Board 12V PG", "System Board 5V PG", "System Board 3.3V PG")),
    bmc_firmware="6.00.30.00", bios_version="1.9.2", cpld_version="1.0.6",
    supplier="Dell Technologies", service_provider="Dell ProSupport", idle_watts=140, load_watts=360,
))

_add(HardwareProfile(
    name="hpe-dl360-gen10p", flavour=HPE, model="ProLiant DL360 Gen10 Plus", sku_prefix="P28948-B21",
    u_height=1, cpu=_XEON_6338, sockets=2, dimm=_DDR4_32, dimm_slots_per_socket=16, dimms_per_socket=8,
    raid_model="HPE MR416i-a Gen10+", raid_firmware="52.22.3-4650",
    drives=(_SAS_SSD_960,) * 2 + (_SATA_SSD_480,) * 6,
    volumes=(VolumeSpec("OS", "RAID1", (0, 1)), VolumeSpec("DATA", "RAID10", (2, 3, 4, 5))),
    hot_spares=(6,),
    nics=(NicSpec("HPE Ethernet 1Gb 4-port BASE-T BCM5719 OCP3 Adapter", "Broadcom", 4, 1000, "20.28.41",
                  "P51181-001", "OCP.1"),
          NicSpec("Mellanox MCX631102AS-ADAT Ethernet 10/25Gb 2-port SFP28 Adapter for HPE",
                  "Mellanox Technologies", 2, 25000, "26.36.1010", "P42044-001", "Slot.1")),
    psu_watts=800, psu_model="865414-B21", psu_firmware="1.00",
    fans=7, fan_names=tuple(f"Fan {n}" for n in range(1, 8)), fan_rpm=6100,
    temps=_temps({"inlet": "01-Inlet Ambient", "exhaust": "35-Sys Exhaust", "cpu": "0{n1}-CPU {n}",
                  "dimm": "05-P1 DIMM 1-8"}, 2),
    volts=_volts(("12V System", "5V System", "3.3V System")),
    bmc_firmware="3.11", bios_version="U46 v2.34 (03/11/2025)", cpld_version="0x2A",
    supplier="Hewlett Packard Enterprise", service_provider="HPE Pointnext Tech Care",
))

_add(HardwareProfile(
    name="lenovo-sr650v2", flavour=LENOVO, model="ThinkSystem SR650 V2", sku_prefix="7Z73CTO1WW",
    u_height=2, cpu=_XEON_5318Y, sockets=2, dimm=_DDR4_32, dimm_slots_per_socket=16, dimms_per_socket=16,
    raid_model="ThinkSystem RAID 940-8i 4GB Flash PCIe Gen4 12Gb Adapter", raid_firmware="52.20.0-4341",
    drives=(_SAS_SSD_960,) * 2 + (_SAS_HDD_2T4,) * 4,
    volumes=(VolumeSpec("OS", "RAID1", (0, 1)), VolumeSpec("DATA", "RAID6", (2, 3, 4, 5))),
    nics=(NicSpec("ThinkSystem Broadcom 57416 10GBASE-T 2-Port OCP Ethernet Adapter", "Broadcom", 2, 10000,
                  "222.1.68.0", "01PE718", "OCP.1"),
          NicSpec("ThinkSystem Mellanox ConnectX-6 Lx 10/25GbE SFP28 2-Port PCIe Ethernet Adapter",
                  "Mellanox Technologies", 2, 25000, "26.35.2000", "4XC7A62580", "Slot.1")),
    psu_watts=1100, psu_model="ThinkSystem 1100W 230V/115V Platinum Hot-Swap Power Supply",
    psu_firmware="6.29", fans=6, fan_names=tuple(f"Fan {n} Front Tach" for n in range(1, 7)), fan_rpm=9800,
    temps=_temps({"inlet": "Ambient Temp", "exhaust": "Exhaust Temp", "cpu": "CPU{n} Temp",
                  "dimm": "DIMM Temp"}, 2),
    volts=_volts(("SysBrd 12V", "SysBrd 5V", "SysBrd 3.3V")),
    bmc_firmware="TGBT42S 2.83", bios_version="U8E122J-1.51", cpld_version="3.02",
    supplier="Lenovo", service_provider="Lenovo Premier Support",
))

_add(HardwareProfile(
    name="supermicro-x13", flavour=SUPERMICRO, model="SYS-121H-TNR", sku_prefix="",
    u_height=1, cpu=_XEON_6430, sockets=2, dimm=_DDR5_32, dimm_slots_per_socket=16, dimms_per_socket=8,
    raid_model="AOC-S3908L-H8IR", raid_firmware="52.24.0-4763",
    drives=(_NVME_3T84,) * 4, volumes=(VolumeSpec("OS", "RAID1", (0, 1)),),
    nics=(NicSpec("AOC-A25G-i2SM", "Intel Corporation", 2, 25000, "4.20", "AOC-A25G-i2SM", "Slot.1"),),
    psu_watts=1200, psu_model="PWS-1K22A-1R", psu_firmware="1.3",
    fans=8, fan_names=tuple(f"FAN{n}" for n in range(1, 9)), fan_rpm=8400,
    temps=_temps({"inlet": "Inlet Temp", "exhaust": "System Temp", "cpu": "CPU{n} Temp",
                  "dimm": "DIMMA~F Temp"}, 2),
    volts=_volts(("12V", "5VCC", "3.3VCC")),
    bmc_firmware="01.01.10", bios_version="1.4", cpld_version="F1.00.00",
    supplier="Supermicro", service_provider="Supermicro Onsite 5x9",
))

_add(HardwareProfile(
    name="generic-1s", flavour=GENERIC, model="Contoso 1U-EPYC", sku_prefix="CT-1U",
    u_height=1, cpu=_EPYC_7313P, sockets=1, dimm=_DDR4_16, dimm_slots_per_socket=8, dimms_per_socket=8,
    raid_model="Contoso RAID 9000", raid_firmware="1.2.3",
    drives=(_SATA_SSD_480,) * 4, volumes=(VolumeSpec("OS", "RAID1", (0, 1)),),
    nics=(NicSpec("Contoso 2x25G", "Contoso", 2, 25000, "1.0.4", "CT-NIC-25", "Slot.1"),),
    psu_watts=800, psu_model="CT-PSU-800", psu_firmware="1.1",
    fans=4, fan_names=tuple(f"Fan {n}" for n in range(1, 5)), fan_rpm=6000,
    temps=_temps({"inlet": "Inlet Temp", "exhaust": "Exhaust Temp", "cpu": "CPU{n} Temp",
                  "dimm": "DIMM Temp"}, 1),
    volts=_volts(("VRM 12V", "VRM 5V", "VRM 3.3V")),
    bmc_firmware="1.45.455b66-rev4", bios_version="P79 v1.45 (12/06/2017)", cpld_version="1.0",
    supplier="Contoso Ltd", service_provider="Contoso Care", idle_watts=110, load_watts=260,
))

_add(HardwareProfile(
    name="huawei-2288hv5", flavour=HUAWEI, model="2288H V5", sku_prefix="02312BTK",
    u_height=2, cpu=_EPYC_7313P, sockets=1, dimm=_DDR4_16, dimm_slots_per_socket=8, dimms_per_socket=8,
    raid_model="SR430C-M 1G", raid_firmware="4.650.00-8215",
    drives=(_SAS_HDD_2T4,) * 4, volumes=(VolumeSpec("OS", "RAID1", (0, 1)),),
    nics=(NicSpec("SP333", "Huawei", 2, 25000, "1.0.4", "SP333", "Slot.1"),),
    psu_watts=900, psu_model="PAC900S12-BE", psu_firmware="1.1",
    fans=4, fan_names=tuple(f"Fan{n}" for n in range(1, 5)), fan_rpm=6000,
    temps=_temps({"inlet": "Inlet Temp", "exhaust": "Outlet Temp", "cpu": "CPU{n} Core Rem",
                  "dimm": "CPU1 DIMM Temp"}, 1),
    volts=_volts(("CPU1 VCore", "12V", "3.3V")),
    bmc_firmware="3.12", bios_version="0.95", cpld_version="1.0",
    supplier="Huawei", service_provider="Huawei Support", idle_watts=120, load_watts=300,
))

DEFAULT_PROFILES: tuple[str, ...] = ("dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13")


def get_profile(name: str) -> HardwareProfile:
    """The profile called ``name`` (a profile or flavour name); raises KeyError listing the known ones.
    ``name+trait+...`` (and ``+pageN``) is that profile serving real-service traits (``dcops.sim.traits``)."""
    if "+" in name:
        from dcops.sim.traits import with_traits

        base, *extra = name.split("+")
        pages = [int(t[4:]) for t in extra if t.startswith("page") and t[4:].isdigit()]
        return with_traits(get_profile(base), [t for t in extra if not (t.startswith("page") and t[4:].isdigit())],
                           pages[-1] if pages else 0)
    if name in PROFILES:
        return PROFILES[name]
    for profile in PROFILES.values():  # a flavour name picks its first profile
        if profile.flavour.name == name:
            return profile
    raise KeyError(f"unknown profile {name!r}; known: {', '.join(sorted(PROFILES))}")


# ---------------------------------------------------------------------------------------------
# Component names as each flavour writes them (ids in URIs, locators in documents and SEL).

def dimm_id(flavour: Flavour, sock: int, slot: int, slots_per_socket: int) -> str:
    idx = (sock - 1) * slots_per_socket + slot
    return flavour.dimm_id.format(sock=sock, slot=slot, letter=chr(ord("A") + sock - 1), idx=idx)


def dimm_locator(flavour: Flavour, sock: int, slot: int, slots_per_socket: int) -> str:
    """The DeviceLocator / silkscreen name: "DIMM A1", "PROC 1 DIMM 1", "P1-DIMMA1", ..."""
    idx = (sock - 1) * slots_per_socket + slot
    if flavour.name == "dell":
        return f"DIMM {chr(ord('A') + sock - 1)}{slot}"
    if flavour.name == "hpe":
        return f"PROC {sock} DIMM {slot}"
    if flavour.name == "supermicro":
        return f"P{sock}-DIMM{chr(ord('A') + (slot - 1) // 2)}{(slot - 1) % 2 + 1}"
    return f"DIMM {idx}"


def cpu_id(flavour: Flavour, sock: int) -> str:
    return flavour.cpu_id.format(sock=sock)


def cpu_locator(flavour: Flavour, sock: int) -> str:
    return {"dell": f"CPU.Socket.{sock}", "hpe": f"Proc {sock}", "supermicro": f"CPU{sock}"}.get(
        flavour.name, f"CPU {sock}")


def drive_id(flavour: Flavour, bay: int) -> str:
    return flavour.drive_id.format(bay=bay, ctrl=flavour.storage_id)


def drive_locator(flavour: Flavour, bay: int) -> str:
    if flavour.name == "dell":
        return f"Disk {bay} in Backplane 1 of {flavour.storage_id.split('-')[0]}"
    if flavour.name == "hpe":
        return f"Port 1I Box 1 Bay {bay + 1}"
    return f"Slot {bay}"


def volume_id(flavour: Flavour, n: int) -> str:
    return flavour.volume_id.format(n=n, ctrl=flavour.storage_id)


def psu_id(flavour: Flavour, n: int) -> str:
    return flavour.psu_id.format(n=n)


def psu_name(flavour: Flavour, n: int) -> str:
    return {"dell": f"PS{n} Status", "hpe": f"HpeServerPowerSupply {n}", "lenovo": f"PSU{n}",
            "supermicro": f"PS{n}"}.get(flavour.name, f"Power Supply {n}")


def fan_id(flavour: Flavour, n: int) -> str:
    return flavour.fan_id.format(n=n)


@functools.lru_cache(maxsize=4096)
def sensor_id(name: str) -> str:
    """A URI-safe sensor id derived from its name ("CPU1 Temp" -> "CPU1Temp"). Cached: a fleet has a
    few dozen sensor names and every Sensor document (and each ``$expand`` of the collection) asks."""
    return "".join(ch for ch in name if ch.isalnum() or ch in "-_.")


def nic_id(flavour: Flavour, n: int, nic: NicSpec) -> str:
    return flavour.nic_id.format(n=n, slot=nic.slot)


def eth_id(flavour: Flavour, n: int, nic_index: int, nic: NicSpec, port: int) -> str:
    return flavour.eth_id.format(n=n, nic=nic_index, slot=nic.slot, port=port)
