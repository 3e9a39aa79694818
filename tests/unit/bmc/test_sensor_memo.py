"""The sensor memo (``read.SENSORS``) hands back a built Sensor only when every input of its parse
is the same: flipping any one input gives the sensor a fresh parse gives, and the golden table
reads the same with the memo cold, warm, and disabled."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dcops.bmc.redfish import read
from dcops.bmc.redfish.memo import Memo
from dcops.bmc.redfish.oem import Quirks
from dcops.bmc.redfish.oem.hpe import QUIRKS as HPE
from dcops.bmc.redfish.oem.lenovo import QUIRKS as LENOVO
from dcops.observation import SensorKind
from tests.unit.bmc.golden_reads import cases, expected

LEGACY = {
    "@odata.id": "/redfish/v1/Chassis/1/Thermal#/Temperatures/0", "MemberId": "0", "Name": "CPU1 Temp",
    "ReadingCelsius": 41.5, "UpperThresholdNonCritical": 85, "UpperThresholdCritical": 95.0,
    "LowerThresholdCritical": 5, "PhysicalContext": "CPU", "Status": {"Health": "OK", "State": "Enabled"},
}
MODERN = {
    "@odata.id": "/redfish/v1/Chassis/1/Sensors/CPU1Temp", "Id": "CPU1Temp", "Name": "CPU1 Temp",
    "Reading": 41.5, "ReadingType": "Temperature", "ReadingUnits": "Cel", "PhysicalContext": "CPU",
    "Status": {"Health": "OK", "State": "Enabled"},
    "Thresholds": {"UpperCaution": {"Reading": 85}, "UpperCritical": {"Reading": 95.0},
                   "LowerCritical": {"Reading": 5}},
}

# (field path, new value): every input of the parse, and values Python calls equal but the parse
# does not (1 == 1.0 == True; 0.0 == -0.0).
LEGACY_FLIPS: list[tuple[tuple[str, ...], Any]] = [
    (("ReadingCelsius",), 97.0), (("ReadingCelsius",), True), (("ReadingCelsius",), None),
    (("ReadingCelsius",), -0.0), (("ReadingCelsius",), 0), (("ReadingCelsius",), "41.5"),
    (("Name",), "CPU2 Temp"), (("Name",), None), (("Name",), 41), (("Name",), 41.0), (("Name",), " CPU1 Temp "),
    (("MemberId",), "1"), (("PhysicalContext",), "Intake"), (("@odata.id",), "/redfish/v1/x"),
    (("UpperThresholdNonCritical",), 86), (("UpperThresholdNonCritical",), 85.0),
    (("UpperThresholdNonCritical",), True), (("UpperThresholdCritical",), 255),
    (("UpperThresholdCritical",), 0.0), (("UpperThresholdCritical",), -0.0), (("LowerThresholdCritical",), None),
    (("LowerThresholdNonCritical",), 10), (("UpperThresholdFatal",), 100), (("LowerThresholdFatal",), 1),
    (("Status", "Health"), "Critical"), (("Status", "Health"), None), (("Status", "State"), "Absent"),
    (("Status", "State"), 1), (("Status",), "OK"), (("Status",), None),
]
MODERN_FLIPS: list[tuple[tuple[str, ...], Any]] = [
    (("Reading",), 96.0), (("Reading",), True), (("Reading",), -0.0), (("Reading",), 1),
    (("ReadingType",), "Voltage"), (("ReadingType",), "EnergyJoules"), (("ReadingType",), None),
    (("ReadingUnits",), "V"), (("ReadingUnits",), None), (("Name",), None), (("Id",), "X"),
    (("PhysicalContext",), "Intake"), (("@odata.id",), "/redfish/v1/y"), (("SensorResetTime",), "2026-01-01"),
    (("Thresholds", "UpperCaution", "Reading"), 86), (("Thresholds", "UpperCaution", "Reading"), True),
    (("Thresholds", "UpperCaution"), 85), (("Thresholds", "LowerCaution"), {"Reading": 10}),
    (("Thresholds", "UpperFatal"), {"Reading": 65535}), (("Thresholds",), None), (("Thresholds",), {}),
    (("Status", "Health"), "Warning"), (("Status", "State"), "Disabled"),
    (("Oem",), {"Hpe": {"@odata.type": "#HpeSeaOfSensors.v1_0_0.HpeSeaOfSensors"}}),
]


def _flipped(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    inner = out
    for step in path[:-1]:
        inner = inner[step]
    inner[path[-1]] = value
    return out


def _fresh_legacy(doc: dict[str, Any]) -> read.Sensor:
    return read._build_legacy_sensor(SensorKind.TEMPERATURE, doc, "1", "ReadingCelsius", "Cel", "Name")


def _memo_legacy(doc: dict[str, Any]) -> read.Sensor:
    return read._legacy_sensor(SensorKind.TEMPERATURE, doc, "1", "ReadingCelsius", "Cel")


@pytest.fixture(autouse=True)
def cold_memo() -> Any:
    read.SENSORS.clear()
    yield
    read.SENSORS.clear()


@pytest.mark.parametrize(("path", "value"), LEGACY_FLIPS, ids=[f"{'.'.join(p)}={v!r}" for p, v in LEGACY_FLIPS])
def test_a_legacy_sensor_is_reused_only_when_every_input_is_the_same(path: tuple[str, ...], value: Any) -> None:
    warm = _memo_legacy(LEGACY)
    assert _memo_legacy(copy.deepcopy(LEGACY)) is warm  # the same inputs: the same Sensor
    doc = _flipped(LEGACY, path, value)
    assert repr(_memo_legacy(doc)) == repr(_fresh_legacy(doc))
    assert repr(_memo_legacy(copy.deepcopy(LEGACY))) == repr(warm)


@pytest.mark.parametrize("quirks", [Quirks(), HPE, LENOVO], ids=["generic", "hpe", "lenovo"])
@pytest.mark.parametrize(("path", "value"), MODERN_FLIPS, ids=[f"{'.'.join(p)}={v!r}" for p, v in MODERN_FLIPS])
def test_a_sensor_is_reused_only_when_every_input_is_the_same(quirks: Quirks, path: tuple[str, ...],
                                                              value: Any) -> None:
    base = {k: v for k, v in MODERN.items() if not (quirks is HPE and k in ("ReadingType", "ReadingUnits"))}
    warm = read._sensor(base, "1", quirks)
    assert read._sensor(copy.deepcopy(base), "1", quirks) is warm
    doc = _flipped(base, path, value)
    assert repr(read._sensor(doc, "1", quirks)) == repr(read._build_sensor(doc, "1", quirks))
    assert read._sensor(doc, "1", Quirks()) == read._build_sensor(doc, "1", Quirks())  # vendor is in the key


def test_a_document_without_json_text_is_parsed_not_kept() -> None:
    doc = _flipped(LEGACY, ("UpperThresholdFatal",), 2 ** 70)  # past orjson's 64 bits: no fingerprint
    assert repr(_memo_legacy(doc)) == repr(_fresh_legacy(doc))
    assert len(read.SENSORS) == 0


@pytest.mark.parametrize("quirks", [Quirks(), HPE, LENOVO], ids=["generic", "hpe", "lenovo"])
@pytest.mark.parametrize(("member", "value"), [("Oem", {"Hpe": {"@odata.type": "#HpeSeaOfSensors.v1_0_0.X"}}),
                                               ("Oem", {"Vendor": {"Note": "x"}}), ("RelatedItem", []),
                                               ("Description", "inlet"), ("SensingInterval", "PT1S")])
def test_any_member_a_vendor_hook_may_read_is_in_the_key(quirks: Quirks, member: str, value: Any) -> None:
    """The key is the whole document: a member no built-in input names (what a vendor hook reads,
    HPE's Oem.Hpe sea of sensors) still makes a different key, never another document's sensor."""
    base = {k: v for k, v in MODERN.items() if k not in ("ReadingType", "ReadingUnits")}
    warm = read._sensor(base, "1", quirks)
    doc = {**copy.deepcopy(base), member: value}
    assert repr(read._sensor(doc, "1", quirks)) == repr(read._build_sensor(doc, "1", quirks))
    assert read._sensor(copy.deepcopy(base), "1", quirks) is warm


def test_members_in_another_order_are_a_miss_not_a_wrong_hit() -> None:
    warm = _memo_legacy(LEGACY)
    reordered = dict(reversed(list(copy.deepcopy(LEGACY).items())))
    assert repr(_memo_legacy(reordered)) == repr(warm)
    assert len(read.SENSORS) == 2


def test_the_memo_is_bounded() -> None:
    memo: Memo[str] = Memo(limit=3)
    for i in range(10):
        memo.store(i, str(i))
        assert len(memo) <= 3
    assert memo.lookup(9) == "9" and memo.lookup(0) is None


@pytest.mark.parametrize("state", ["cold", "warm", "off"])
def test_golden_table_reads_the_same_whatever_the_memo_holds(state: str, monkeypatch: pytest.MonkeyPatch) -> None:
    table, all_cases = expected(), dict(cases())
    if state == "warm":
        for run in all_cases.values():
            run()
    if state == "off":
        monkeypatch.setattr(read, "_memo_key", lambda head, values: None)
    for name, run in all_cases.items():
        assert run() == table[name], name
    if state == "warm":
        assert read.SENSORS.hits > 0
