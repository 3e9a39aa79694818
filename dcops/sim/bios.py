"""BIOS attribute registries of the simulated flavours and the validation a BMC applies to a PATCH.

Each flavour gets a registry in its vendor's naming (Dell ``LogicalProc``, HPE ``ProcHyperthreading``,
Lenovo ``Processors_HyperThreading``, Supermicro ``Hyper_Threading_ALL__F27F``). Defaults written as
``{serial}``, ``{model}`` or ``{bios_version}`` are filled per host when rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # Enumeration, Integer, String, Boolean, Password
    default: Any
    values: tuple[str, ...] = ()
    lower: int | None = None
    upper: int | None = None
    max_length: int | None = None
    read_only: bool = False
    display: str = ""
    reset_required: bool = True


@dataclass(frozen=True)
class Registry:
    id: str  # e.g. BiosAttributeRegistry.v1_0_3
    owner: str
    attributes: tuple[Attribute, ...]

    @cached_property
    def by_name(self) -> dict[str, Attribute]:
        return {a.name: a for a in self.attributes}

    def get(self, name: str) -> Attribute | None:
        return self.by_name.get(name)

    @property
    def version(self) -> str:
        """RegistryVersion: the x.y.z in the id, else 1.0.0."""
        tail = self.id.rsplit(".v", 1)[-1] if ".v" in self.id else "1_0_0"
        parts = tail.replace(".", "_").split("_")
        return ".".join(parts[-3:]) if len(parts) >= 3 and all(p.isdigit() for p in parts[-3:]) else "1.0.0"


_EN = ("Enabled", "Disabled")


def _enum(name: str, default: str, values: tuple[str, ...] = _EN, display: str = "", **kw: Any) -> Attribute:
    return Attribute(name, "Enumeration", default, values=values, display=display or name, **kw)


def _int(name: str, default: int, lower: int, upper: int, display: str = "") -> Attribute:
    return Attribute(name, "Integer", default, lower=lower, upper=upper, display=display or name)


def _str(name: str, default: str, max_length: int = 63, read_only: bool = False, display: str = "") -> Attribute:
    return Attribute(name, "String", default, max_length=max_length, read_only=read_only, display=display or name,
                     reset_required=not read_only)


DELL_BIOS = Registry("BiosAttributeRegistry.v1_0_3", "Dell", (
    _enum("SysProfile", "PerfPerWattOptimizedDapc",
          ("PerfPerWattOptimizedDapc", "PerfPerWattOptimizedOs", "PerfOptimized", "WorkstationPerformance",
           "Custom"), "System Profile"),
    _enum("WorkloadProfile", "NotConfigured",
          ("NotConfigured", "HpcProfile", "LowLatencyOptimizedProfile", "VtOptimizedProfile"), "Workload Profile"),
    _enum("LogicalProc", "Enabled", display="Logical Processor"),
    _enum("ProcVirtualization", "Enabled", display="Virtualization Technology"),
    _enum("SriovGlobalEnable", "Disabled", display="SR-IOV Global Enable"),
    _enum("ProcTurboMode", "Enabled", display="Turbo Boost"),
    _enum("ProcCStates", "Enabled", display="C States"),
    _enum("SubNumaCluster", "Disabled", ("Disabled", "2-Way"), "Sub NUMA Cluster"),
    _enum("MemPatrolScrub", "Standard", ("Standard", "Extended", "Disabled"), "Memory Patrol Scrub"),
    _enum("BootMode", "Uefi", ("Uefi", "Bios"), "Boot Mode"),
    _enum("BootSeqRetry", "Enabled", display="Boot Sequence Retry"),
    _enum("AcPwrRcvry", "Last", ("Last", "On", "Off"), "AC Power Recovery"),
    _enum("AcPwrRcvryDelay", "Immediate", ("Immediate", "Random", "User"), "AC Power Recovery Delay"),
    _int("AcPwrRcvryUserDelay", 120, 60, 600, "User Defined Delay (60s to 600s)"),
    _enum("SerialComm", "OnConRedir", ("OnNoConRedir", "OnConRedir", "Off"), "Serial Communication"),
    _enum("SecureBoot", "Disabled", display="Secure Boot"),
    _enum("TpmSecurity", "On", ("Off", "On"), "TPM Security"),
    _str("AssetTag", "", 63, display="Asset Tag"),
    _str("SystemModelName", "{model}", read_only=True, display="System Model Name"),
    _str("SystemBiosVersion", "{bios_version}", read_only=True, display="System BIOS Version"),
    _str("SystemServiceTag", "{serial}", read_only=True, display="System Service Tag"),
    _str("SystemManufacturer", "Dell Inc.", read_only=True, display="System Manufacturer"),
    Attribute("SetupPassword", "Password", None, display="Setup Password", max_length=32),
))

HPE_BIOS = Registry("BiosAttributeRegistryU46.v1_2_34", "HPE", (
    _enum("WorkloadProfile", "GeneralPowerEfficientCompute",
          ("GeneralPowerEfficientCompute", "GeneralPeakFrequencyCompute", "GeneralThroughputCompute",
           "Virtualization-PowerEfficient", "Virtualization-MaxPerformance", "LowLatency",
           "MissionCritical", "TransactionalApplicationProcessing", "HighPerformanceCompute",
           "DecisionSupport", "GraphicProcessing", "I/OThroughput", "Custom"), "Workload Profile"),
    _enum("ProcHyperthreading", "Enabled", display="Intel(R) Hyperthreading"),
    _enum("ProcVirtualization", "Enabled", display="Intel(R) Virtualization Technology"),
    _enum("IntelProcVtd", "Enabled", display="Intel(R) VT-d"),
    _enum("Sriov", "Enabled", display="SR-IOV"),
    _enum("ProcTurbo", "Enabled", display="Intel(R) Turbo Boost Technology"),
    _enum("MinProcIdlePower", "C6", ("C6", "C1E", "NoCStates"), "Minimum Processor Idle Power Core C-State"),
    _enum("PowerRegulator", "DynamicPowerSavings",
          ("DynamicPowerSavings", "StaticLowPower", "StaticHighPerf", "OsControl"), "Power Regulator"),
    _enum("AutoPowerOn", "RestoreLastState", ("AlwaysPowerOn", "AlwaysPowerOff", "RestoreLastState"),
          "Automatic Power-On"),
    _enum("PowerOnDelay", "NoDelay", ("NoDelay", "Random", "15Second", "30Second", "45Second", "60Second"),
          "Power-On Delay"),
    _enum("BootMode", "Uefi", ("Uefi", "LegacyBios"), "Boot Mode"),
    _enum("ThermalConfig", "OptimalCooling", ("OptimalCooling", "IncreasedCooling", "MaxCooling",
                                              "EnhancedCPUCooling"), "Thermal Configuration"),
    _enum("SubNumaClustering", "Disabled", display="Sub-NUMA Clustering"),
    _int("NetworkBootRetryCount", 20, 0, 20, "Network Boot Retry Count"),
    _int("PatrolScrubDuration", 24, 1, 24, "Memory Patrol Scrubbing Duration"),
    _str("ServerAssetTag", "", 32, display="Server Asset Tag"),
    _str("AdminName", "", 28, display="Administrator Name"),
    _str("SerialNumber", "{serial}", read_only=True, display="Serial Number"),
    _enum("SecureBootStatus", "Disabled", read_only=True, display="Secure Boot Status", reset_required=False),
))

LENOVO_BIOS = Registry("BiosAttributeRegistry.1.0.0", "Lenovo", (
    _enum("OperatingModes_ChooseOperatingMode", "Efficiency_FavorPerformance",
          ("MaximumPerformance", "MinimalPower", "Efficiency_FavorPower", "Efficiency_FavorPerformance",
           "CustomMode"), "Operating Modes - Choose Operating Mode"),
    _enum("Processors_HyperThreading", "Enabled", display="Processors - Hyper-Threading"),
    _enum("Processors_IntelVirtualizationTechnology", "Enabled",
          display="Processors - Intel Virtualization Technology"),
    _enum("DevicesandIOPorts_SRIOV", "Enabled", display="Devices and I/O Ports - SR-IOV"),
    _enum("Processors_TurboMode", "Enabled", display="Processors - Turbo Mode"),
    _enum("Processors_CStates", "Autonomous", ("Autonomous", "Legacy", "Disabled"), "Processors - C-States"),
    _enum("BootModes_SystemBootMode", "UEFIMode", ("UEFIMode", "LegacyMode"), "Boot Modes - System Boot Mode"),
    _enum("BootModes_InfiniteBootRetry", "Enabled", display="Boot Modes - Infinite Boot Retry"),
    _enum("Memory_PatrolScrub", "Enabled", display="Memory - Patrol Scrub"),
    _enum("Power_WorkloadConfiguration", "Balanced", ("Balanced", "I_OSensitive", "NUMASensitive"),
          "Power - Workload Configuration"),
    _int("NetworkStackSettings_PXEbootwaittime", 0, 0, 5, "Network Stack Settings - PXE boot wait time"),
    _int("NetworkStackSettings_Mediadetectcount", 1, 1, 50, "Network Stack Settings - Media detect count"),
    _enum("SecureBootConfiguration_SecureBootSetting", "Disabled",
          display="Secure Boot Configuration - Secure Boot Setting"),
    _enum("SecureBootConfiguration_SecureBootStatus", "Disabled", read_only=True,
          display="Secure Boot Configuration - Secure Boot Status", reset_required=False),
    _enum("SystemRecovery_RebootSystemOnNMI", "Enabled", display="System Recovery - Reboot System on NMI"),
    _str("SystemInformation_SerialNumber", "{serial}", read_only=True, display="System Information - Serial"),
))

SUPERMICRO_BIOS = Registry("BiosAttributeRegistry.v1_0_0", "Supermicro", (
    _enum("Hyper_Threading_ALL__F27F", "Enable", ("Enable", "Disable"), "Hyper-Threading [ALL]"),
    _enum("IntelVirtualizationTechnology_3C6F", "Enable", ("Enable", "Disable"),
          "Intel Virtualization Technology"),
    _enum("IntelVTforDirectedI_O_VT_d__1E32", "Enable", ("Enable", "Disable"),
          "Intel VT for Directed I/O (VT-d)"),
    _enum("TurboMode_3D06", "Enable", ("Enable", "Disable"), "Turbo Mode"),
    _enum("PackageCState_3D25", "Auto", ("C0/C1 state", "C2 state", "C6(non Retention) state",
                                         "C6(Retention) state", "No Limit", "Auto"), "Package C State"),
    _enum("NUMA_003B", "Enabled", display="NUMA"),
    _enum("RestoreonACPowerLoss_0035", "Last State", ("Stay Off", "Power On", "Last State"),
          "Restore on AC Power Loss"),
    _enum("PowerTechnology_FF77", "Custom", ("Disable", "Energy Efficient", "Custom"), "Power Technology"),
    _enum("PatrolScrub_3C41", "Enable at End of POST", ("Disable", "Enable During POST", "Enable at End of POST"),
          "Patrol Scrub"),
    _enum("BootModeSelect_0080", "UEFI", ("LEGACY", "UEFI", "DUAL"), "Boot mode select"),
    Attribute("QuietBoot_002D", "Boolean", True, display="Quiet Boot"),
    Attribute("SecureBootEnable_0122", "Boolean", False, display="Secure Boot"),
    _int("PXEBootWaitTime_00F8", 0, 0, 5, "PXE boot wait time"),
    _int("CorrectableErrorThreshold_3C34", 512, 1, 32767, "Correctable Error Threshold"),
    _str("SystemSerialNumber_0001", "{serial}", read_only=True, display="System Serial Number"),
))

GENERIC_BIOS = Registry("ContosoBiosAttributeRegistry.v1_0_0", "Contoso", (
    _enum("BootMode", "Uefi", ("Uefi", "Bios"), "Boot Mode"),
    _enum("ProcHyperThreading", "Enabled", display="Hyper-Threading"),
    _enum("ProcVirtualization", "Enabled", display="Virtualization"),
    _enum("Sriov", "Disabled", display="SR-IOV"),
    _enum("PowerProfile", "Balanced", ("Balanced", "MaxPerformance", "PowerSaving"), "Power Profile"),
    _int("PxeRetryCount", 3, 0, 10, "PXE Retry Count"),
    _str("AssetTag", "", 32, display="Asset Tag"),
    _str("SerialNumber", "{serial}", read_only=True, display="Serial Number"),
))

REGISTRIES: dict[str, Registry] = {
    "dell": DELL_BIOS, "hpe": HPE_BIOS, "lenovo": LENOVO_BIOS, "supermicro": SUPERMICRO_BIOS,
    "generic": GENERIC_BIOS,
    "huawei": GENERIC_BIOS,  # the capture's Bios has no registry: the generic one stands in
}


def default_value(attr: Attribute, fill: dict[str, str]) -> Any:
    """The attribute's default with ``{serial}``-style placeholders filled in."""
    if isinstance(attr.default, str) and "{" in attr.default:
        return attr.default.format(**fill)
    return attr.default


@dataclass(frozen=True)
class BiosProblem:
    """One rejected attribute: the Base message id suffix and its arguments."""

    message: str  # PropertyUnknown, PropertyNotWritable, PropertyValueNotInList, PropertyValueTypeError, ...
    args: tuple[str, ...]
    attribute: str


def check_attributes(registry: Registry, changes: dict[str, Any]) -> list[BiosProblem]:
    """What a BMC would reject in a PATCH of ``{"Attributes": changes}`` (empty when all is well)."""
    problems: list[BiosProblem] = []
    for name, value in changes.items():
        attr = registry.get(name)
        shown = _show(value)
        if attr is None:
            problems.append(BiosProblem("PropertyUnknown", (name,), name))
            continue
        if attr.read_only:
            problems.append(BiosProblem("PropertyNotWritable", (name,), name))
            continue
        if attr.type == "Enumeration":
            if not isinstance(value, str):
                problems.append(BiosProblem("PropertyValueTypeError", (shown, name), name))
            elif value not in attr.values:
                problems.append(BiosProblem("PropertyValueNotInList", (shown, name), name))
        elif attr.type == "Integer":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.append(BiosProblem("PropertyValueTypeError", (shown, name), name))
            elif (attr.lower is not None and value < attr.lower) or (attr.upper is not None and value > attr.upper):
                problems.append(BiosProblem("PropertyValueOutOfRange", (shown, name), name))
        elif attr.type == "Boolean":
            if not isinstance(value, bool):
                problems.append(BiosProblem("PropertyValueTypeError", (shown, name), name))
        elif attr.type in ("String", "Password"):
            if not isinstance(value, str):
                problems.append(BiosProblem("PropertyValueTypeError", (shown, name), name))
            elif attr.max_length is not None and len(value) > attr.max_length:
                problems.append(BiosProblem("PropertyValueFormatError", (shown, name), name))
    return problems


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def registry_document(registry: Registry, system_model: str, bios_version: str) -> dict[str, Any]:
    """The AttributeRegistry JSON document (what a client downloads to learn the attributes)."""
    entries = []
    for attr in registry.attributes:
        entry: dict[str, Any] = {
            "AttributeName": attr.name, "DisplayName": attr.display or attr.name, "Type": attr.type,
            "ReadOnly": attr.read_only, "ResetRequired": attr.reset_required, "Hidden": False,
            "Immutable": attr.read_only,
        }
        if attr.type == "Enumeration":
            entry["Value"] = [{"ValueName": v, "ValueDisplayName": v} for v in attr.values]
        if attr.type == "Integer":
            entry["LowerBound"] = attr.lower
            entry["UpperBound"] = attr.upper
            entry["ScalarIncrement"] = 1
        if attr.type in ("String", "Password") and attr.max_length is not None:
            entry["MaxLength"] = attr.max_length
            entry["MinLength"] = 0
        if attr.type == "Password":
            entry["IsSystemUniqueProperty"] = False
        if attr.default not in ("", None) and not (isinstance(attr.default, str) and "{" in attr.default):
            entry["DefaultValue"] = attr.default
        entries.append(entry)
    return {
        "@odata.type": "#AttributeRegistry.v1_3_6.AttributeRegistry",
        "Id": registry.id,
        "Name": "BIOS Attribute Registry",
        "Description": f"{registry.owner} BIOS attribute registry",
        "Language": "en",
        "OwningEntity": registry.owner,
        "RegistryVersion": registry.version,
        "SupportedSystems": [{"ProductName": system_model,
                              "SystemId": "".join(ch for ch in system_model if ch.isalnum()),
                              "FirmwareVersion": bios_version}],
        "RegistryEntries": {"Attributes": entries},
    }
