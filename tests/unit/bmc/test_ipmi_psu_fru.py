"""IPMI power supplies from their own FRUs (not only FRU 0): which names are a PSU's, the part a
PSU FRU gives, and the PSU's sensors pointed at that part. Pure, table-tested."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.bmc.ipmi import link_psu_sensors, psu_component, psu_location
from dcops.observation import ComponentKind, Sensor, SensorKind


@pytest.mark.parametrize(("name", "expected"), [
    ("Power Supply 1", "PSU1"), ("PSU1 Status", "PSU1"), ("PSU2", "PSU2"), ("PS 2 Input Power", "PSU2"),
    ("PWS-3 Status", "PSU3"), ("psu_02", "PSU2"), ("POWER SUPPLY 10", "PSU10"),
    ("CPU1 Temp", None), ("PS_ON", None), ("Inlet Temp", None), ("System", None), ("", None),
])
def test_psu_location(name: str, expected: str | None) -> None:
    assert psu_location(name) == expected


# pyghmi's parse of the kit's PSU FRU (tests/fixtures/ipmi/mkfru.py psu): product area only.
DELTA = {"Manufacturer": "Delta", "Product name": "DPS-800AB-5 A", "Model": "PSU-PN-800W", "Hardware Version": "A0",
         "Serial Number": "PSU1SN0001", "Asset Number": None}


@pytest.mark.parametrize(("name", "info", "expected"), [
    ("Power Supply 1", DELTA, ("PSU1", "PSU1SN0001", "DPS-800AB-5 A", "Delta", "PSU-PN-800W")),
    # A board-area-only PSU FRU (some vendors): the board fields.
    ("PSU2", {"Board manufacturer": "LITE-ON", "Board product name": "PS-2112-5L", "Board serial number": b"6K1234 ",
              "Board model": "PN-2"}, ("PSU2", "6K1234", "PS-2112-5L", "LITE-ON", "PN-2")),
    ("Power Supply 1", {"Serial Number": "", "Product name": None}, None),  # says nothing: no part
    ("Riser 1", DELTA, None),  # not a PSU's FRU
])
def test_psu_component(name: str, info: dict[str, Any], expected: tuple[str, ...] | None) -> None:
    comp = psu_component(name, info)
    if expected is None:
        assert comp is None
        return
    assert comp is not None and comp.kind is ComponentKind.PSU
    assert (comp.location, comp.serial, comp.model, comp.manufacturer, comp.part_number) == expected
    assert comp.source == f"fru:{expected[0]}"


def test_psu_sensors_point_at_their_fru_part_only() -> None:
    psu1 = psu_component("Power Supply 1", DELTA)
    assert psu1 is not None
    sensors = [Sensor(SensorKind.DISCRETE, "PSU1 Status", "0", source="sdr"),
               Sensor(SensorKind.POWER, "PSU1 Power", "0", 240.0, source="sdr"),
               Sensor(SensorKind.DISCRETE, "PSU2 Status", "0", source="sdr"),  # no FRU read for PSU2
               Sensor(SensorKind.TEMPERATURE, "Inlet Temp", "0", 24.0, source="sdr")]
    linked = link_psu_sensors(sensors, [psu1])
    assert [s.source for s in linked] == ["fru:PSU1", "fru:PSU1", "sdr", "sdr"]
    assert link_psu_sensors(sensors, []) == sensors
