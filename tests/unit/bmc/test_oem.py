"""Each vendor quirk, against the capture of that vendor (tests/fixtures/redfish)."""

from __future__ import annotations

import pytest

from dcops.bmc.redfish import oem
from dcops.bmc.redfish.resources import normalize, read_observation, run_sync
from dcops.observation import ComponentKind, Observation, SensorKind, clean_serial
from tests.unit.bmc.mockups import fetcher, load


def observe(name: str) -> Observation:
    return run_sync(read_observation(name), fetcher(load(name)))


def test_dell_service_tag_fqdd_locations_and_firmware_states() -> None:
    obs = observe("dell-poweredge-r750-idrac9-6.00")
    assert obs.identity.vendor == "dell"
    assert obs.identity.sku == "F54P1G3" and obs.identity.serial == "CNIVC0014M0388"
    assert "DIMM.Socket.A1" in {c.location for c in obs.of_kind(ComponentKind.DIMM)}
    assert {"Installed", "Previous", "Current"} <= {f.state for f in obs.firmware}
    assert obs.log_entries and obs.log_entries[0].log == "Sel"


def test_hpe_case_and_slash_insensitive_links() -> None:
    assert normalize("/redfish/v1/systems/1/") == normalize("/redfish/v1/Systems/1") == "/redfish/v1/systems/1"
    assert normalize("https://10.0.0.1/redfish/v1/Chassis/1#/Fans/0") == "/redfish/v1/chassis/1"


def test_hpe_sensors_without_reading_type_are_temperatures() -> None:
    obs = observe("hpe-proliant-dl380a-gen11-ilo6-1.66")
    temps = obs.sensors_of(SensorKind.TEMPERATURE)
    assert len(temps) == 29 and all(t.units == "Cel" for t in temps)
    assert all(t.source and "/Sensors/" in t.source for t in temps)  # the new model won over Thermal
    assert oem.by_name("hpe").eject_body() == {}
    assert obs.log_entries[0].log == "IML"


def test_lenovo_sensor_types() -> None:
    obs = observe("lenovo-thinksystem-sr670v2-xcc-2.83")
    by_name = {s.name: s for s in obs.sensors}
    assert by_name["PCIe 9 OverTemp"].kind is SensorKind.DISCRETE
    assert by_name["CPU 1 Temp"].kind is SensorKind.TEMPERATURE and by_name["CPU 1 Temp"].units == "Cel"
    assert obs.sensors_of(SensorKind.POWER) and all(s.units == "W" for s in obs.sensors_of(SensorKind.POWER))
    assert len([s for s in obs.sensors_of(SensorKind.FAN) if s.units == "RPM"]) == 10


def test_supermicro_media_and_inlined_logs() -> None:
    quirks = oem.by_name("supermicro")
    assert not quirks.insert_media_full()
    slots = [{"Id": "Floppy1", "MediaTypes": ["Floppy"]}, {"Id": "UsbCd", "MediaTypes": []}]
    assert quirks.prefer_media(slots)[0]["Id"] == "UsbCd"
    obs = observe("supermicro-sys-821ge-tnhr-x13")
    assert len(obs.log_entries) == 20  # inlined Entries members, no member URIs


def test_huawei_partial_tree() -> None:
    obs = observe("huawei-2288h-v5-ibmc-3.12-partial")
    assert obs.identity.vendor == "huawei" and obs.identity.serial == "2102311TYBN0J3000293"
    drives = obs.of_kind(ComponentKind.DRIVE)
    assert len(drives) == 10 and {d.serial for d in drives} >= {"38DGK77LF77D", "0BHDNMDH"}
    assert len(obs.of_kind(ComponentKind.VOLUME)) == 2
    reasons = {e.what for e in obs.errors}
    assert "systems" in reasons and "processors" in reasons  # recorded, not fatal


def test_ami_gigabyte_junk_names_and_serials() -> None:
    obs = observe("gigabyte-h262-z63-ami")
    [chassis] = obs.of_kind(ComponentKind.CHASSIS)
    assert chassis.serial is None and chassis.raw_serial == "01234567890123456789AB"
    assert obs.identity.sku is None
    assert len({p.identity for p in obs.of_kind(ComponentKind.PSU)}) == 2


@pytest.mark.parametrize(("raw", "clean"), [
    ("0123456789", None), ("Default string", None), ("To be filled by O.E.M.", None), ("  ", None),
    ("000000000000", None), ("FFFFFFFF", None), (None, None), (" CN123 ", "CN123"), ("J105958B", "J105958B"),
])
def test_junk_serials(raw: str | None, clean: str | None) -> None:
    assert clean_serial(raw) == clean


@pytest.mark.parametrize(("manufacturer", "vendor"), [
    ("Dell Inc.", "dell"), ("HPE", "hpe"), ("Hewlett Packard Enterprise", "hpe"), ("Lenovo", "lenovo"),
    ("Supermicro", "supermicro"), ("Huawei", "huawei"), ("Inspur", "inspur"), ("New H3C Technologies", "h3c"),
    ("Contoso", "generic"), ("GIGABYTE", "generic"),
])
def test_vendor_detection(manufacturer: str, vendor: str) -> None:
    assert oem.detect({}, {"Manufacturer": manufacturer}).name == vendor
