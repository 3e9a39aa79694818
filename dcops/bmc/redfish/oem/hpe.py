"""HPE iLO 4/5/6."""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.oem import Quirks
from dcops.observation import SensorKind

Doc = dict[str, Any]


class HpeQuirks(Quirks):
    name = "hpe"
    markers = ("hpe", "hewlett", "hp")

    # Quirk (HPE iLO 5/6): links mix case and trailing slashes (/redfish/v1/systems/1/); handled
    # for every vendor in resources.normalize, because other BMCs copied the habit.

    def sensor_kind(self, doc: Doc) -> SensorKind | None:
        # Quirk (HPE iLO 6): Chassis/1/Sensors members carry neither ReadingType nor ReadingUnits;
        # they are the "sea of sensors" temperatures (Oem.Hpe HpeSeaOfSensors), in Celsius.
        hpe = (doc.get("Oem") or {}).get("Hpe") or {}
        if not doc.get("ReadingType") and not doc.get("ReadingUnits") and "SeaOfSensors" in str(
                hpe.get("@odata.type", "")):
            return SensorKind.TEMPERATURE
        return None

    def sensor_units(self, doc: Doc) -> str | None:
        return "Cel" if self.sensor_kind(doc) is SensorKind.TEMPERATURE else None

    def eject_body(self) -> Doc | None:
        # Quirk (HPE iLO 5): EjectMedia without a body answers 400 (MalformedJSON); it wants {}.
        return {}

    def pick_log_service(self, services: list[Doc]) -> Doc | None:
        # iLO: "IML" is the integrated management log (hardware events), "IEL" the iLO event log.
        return next((s for s in services if str(s.get("Id")).upper() == "IML"), None) \
            or super().pick_log_service(services)


QUIRKS = HpeQuirks()
