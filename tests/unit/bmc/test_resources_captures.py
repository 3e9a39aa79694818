"""Every capture in tests/fixtures/redfish parses, and the counts match the capture.

The expected counts were computed by hand from the capture files (jq and a throwaway script that
walks the files, written separately from dcops), with these rules, which docs/bmc.md states too:

* CPUs: Processors members with ProcessorType CPU (or none), not Absent; GPUs/FPGAs are separate.
* DIMMs: Memory members not Absent.
* drives: distinct Drive URIs linked from Storage or Chassis (Links.Drives, Drives collection),
  readable and not Absent.
* PSUs / fans: per chassis, PowerSubsystem/ThermalSubsystem members when there are any, else
  Power.PowerSupplies / Thermal.Fans; not Absent.
* temperature sensors: per chassis, Sensors members that measure temperature when there are any,
  else Thermal.Temperatures; not Absent.
* firmware: readable FirmwareInventory members.
"""

from __future__ import annotations

import json

import pytest

from dcops.bmc.redfish.resources import read_observation, run_sync
from dcops.observation import ComponentKind, Observation, SensorKind
from tests.unit.bmc.mockups import CAPTURES, fetcher, load

# name: (cpus, dimms, drives, psus, fans, temperature sensors, firmware entries, vendor)
EXPECTED = {
    "dell-poweredge-r750-idrac9-6.00": (2, 16, 3, 2, 6, 6, 29, "dell"),
    "gigabyte-h262-z63-ami": (2, 16, 1, 2, 0, 17, 3, "generic"),
    "hpe-proliant-dl360-gen10plus-ilo5-3.11": (2, 12, 2, 2, 7, 38, 23, "hpe"),
    "hpe-proliant-dl380a-gen11-ilo6-1.66": (2, 16, 7, 4, 6, 29, 34, "hpe"),
    "huawei-2288h-v5-ibmc-3.12-partial": (0, 0, 10, 0, 0, 0, 0, "huawei"),
    "lenovo-thinksystem-sr670v2-xcc-2.83": (2, 16, 4, 4, 10, 18, 43, "lenovo"),
    "supermicro-sys-821ge-tnhr-x13": (2, 32, 8, 8, 6, 36, 106, "supermicro"),
    "dmtf-public-bladed": (4, 0, 0, 2, 8, 5, 0, "generic"),
    "dmtf-public-liquid-cooled-server": (1, 3, 0, 1, 2, 8, 3, "generic"),
    "dmtf-public-localstorage": (1, 3, 4, 1, 2, 3, 0, "generic"),
    "dmtf-public-rackmount1": (1, 3, 0, 1, 4, 8, 3, "generic"),
    "dmtf-public-smartnic": (2, 5, 1, 1, 5, 8, 0, "generic"),
    "dmtf-public-tower": (8, 8, 10, 2, 4, 7, 2, "generic"),
}


def observe(name: str) -> Observation:
    return run_sync(read_observation(name), fetcher(load(name)))


def test_every_capture_has_a_row() -> None:
    assert sorted(EXPECTED) == CAPTURES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_counts(name: str) -> None:
    cpus, dimms, drives, psus, fans, temps, fw, vendor = EXPECTED[name]
    obs = observe(name)
    got = (len(obs.of_kind(ComponentKind.CPU)), len(obs.of_kind(ComponentKind.DIMM)),
           len(obs.of_kind(ComponentKind.DRIVE)), len(obs.of_kind(ComponentKind.PSU)),
           len(obs.of_kind(ComponentKind.FAN)), len(obs.sensors_of(SensorKind.TEMPERATURE)),
           len(obs.firmware), obs.identity.vendor)
    assert got == (cpus, dimms, drives, psus, fans, temps, fw, vendor)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_identity_and_json_round_trip(name: str) -> None:
    obs = observe(name)
    assert obs.identity.manufacturer and obs.identity.model
    data = json.loads(json.dumps(obs.to_json()))
    assert Observation.from_json(data) == obs
    # Component identity never depends on list position: it is unique within an observation.
    identities = [c.identity for c in obs.components]
    assert len(identities) == len(set(identities)), [i for i in identities if identities.count(i) > 1][:5]
