"""Messages: the Base registry texts BMCs put in error bodies, and the SEL entries hardware events write.

SEL texts follow each vendor's style (Dell's message IDs such as ``PSU0001``, HPE IML sentences,
Lenovo's "... has transitioned to critical", Supermicro's IPMI-like "[Sensor] Name: Event -
Assertion"); the generic flavour uses IPMI-style text.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE: dict[str, tuple[str, str, str]] = {
    # suffix: (severity, message with %1.., resolution)
    "Success": ("OK", "The request completed successfully.", "None"),
    "Created": ("OK", "The resource has been created successfully.", "None"),
    "PropertyUnknown": ("Warning", "The property %1 is not in the list of valid properties for the resource.",
                        "Remove the unknown property from the request body and resubmit the request if the operation failed."),
    "PropertyNotWritable": ("Warning", "The property %1 is a read only property and cannot be assigned a value.",
                            "Remove the property from the request body and resubmit the request if the operation failed."),
    "PropertyValueNotInList": ("Warning", "The value %1 for the property %2 is not in the list of acceptable values.",
                               "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed."),
    "PropertyValueTypeError": ("Warning", "The value %1 for the property %2 is of a different type than the property can accept.",
                               "Correct the value for the property in the request body and resubmit the request if the operation failed."),
    "PropertyValueOutOfRange": ("Warning", "The value %1 for the property %2 is not in the supported range of acceptable values.",
                                "Correct the value for the property in the request body and resubmit the request if the operation failed."),
    "PropertyValueFormatError": ("Warning", "The value %1 for the property %2 is of a different format than the property can accept.",
                                 "Correct the value for the property in the request body and resubmit the request if the operation failed."),
    "PropertyValueConflict": ("Warning", "The property %1 could not be written because its value would conflict with the value of the %2 property.",
                              "No resolution is required."),
    "PropertyMissing": ("Warning", "The property %1 is a required property and must be included in the request.",
                        "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed."),
    "ActionParameterMissing": ("Critical", "The action %1 requires the parameter %2 to be present in the request body.",
                               "Supply the action with the required parameter in the request body when the request is resubmitted."),
    "ActionParameterUnknown": ("Warning", "The action %1 was submitted with the invalid parameter %2.",
                               "Correct the invalid parameter and resubmit the request if the operation failed."),
    "ActionParameterNotSupported": ("Warning", "The parameter %1 for the action %2 is not supported on the target resource.",
                                    "Remove the parameter supplied and resubmit the request if the operation failed."),
    "ActionParameterValueNotInList": ("Warning", "The value %1 for the parameter %2 in the action %3 is not in the list of acceptable values.",
                                      "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed."),
    "ActionParameterValueTypeError": ("Warning", "The value %1 for the parameter %2 in the action %3 is of a different type than the parameter can accept.",
                                      "Correct the value for the parameter in the request body and resubmit the request if the operation failed."),
    "ActionParameterValueFormatError": ("Warning", "The value %1 for the parameter %2 in the action %3 is of a different format than the parameter can accept.",
                                        "Correct the value for the parameter in the request body and resubmit the request if the operation failed."),
    "ActionNotSupported": ("Critical", "The action %1 is not supported by the resource.",
                           "The action supplied cannot be resubmitted to the implementation.  Perhaps the action was invalid, the wrong resource was the target or the implementation documentation may be of assistance."),
    "OperationNotAllowed": ("Critical", "The HTTP method is not allowed on this resource.",
                            "None."),
    "ResourceNotFound": ("Critical", "The requested resource of type %1 named %2 was not found.",
                         "Provide a valid resource identifier and resubmit the request."),
    "ResourceMissingAtURI": ("Critical", "The resource at the URI %1 was not found.",
                             "Place a valid resource at the URI or correct the URI and resubmit the request."),
    "ResourceInUse": ("Warning", "The change to the requested resource failed because the resource is in use or in transition.",
                      "Remove the condition and resubmit the request if the operation failed."),
    "ResourceCannotBeDeleted": ("Critical", "The delete request failed because the resource requested cannot be deleted.",
                                "Do not attempt to delete a non-deletable resource."),
    "MalformedJSON": ("Critical", "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
                      "Ensure that the request body is valid JSON and resubmit the request."),
    "PreconditionFailed": ("Critical", "The ETag supplied did not match the ETag required to change this resource.",
                           "Try the operation again using the appropriate ETag."),
    "PreconditionRequired": ("Critical", "A precondition header or annotation is required to change this resource.",
                             "Try the operation again using an If-Match or If-None-Match header and appropriate ETag."),
    "NoValidSession": ("Critical", "There is no valid session established with the implementation.",
                       "Establish a session before attempting any operations."),
    "ResourceAtUriUnauthorized": ("Critical", "While accessing the resource at %1, the service received an authorization error %2.",
                                  "Ensure that the appropriate access is provided for the service in order for it to access the URI."),
    "SessionLimitExceeded": ("Critical", "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.",
                             "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions (if supported)."),
    "InternalError": ("Critical", "The request failed due to an internal service error.  The service is still operational.",
                      "Resubmit the request.  If the problem persists, consider resetting the service."),
    "ServiceTemporarilyUnavailable": ("Critical", "The service is temporarily unavailable.  Retry in %1 seconds.",
                                      "Wait for the indicated retry duration and retry the operation."),
    "QueryNotSupported": ("Warning", "Querying is not supported by the implementation.",
                          "Remove the query parameters and resubmit the request if the operation failed."),
    "QueryCombinationInvalid": ("Warning", "Two or more query parameters in the request cannot be used together.",
                                "Remove one or more of the query parameters and resubmit the request if the operation failed."),
    "QueryParameterValueTypeError": ("Warning", "The value %1 for the query parameter %2 is of a different type than the parameter can accept.",
                                      "Correct the value for the query parameter in the request and resubmit the request if the operation failed."),
    "PropertyNotUpdated": ("Critical", "The property %1 was not updated due to an internal service error.  The service is still operational.",
                           "Resubmit the request.  If the problem persists, check for additional messages and consider resetting the service."),
    "PropertyValueModified": ("Warning", "The property %1 was assigned the value %2 due to modification by the service.",
                              "No resolution is required."),
}


def base_text(suffix: str, args: tuple[str, ...] = ()) -> tuple[str, str, str]:
    """(severity, message, resolution) of a Base message with its arguments filled in."""
    severity, template, resolution = BASE[suffix]
    message = template
    for n, arg in enumerate(args, start=1):
        message = message.replace(f"%{n}", str(arg))
    return severity, message, resolution


@dataclass(frozen=True)
class SelText:
    message_id: str
    message: str
    severity: str  # OK, Warning, Critical
    sensor_type: str  # a LogEntry.SensorType value
    entry_code: str = "Assert"  # Assert / Deassert


# event: (severity, sensor type, entry code, {flavour: (message id, message)}); "" is the IPMI-style default.
# Placeholders: {name} (component/sensor name), {n} (1-based number), {value}, {version}.
_SEL: dict[str, tuple[str, str, str, dict[str, tuple[str, str]]]] = {
    "psu_fail": ("Critical", "Power Supply / Converter", "Assert", {
        "": ("PSU.Failure", "Power Supply {name}: Failure detected - Asserted"),
        "dell": ("PSU0001", "Power supply {n} failed."),
        "hpe": ("iLO.PowerSupplyFailure", "Power Supply Failure (Power Supply {n})."),
        "lenovo": ("FQXSPPW0035M", "Power supply {n} has failed."),
        "supermicro": ("PSU.Failure", "[Power Supply] PS{n} Status: Failure detected - Assertion"),
    }),
    "psu_ok": ("OK", "Power Supply / Converter", "Deassert", {
        "": ("PSU.Failure", "Power Supply {name}: Failure detected - Deasserted"),
        "dell": ("PSU0002", "Power supply {n} is present and operating normally."),
        "hpe": ("iLO.PowerSupplyOK", "Power Supply {n} is operating normally."),
        "lenovo": ("FQXSPPW0036M", "Power supply {n} has recovered from failure."),
        "supermicro": ("PSU.Failure", "[Power Supply] PS{n} Status: Failure detected - Deassertion"),
    }),
    "psu_input_lost": ("Critical", "Power Supply / Converter", "Assert", {
        "": ("PSU.InputLost", "Power Supply {name}: Power Supply input lost (AC/DC) - Asserted"),
        "dell": ("PSU0003", "The power input for power supply {n} is lost."),
        "hpe": ("iLO.PowerSupplyInputLost", "Power Supply Input Lost (Power Supply {n})."),
        "lenovo": ("FQXSPPW0031J", "Power supply {n} input voltage is lost."),
        "supermicro": ("PSU.InputLost", "[Power Supply] PS{n} Status: Power Supply input lost (AC/DC) - Assertion"),
    }),
    "redundancy_lost": ("Warning", "PowerUnit", "Assert", {
        "": ("PSU.RedundancyLost", "Power Unit PSU Redundancy: Redundancy Lost - Asserted"),
        "dell": ("RDU0012", "The power supplies are not redundant."),
        "hpe": ("iLO.PowerSuppliesNotRedundant", "Power Supplies Not Redundant."),
        "lenovo": ("FQXSPPW0105I", "Redundancy Lost for Power Unit has asserted."),
        "supermicro": ("PSU.RedundancyLost", "[Power Unit] PS Redundancy: Redundancy Lost - Assertion"),
    }),
    "redundancy_ok": ("OK", "PowerUnit", "Deassert", {
        "": ("PSU.RedundancyLost", "Power Unit PSU Redundancy: Fully Redundant - Asserted"),
        "dell": ("RDU0001", "The power supplies are redundant."),
        "hpe": ("iLO.PowerSuppliesRedundant", "Power Supplies Redundant."),
        "lenovo": ("FQXSPPW0101I", "Redundancy Lost for Power Unit has deasserted."),
        "supermicro": ("PSU.RedundancyLost", "[Power Unit] PS Redundancy: Fully Redundant - Assertion"),
    }),
    "fan_fail": ("Critical", "Fan", "Assert", {
        "": ("FAN.LowerCritical", "Fan {name}: Lower Critical - going low - Asserted"),
        "dell": ("FAN0001", "Fan {n} RPM is less than the lower critical threshold."),
        "hpe": ("iLO.FanFailure", "System Fan Failure (Fan {n}, Location System)."),
        "lenovo": ("FQXSPFN0011N", "Numeric sensor {name} going low (lower critical) has asserted."),
        "supermicro": ("FAN.LowerCritical", "[Fan] {name}: Lower Critical - going low - Assertion"),
    }),
    "fan_ok": ("OK", "Fan", "Deassert", {
        "": ("FAN.LowerCritical", "Fan {name}: Lower Critical - going low - Deasserted"),
        "dell": ("FAN0000", "Fan {n} RPM is within normal range."),
        "hpe": ("iLO.FanOK", "System Fan {n} is operating normally."),
        "lenovo": ("FQXSPFN4011N", "Numeric sensor {name} going low (lower critical) has deasserted."),
        "supermicro": ("FAN.LowerCritical", "[Fan] {name}: Lower Critical - going low - Deassertion"),
    }),
    "temp_critical": ("Critical", "Temperature", "Assert", {
        "": ("TMP.UpperCritical", "Temperature {name}: Upper Critical - going high ({value} C) - Asserted"),
        "dell": ("TMP0120", "The {name} temperature is greater than the upper critical threshold."),
        "hpe": ("iLO.TemperatureCritical", "Temperature Status Changed (Sensor {name}, Status Critical, {value} C)."),
        "lenovo": ("FQXSPTM0005N", "Numeric sensor {name} going high (upper critical) has asserted."),
        "supermicro": ("TMP.UpperCritical", "[Temperature] {name}: Upper Critical - going high - Assertion"),
    }),
    "temp_ok": ("OK", "Temperature", "Deassert", {
        "": ("TMP.UpperCritical", "Temperature {name}: Upper Critical - going high - Deasserted"),
        "dell": ("TMP0100", "The {name} temperature is within range."),
        "hpe": ("iLO.TemperatureOK", "Temperature Status Changed (Sensor {name}, Status OK)."),
        "lenovo": ("FQXSPTM4005N", "Numeric sensor {name} going high (upper critical) has deasserted."),
        "supermicro": ("TMP.UpperCritical", "[Temperature] {name}: Upper Critical - going high - Deassertion"),
    }),
    "dimm_ue": ("Critical", "Memory", "Assert", {
        "": ("MEM.Uncorrectable", "Memory {name}: Uncorrectable ECC - Asserted"),
        "dell": ("MEM0001", "Multi-bit memory errors detected on a memory device at location(s) {name}."),
        "hpe": ("iLO.UncorrectableMemoryError", "Uncorrectable Memory Error detected ({name})."),
        "lenovo": ("FQXSPMA0011G", "Memory logging limit reached for {name}; uncorrectable error detected."),
        "supermicro": ("MEM.Uncorrectable", "[Memory] {name}: Uncorrectable ECC @ Socket - Assertion"),
    }),
    "dimm_ok": ("OK", "Memory", "Deassert", {
        "": ("MEM.Uncorrectable", "Memory {name}: Uncorrectable ECC - Deasserted"),
        "dell": ("MEM0000", "Persistent correctable memory errors cleared on {name}."),
        "hpe": ("iLO.MemoryOK", "Memory module {name} is operating normally."),
        "lenovo": ("FQXSPMA4011G", "Memory {name} has recovered."),
        "supermicro": ("MEM.Uncorrectable", "[Memory] {name}: Uncorrectable ECC - Deassertion"),
    }),
    "drive_predictive": ("Warning", "Drive Slot/Bay", "Assert", {
        "": ("DRV.PredictiveFailure", "Drive Slot {name}: Predictive Failure - Asserted"),
        "dell": ("PDR1016", "Predictive failure reported for {name}."),
        "hpe": ("iLO.DrivePredictiveFailure", "Drive predictive failure ({name})."),
        "lenovo": ("FQXSPSS4004I", "Predicted failure on drive {name} has asserted."),
        "supermicro": ("DRV.PredictiveFailure", "[Drive Slot] {name}: Predictive Failure - Assertion"),
    }),
    "drive_fail": ("Critical", "Drive Slot/Bay", "Assert", {
        "": ("DRV.Fault", "Drive Slot {name}: Drive Fault - Asserted"),
        "dell": ("PDR1001", "Fault detected on drive {name}."),
        "hpe": ("iLO.DriveFailure", "Drive failure ({name})."),
        "lenovo": ("FQXSPSS4008M", "Drive {name} has been disabled due to a detected fault."),
        "supermicro": ("DRV.Fault", "[Drive Slot] {name}: Drive Fault - Assertion"),
    }),
    "drive_ok": ("OK", "Drive Slot/Bay", "Deassert", {
        "": ("DRV.Fault", "Drive Slot {name}: Drive Fault - Deasserted"),
        "dell": ("PDR1100", "Drive {name} is operating normally."),
        "hpe": ("iLO.DriveOK", "Drive {name} is operating normally."),
        "lenovo": ("FQXSPSS4009I", "Drive {name} has been enabled."),
        "supermicro": ("DRV.Fault", "[Drive Slot] {name}: Drive Fault - Deassertion"),
    }),
    "volume_degraded": ("Warning", "Drive Slot/Bay", "Assert", {
        "": ("VOL.Degraded", "Volume {name}: Degraded - Asserted"),
        "dell": ("VDR8", "Virtual Disk {name} on {controller} has become degraded."),
        "hpe": ("iLO.LogicalDriveDegraded", "Logical drive {name} status is Degraded (Interim Recovery Mode)."),
        "lenovo": ("FQXSPSS4012M", "Array {name} is in degraded state."),
        "supermicro": ("VOL.Degraded", "[Drive Slot] Volume {name}: In Critical Array - Assertion"),
    }),
    "volume_failed": ("Critical", "Drive Slot/Bay", "Assert", {
        "": ("VOL.Failed", "Volume {name}: Failed Array - Asserted"),
        "dell": ("VDR7", "Virtual Disk {name} on {controller} has failed."),
        "hpe": ("iLO.LogicalDriveFailed", "Logical drive {name} status is Failed."),
        "lenovo": ("FQXSPSS4013M", "Array {name} has failed."),
        "supermicro": ("VOL.Failed", "[Drive Slot] Volume {name}: In Failed Array - Assertion"),
    }),
    "volume_rebuild": ("OK", "Drive Slot/Bay", "Assert", {
        "": ("VOL.Rebuild", "Volume {name}: Rebuild/Remap in progress - Asserted"),
        "dell": ("VDR34", "Rebuild started on Virtual Disk {name} using hot spare {spare}."),
        "hpe": ("iLO.LogicalDriveRebuilding", "Logical drive {name} is rebuilding onto spare {spare}."),
        "lenovo": ("FQXSPSS4014I", "Rebuild in progress for array {name}."),
        "supermicro": ("VOL.Rebuild", "[Drive Slot] Volume {name}: Rebuild/Remap in progress - Assertion"),
    }),
    "volume_ok": ("OK", "Drive Slot/Bay", "Deassert", {
        "": ("VOL.Degraded", "Volume {name}: Degraded - Deasserted"),
        "dell": ("VDR9", "Virtual Disk {name} on {controller} is operating normally."),
        "hpe": ("iLO.LogicalDriveOK", "Logical drive {name} status is OK."),
        "lenovo": ("FQXSPSS4015I", "Array {name} is operating normally."),
        "supermicro": ("VOL.Degraded", "[Drive Slot] Volume {name}: In Critical Array - Deassertion"),
    }),
    "cpu_ierr": ("Critical", "Processor", "Assert", {
        "": ("CPU.IERR", "Processor {name}: IERR - Asserted"),
        "dell": ("CPU0000", "Internal error has occurred check for additional logs."),
        "hpe": ("iLO.UncorrectableMCE",
                "Uncorrectable Machine Check Exception (Board 0, Processor {n}, APIC ID 0x00000000, Bank 0x00000004, "
                "Status 0xB2000000'00070F0F)."),
        "lenovo": ("FQXSPPU0001N", "An Over-Temperature Condition has been detected on Processor {n}; IERR."),
        "supermicro": ("CPU.IERR", "[Processor] CPU{n}: IERR - Assertion"),
    }),
    "abnormal_shutdown": ("Critical", "System Event", "Assert", {
        "": ("SYS.AbnormalShutdown", "System Event: Abnormal shutdown; system powered off - Asserted"),
        "dell": ("SYS1001", "System is turning off."),
        "hpe": ("iLO.ServerPowerOffAbnormal", "Server power removed abnormally (unexpected shutdown)."),
        "lenovo": ("FQXSPPU0016N", "An uncorrectable error has occurred on the system; the system was shut down."),
        "supermicro": ("SYS.AbnormalShutdown", "[System Event] Abnormal shutdown: OEM System Boot Event - Assertion"),
    }),
    "power_on": ("OK", "System Event", "Assert", {
        "": ("SYS.PowerOn", "System ACPI Power State: S0/G0 working - Asserted"),
        "dell": ("SYS1003", "System CPU Resetting."),
        "hpe": ("iLO.ServerPowerOn", "Server power restored."),
        "lenovo": ("FQXSPPW0001I", "The system has been powered on."),
        "supermicro": ("SYS.PowerOn", "[System ACPI Power State] ACPI: S0/G0 working - Assertion"),
    }),
    "power_off": ("OK", "System Event", "Assert", {
        "": ("SYS.PowerOff", "System ACPI Power State: S5/G2 soft-off - Asserted"),
        "dell": ("SYS1001", "System is turning off."),
        "hpe": ("iLO.ServerPowerOff", "Server power removed."),
        "lenovo": ("FQXSPPW0002I", "The system has been powered off."),
        "supermicro": ("SYS.PowerOff", "[System ACPI Power State] ACPI: S5/G2 soft-off - Assertion"),
    }),
    "ac_lost": ("Critical", "PowerUnit", "Assert", {
        "": ("PWR.ACLost", "Power Unit: AC lost / Power down - Asserted"),
        "dell": ("PWR2262", "The system was restored after an AC power loss."),
        "hpe": ("iLO.ACPowerLost", "Server AC power lost; power restored."),
        "lenovo": ("FQXSPPW0003L", "AC power was lost on the system; the system power has been restored."),
        "supermicro": ("PWR.ACLost", "[Power Unit] AC lost: Power down - Assertion"),
    }),
    "nmi": ("OK", "Critical Interrupt", "Assert", {
        "": ("SYS.NMI", "Critical Interrupt: Front Panel NMI / Diagnostic Interrupt - Asserted"),
        "dell": ("SYS1004", "A non-maskable interrupt (NMI) was issued."),
        "hpe": ("iLO.NMI", "NMI button pressed / NMI requested."),
        "lenovo": ("FQXSPEM4001I", "A diagnostic interrupt (NMI) was requested."),
        "supermicro": ("SYS.NMI", "[Critical Interrupt] Front Panel NMI / Diagnostic Interrupt - Assertion"),
    }),
    "log_cleared": ("OK", "Event Logging Disabled", "Assert", {
        "": ("SEL.Cleared", "Event Logging Disabled SEL: Log area reset/cleared - Asserted"),
        "dell": ("SEL0006", "All event logging is disabled."),
        "hpe": ("iLO.IMLCleared", "IML Cleared (iLO 5 user: admin)."),
        "lenovo": ("FQXSPEM4000I", "The SEL was cleared by user admin."),
        "supermicro": ("SEL.Cleared", "[Event Logging Disabled] SEL: Log area reset/cleared - Assertion"),
    }),
    "firmware_updated": ("OK", "Version Change", "Assert", {
        "": ("FW.Updated", "Version Change {name}: Firmware or software change detected ({version}) - Asserted"),
        "dell": ("SUP0518", "Successfully updated the {name} firmware to version {version}."),
        "hpe": ("iLO.FirmwareFlashed", "Firmware flashed ({name} {version})."),
        "lenovo": ("FQXSPUN0026I", "Device {name} firmware has been updated to {version}."),
        "supermicro": ("FW.Updated", "[Version Change] {name}: Firmware or software change detected - Assertion"),
    }),
    # Modelled on the vendors' wording for a configuration job that failed; not from a capture.
    "bios_attr_failed": ("Warning", "System Firmware Progress", "Assert", {
        "": ("BIOS.ConfigFailed", "System Firmware: BIOS setting {name} was not applied - Asserted"),
        "dell": ("SYS053", "Unable to apply the BIOS configuration change for attribute {name}: the configuration "
                           "job failed."),
        "hpe": ("iLO.BiosSettingNotApplied", "The BIOS setting {name} could not be applied during POST."),
        "lenovo": ("FQXSPSE4038I", "UEFI setting {name} was not applied during POST."),
        "supermicro": ("BIOS.ConfigFailed", "[System Firmware Progress] BIOS setting {name} not applied - Assertion"),
    }),
    "install_done": ("OK", "OS Stop/Shutdown", "Assert", {
        "": ("OS.GracefulShutdown", "OS Stop/Shutdown: OS graceful shutdown - Asserted"),
        "dell": ("OSE1002", "The operating system initiated a graceful shutdown (installer finished)."),
        "hpe": ("iLO.OSShutdown", "Server power off by the operating system (graceful shutdown)."),
        "lenovo": ("FQXSPOS4002I", "The operating system shut down the system."),
        "supermicro": ("OS.GracefulShutdown", "[OS Stop/Shutdown] OS graceful shutdown - Assertion"),
    }),
    # Not a vendor's record: BMCs log no installer errors; the simulator puts the installer's
    # console message here so that tests and operators can read it over Redfish.
    "install_error": ("Critical", "OS Critical Stop", "Assert", {
        "": ("OS.InstallerError", "OS Critical Stop: installer stopped: {value} - Asserted"),
    }),
    "drive_mode": ("OK", "Drive Slot/Bay", "Assert", {
        "": ("DRV.ModeChanged", "Drive Slot {name}: converted to {mode} - Asserted"),
        "dell": ("PDR1142", "The physical disk {name} is converted to {mode}."),
        "hpe": ("iLO.DriveModeChanged", "Drive {name} is now {mode}."),
        "lenovo": ("FQXSPSS4020I", "Drive {name} has been changed to {mode}."),
        "supermicro": ("DRV.ModeChanged", "[Drive Slot] {name}: converted to {mode} - Assertion"),
    }),
    "bmc_reset": ("OK", "Management Subsystem Health", "Assert", {
        "": ("BMC.Reset", "Management Subsystem Health: BMC reset - Asserted"),
        "dell": ("RAC0182", "The iDRAC firmware was rebooted with the following reason: user initiated."),
        "hpe": ("iLO.Reset", "iLO 5 reset (firmware update)."),
        "lenovo": ("FQXSPSE4000I", "The management controller was reset."),
        "supermicro": ("BMC.Reset", "[Management Subsystem Health] BMC reset - Assertion"),
    }),
}


def sel_text(flavour: str, event: str, **args: object) -> SelText:
    """The SEL entry ``flavour`` would write for ``event`` (see ``_SEL`` for the names)."""
    severity, sensor_type, code, texts = _SEL[event]
    message_id, template = texts.get(flavour) or texts[""]
    fill = {"name": "", "n": "", "value": "", "version": "", "controller": "the RAID controller", "spare": "",
            "mode": ""}
    fill.update({k: str(v) for k, v in args.items()})
    return SelText(message_id, template.format(**fill), severity, sensor_type, code)


SEL_EVENTS: tuple[str, ...] = tuple(_SEL)


class RedfishError(Exception):
    """A request the simulated BMC refuses: HTTP status plus one or more Base messages.

    ``messages`` holds (suffix, args) pairs such as ("PropertyValueNotInList", ("Foo", "BootMode"));
    ``vendor`` optionally replaces the first message with a vendor (MessageId, Message) pair.
    """

    def __init__(self, status: int, suffix: str, args: tuple[str, ...] = (), *,
                 more: list[tuple[str, tuple[str, ...]]] | None = None,
                 vendor: tuple[str, str] | None = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.messages: list[tuple[str, tuple[str, ...]]] = [(suffix, tuple(str(a) for a in args))] + list(more or [])
        self.vendor = vendor
        self.headers = dict(headers or {})
        super().__init__(f"{status} {suffix} {args}")


LOGIN_FAILED: dict[str, tuple[str, str]] = {
    "dell": ("IDRAC.2.8.SYS415", "Unable to complete the operation because an invalid username and/or password is "
                                 "entered, and therefore authentication failed."),
    "lenovo": ("Base.1.8.NoValidSession", "Invalid username or password."),
    "supermicro": ("Base.1.4.NoValidSession", "Invalid username or password."),
}

SESSION_LIMIT: dict[str, tuple[str, str]] = {
    "dell": ("IDRAC.2.8.RAC0218", "The maximum number of user sessions is reached."),
    "hpe": ("iLO.2.15.CreateLimitReachedForResource", ""),
    "lenovo": ("Base.1.8.SessionLimitExceeded", "The maximum number of sessions has been reached."),
    "supermicro": ("Base.1.4.SessionLimitExceeded",
                   "The session establishment failed due to the number of simultaneous sessions exceeding the "
                   "limit of the implementation."),
}
