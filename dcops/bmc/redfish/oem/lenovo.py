"""Lenovo XCC (ThinkSystem)."""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.oem import KvmJavaOnly, KvmPlan, KvmRefused, Quirks, manager_oem, oem_text
from dcops.observation import SensorKind

Doc = dict[str, Any]


class LenovoQuirks(Quirks):
    name = "lenovo"
    markers = ("lenovo",)

    # -- consoles
    manager_oem_keys = ("lenovo",)
    manager_words = ("xclarity", "lenovo")
    # XCC CLI "console 1" (the XCC 2.83 capture lists "SSH"; not verified on hardware).
    serial_command = "console 1"

    def kvm_plan(self, host: str, manager: Doc) -> KvmPlan | None:
        model = str(manager.get("Model") or "")
        if not (manager_oem(manager, "Lenovo") or "XClarity" in model or model.startswith("IMM")):
            return None
        if model.startswith("IMM"):
            raise KvmJavaOnly(f"{host}: {model} has only the Java (Avocent) remote console")
        raise KvmRefused(f"{host}: Lenovo XCC publishes no launch URL that takes a session; open the XCC "
                         "page and use Remote Console there (the password is not handed to the browser)")

    def sensor_kind(self, doc: Doc) -> SensorKind | None:
        reading_type = str(doc.get("ReadingType") or "")
        units = str(doc.get("ReadingUnits") or "")
        # Quirk (Lenovo XCC 2.x): discrete state sensors ("PCIe 9 OverTemp", "CPUs") come with
        # ReadingType Temperature (or none) but no ReadingUnits and Reading 0: not a temperature.
        if not units:
            return SensorKind.DISCRETE
        # Quirk (Lenovo XCC 2.x): PSU/GPU power sensors say ReadingType "Current" with units Watts.
        if reading_type == "Current" and units.lower() in ("watts", "w"):
            return SensorKind.POWER
        # Quirk (Lenovo XCC 2.x): fan tachometers say ReadingType "AirFlow" with units RPM.
        if reading_type == "AirFlow" and units.upper() == "RPM":
            return SensorKind.FAN
        return None

    def sensor_units(self, doc: Doc) -> str | None:
        # Quirk (Lenovo XCC 2.x): units "C" and "Watts" instead of UCUM "Cel" and "W".
        return {"C": "Cel", "Watts": "W"}.get(str(doc.get("ReadingUnits") or ""))


    def board_serial(self, chassis: Doc) -> str | None:
        # Quirk (Lenovo XCC 2.x): the system board serial is only in Oem.Lenovo.SystemBoardSerialNumber
        # of the chassis (SerialNumber there is the machine's serial).
        return oem_text(chassis, "Lenovo", "SystemBoardSerialNumber")


QUIRKS = LenovoQuirks()
