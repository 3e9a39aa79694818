"""Redfish names in one place: paths, annotation keys, and the tables that map Redfish values to
dcops enums (health, power, reset types, boot targets, sensor kinds and thresholds, RAID types,
task states, apply times).

The parsing modules (``docs``, ``read``, ``bodies``) read documents with these names; nothing
outside ``dcops.bmc.redfish`` should spell a Redfish key.
"""

from __future__ import annotations

from dcops.observation import ComponentKind, Health, PowerState, SensorKind

ROOT = "/redfish/v1"
SESSIONS = f"{ROOT}/SessionService/Sessions"
ODATA_ID = "@odata.id"
ODATA_ETAG = "@odata.etag"
ODATA_TYPE = "@odata.type"
MEMBERS = "Members"
NEXT_LINK = "Members@odata.nextLink"
MEMBERS_COUNT = "Members@odata.count"
EXTENDED_INFO = "@Message.ExtendedInfo"
SETTINGS = "@Redfish.Settings"  # on a resource with a separate settings object (BIOS)
SETTINGS_OBJECT = "SettingsObject"
SUPPORTED_APPLY_TIMES = "SupportedApplyTimes"
SETTINGS_APPLY_TIME = "@Redfish.SettingsApplyTime"  # in a PATCH body: when to apply it
OPERATION_APPLY_TIME = "@Redfish.OperationApplyTime"  # in a create/delete body (volumes)
ALLOWABLE = "@Redfish.AllowableValues"
MAX_PAGES = 1000  # pages of one collection: a BMC that pages forever must not hold a read forever
EXPAND_ONE_LEVEL = "$expand=.($levels=1)"

SECTIONS = frozenset({"components", "sensors", "firmware", "logs"})

HEALTH = {"ok": Health.OK, "warning": Health.WARNING, "critical": Health.CRITICAL}
POWER = {
    "on": PowerState.ON, "off": PowerState.OFF, "poweringon": PowerState.POWERING_ON,
    "poweringoff": PowerState.POWERING_OFF, "paused": PowerState.ON,
}


PROCESSOR_KINDS = {"cpu": ComponentKind.CPU, "gpu": ComponentKind.GPU}

LEGACY_THRESHOLDS = {
    "lower_fatal": "LowerThresholdFatal", "lower_critical": "LowerThresholdCritical",
    "lower_caution": "LowerThresholdNonCritical", "upper_caution": "UpperThresholdNonCritical",
    "upper_critical": "UpperThresholdCritical", "upper_fatal": "UpperThresholdFatal",
}
SENSOR_THRESHOLDS = {
    "lower_fatal": "LowerFatal", "lower_critical": "LowerCritical", "lower_caution": "LowerCaution",
    "upper_caution": "UpperCaution", "upper_critical": "UpperCritical", "upper_fatal": "UpperFatal",
}



READING_TYPES = {
    "temperature": SensorKind.TEMPERATURE, "rotational": SensorKind.FAN, "voltage": SensorKind.VOLTAGE,
    "current": SensorKind.CURRENT, "power": SensorKind.POWER, "energykwh": SensorKind.ENERGY,
    "energyjoules": SensorKind.ENERGY, "energywh": SensorKind.ENERGY, "frequency": SensorKind.FREQUENCY,
    "percent": SensorKind.PERCENT, "humidity": SensorKind.HUMIDITY, "airflow": SensorKind.AIRFLOW,
    "airflowcmm": SensorKind.AIRFLOW, "pressure": SensorKind.PRESSURE, "pressurepa": SensorKind.PRESSURE,
    "liquidflow": SensorKind.LIQUID, "liquidflowlpm": SensorKind.LIQUID, "liquidlevel": SensorKind.LIQUID,
}
UNITS = {
    "cel": SensorKind.TEMPERATURE, "rpm": SensorKind.FAN, "v": SensorKind.VOLTAGE, "a": SensorKind.CURRENT,
    "w": SensorKind.POWER, "kw.h": SensorKind.ENERGY, "j": SensorKind.ENERGY, "hz": SensorKind.FREQUENCY,
    "%": SensorKind.PERCENT,
}


SEVERITY = {"ok": Health.OK, "warning": Health.WARNING, "critical": Health.CRITICAL}

RESET_TYPES = {
    "on": ("On",),
    "off": ("GracefulShutdown",),
    "force-off": ("ForceOff",),
    "cycle": ("PowerCycle", "ForceRestart"),
    "reset": ("ForceRestart", "GracefulRestart"),
    "graceful-restart": ("GracefulRestart",),
}
BOOT_TARGETS = {"cd": "Cd", "pxe": "Pxe", "hdd": "Hdd", "bios": "BiosSetup", "usb": "Usb", "none": "None"}


# ApplyTime values in the order dcops prefers them for settings that need a reboot anyway.
APPLY_TIMES = ("OnReset", "AtMaintenanceWindowStart", "InMaintenanceWindowOnReset", "Immediate")
RAID_TYPES = ("RAID0", "RAID1", "RAID5", "RAID6", "RAID10", "RAID50", "RAID60", "RAID1E", "RAID00")
HOTSPARE_TYPES = ("None", "Global", "Chassis", "Dedicated")
# TaskState values of a task that has not ended (Redfish Task.v1_x).
TASK_RUNNING = frozenset({"New", "Starting", "Running", "Pending", "Stopping", "Suspended", "Interrupted",
                          "Service"})
TASK_DONE_OK = frozenset({"Completed"})
TASK_FAILED = frozenset({"Exception", "Killed", "Cancelled", "Cancelling"})
# BootProgress.LastState values that mean POST has finished (Redfish ComputerSystem.BootProgress).
POST_DONE = frozenset({"SystemHardwareInitializationComplete", "OSBootStarted", "OSRunning", "SetupEntered",
                       "BootingInFrontOfSetup"})
OS_RUNNING = "OSRunning"
BOOT_PROGRESS = "BootProgress"
POWER_STATE = "PowerState"
LAST_RESET_TIME = "LastResetTime"
# Volume cache policies: dcops' words -> Redfish Volume ReadCachePolicy / WriteCachePolicy values.
READ_POLICY = {"read-ahead": "ReadAhead", "adaptive": "AdaptiveReadAhead", "no-read-ahead": "Off"}
WRITE_POLICY = {"write-back": "ProtectedWriteBack", "always-write-back": "UnprotectedWriteBack",
                "write-through": "WriteThrough"}
TASK_STATE = "TaskState"
TASK_MONITOR = "TaskMonitor"

# --------------------------------------------------------------------------- the fleet reader
AUTH_TOKEN = "X-Auth-Token"  # the session token header (request and login answer)
SESSION_LIMIT = "SessionLimitExceeded"  # the MessageId of a BMC out of sessions
ID = "Id"
LINKS = "Links"
# Documents whose content does not change between inventory rounds (cached by the fleet reader).
STATIC_TYPES = frozenset({
    "ServiceRoot", "Manager", "LogService", "UpdateService", "ComputerSystemCollection", "ChassisCollection",
    "ManagerCollection", "LogServiceCollection",
})
# Collections whose members carry live health: asked for with $expand where the BMC supports it.
EXPAND_TYPES = frozenset({
    "SensorCollection", "ProcessorCollection", "MemoryCollection", "DriveCollection", "FanCollection",
    "PowerSupplyCollection", "VolumeCollection", "NetworkAdapterCollection", "StorageCollection",
    "SoftwareInventoryCollection", "StorageControllerCollection",
})
# The property names under which Redfish links those collections (lower case, as cache keys are):
# on a first visit, when the service root advertises $expand, a collection under one of these
# names is asked for with $expand straight away instead of being read, then each member (a first
# inventory visit of a Dell sim with 33 DIMMs: 87 requests -> about 25). Its real type, read from
# the answer, is what is remembered.
EXPAND_SEGMENTS = {
    "sensors": "SensorCollection", "processors": "ProcessorCollection", "memory": "MemoryCollection",
    "drives": "DriveCollection", "fans": "FanCollection", "powersupplies": "PowerSupplyCollection",
    "volumes": "VolumeCollection", "networkadapters": "NetworkAdapterCollection", "storage": "StorageCollection",
    "firmwareinventory": "SoftwareInventoryCollection", "controllers": "StorageControllerCollection",
}
# Resources read with $expand so that their live sub-resources come inline: a Chassis brings its
# Thermal and Power (or ThermalSubsystem/PowerSubsystem) in the same answer, three GETs in one.
EXPAND_SELF_TYPES = frozenset({"Chassis"})
# $select on expanded part collections (dcops/bmc/redfish/select.py): what the parser
# (read.py: _component, part_location, _system_parts, _drive, _firmware, _drives, memory_kind;
# the quirks' location/firmware) reads of each member, nothing more. Oem is never asked for:
# no inventory quirk reads a part's Oem block. A property added to the parser for one of these
# types must be added here too (tests/unit/bmc/test_select.py checks the parser against it).
_PART_FIELDS = ("Id", "Name", "MemberId", "SerialNumber", "Model", "Manufacturer", "PartNumber", "SparePartNumber",
                "Status", "Location", "PhysicalLocation", "DeviceLocator", "Socket", "Links")
SELECT_MEMBERS: dict[str, tuple[str, ...]] = {
    "MemoryCollection": (*_PART_FIELDS, "FirmwareVersion", "CapacityMiB", "OperatingSpeedMhz", "MemoryDeviceType"),
    "ProcessorCollection": (*_PART_FIELDS, "FirmwareVersion", "ProcessorType", "TotalCores", "MaxSpeedMHz",
                            "Memory"),
    "DriveCollection": (*_PART_FIELDS, "Revision", "CapacityBytes", "CapableSpeedGbs", "MediaType", "Protocol",
                        "PredictedMediaLifeLeftPercent", "FailurePredicted"),
    "SoftwareInventoryCollection": ("Id", "Name", "Version", "RelatedItem", "Updateable", "Status", "SoftwareId",
                                    "ReleaseDate"),
}
LOG_ENTRIES_TYPE = "LogEntryCollection"
SERVICE_ROOT_TYPE = "ServiceRoot"
# Redundancy groups: Power.Redundancy (legacy) and PowerSubsystem.PowerSupplyRedundancy.
LEGACY_REDUNDANCY = "Redundancy"
LEGACY_REDUNDANCY_SET = "RedundancySet"
POWER_REDUNDANCY = "PowerSupplyRedundancy"
POWER_REDUNDANCY_GROUP = "RedundancyGroup"
