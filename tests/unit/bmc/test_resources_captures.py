"""Every capture in tests/fixtures/redfish parses, and the counts match the capture.

The expected counts were computed by hand from the capture files (jq and a throwaway script that
walks the files, written separately from dcops), with these rules, which docs/bmc.md states too:

* the host system: the only one, or the one the evidence names where there are several
  (ManagerForServers, #ComputerSystem.Reset, Boot; not a GPU baseboard or DPU); a companion
  system's (baseboard, DPU) CPUs and memory are not host CPUs/DIMMs.
* CPUs: the host's Processors members with ProcessorType CPU (or none), not Absent; GPUs/FPGAs
  are separate.
* DIMMs: the host's Memory members not Absent and not HBM/GDDR/GPU memory.
* drives: distinct physical drives linked from Storage or Chassis (Links.Drives, Drives
  collection, every page): one per URI and per serial, readable and not Absent.
* PSUs/fans/drives/sensors of chassis that belong to another host (a blade's other node) are not
  counted; error bodies (a document whose top level is ``error``) are no resource.
* host serial: the host system's SerialNumber, else its enclosure chassis' (GB200 ``Chassis_0``).
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

# name: (cpus, dimms, drives, psus, fans, temperature sensors, firmware entries, vendor, host serial)
# Services with several systems count the host's (see docs/bmc.md, "Which system is the server"):
# dmtf-public-bladed -> 529QB9450R6 (Blade1, with the enclosure's PSUs and fans), hpe-cray-ex425
# -> Node0 (its Node1 chassis left out), nvidia-gb200-nvl -> System_0 (HGX_Baseboard_0 is a
# companion: its GPUs join, its Grace CPUs and LPDDR5 are System_0's, merged by serial),
# dmtf-public-smartnic -> 437XR1138R2 (the DPU's SoC and DRAM are not host CPUs/DIMMs).
EXPECTED = {
    "dell-poweredge-r750-idrac9-6.00": (2, 16, 3, 2, 6, 6, 29, "dell", "CNIVC0014M0388"),
    "gigabyte-h262-z63-ami": (2, 16, 1, 2, 0, 17, 3, "generic", "GJG9NF512A000302"),
    "hpe-cray-ex425": (2, 16, 0, 0, 0, 29, 11, "hpe", "HA19340017"),
    "hpe-proliant-dl360-gen10plus-ilo5-3.11": (2, 12, 2, 2, 7, 38, 23, "hpe", "MXQ2390RHW"),
    "hpe-proliant-dl380a-gen11-ilo6-1.66": (2, 16, 7, 4, 6, 29, 34, "hpe", "2M2D2J00L4"),
    "huawei-2288h-v5-ibmc-3.12-partial": (0, 0, 10, 0, 0, 0, 0, "huawei", "2102311TYBN0J3000293"),
    "lenovo-thinksystem-sr670v2-xcc-2.83": (2, 16, 4, 4, 10, 18, 43, "lenovo", "J105958B"),
    "nvidia-gb200-nvl": (2, 2, 9, 0, 0, 35, 30, "generic", "1333024020524"),
    "supermicro-sys-821ge-tnhr-x13": (2, 32, 8, 8, 6, 36, 106, "supermicro", "S889914X3710910"),
    "dmtf-public-bladed": (1, 0, 0, 2, 5, 2, 0, "generic", "529QB9450R6"),
    "dmtf-public-liquid-cooled-server": (1, 3, 0, 1, 2, 8, 3, "generic", "437XR1138R2"),
    "dmtf-public-localstorage": (1, 3, 4, 1, 2, 3, 0, "generic", "437XR1138R2"),
    "dmtf-public-rackmount1": (1, 3, 0, 1, 4, 8, 3, "generic", "437XR1138R2"),
    "dmtf-public-smartnic": (1, 3, 1, 1, 5, 8, 0, "generic", "437XR1138R2"),
    "dmtf-public-tower": (8, 8, 10, 2, 4, 7, 2, "generic", "437XR1238R2"),
}


def observe(name: str) -> Observation:
    return run_sync(read_observation(name), fetcher(load(name)))


def test_every_capture_has_a_row() -> None:
    assert sorted(EXPECTED) == CAPTURES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_counts(name: str) -> None:
    obs = observe(name)
    got = (len(obs.of_kind(ComponentKind.CPU)), len(obs.of_kind(ComponentKind.DIMM)),
           len(obs.of_kind(ComponentKind.DRIVE)), len(obs.of_kind(ComponentKind.PSU)),
           len(obs.of_kind(ComponentKind.FAN)), len(obs.sensors_of(SensorKind.TEMPERATURE)),
           len(obs.firmware), obs.identity.vendor, obs.identity.serial)
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_identity_and_json_round_trip(name: str) -> None:
    obs = observe(name)
    assert obs.identity.manufacturer and obs.identity.model
    data = json.loads(json.dumps(obs.to_json()))
    assert Observation.from_json(data) == obs
    # Component identity never depends on list position: it is unique within an observation.
    identities = [c.identity for c in obs.components]
    assert len(identities) == len(set(identities)), [i for i in identities if identities.count(i) > 1][:5]
