"""LLDP from the BMC: the HPE iLO 6 capture's Port (nothing heard: NotTransmitted) and hand-made
ones with a neighbour; which switch port the network step changes, from the book and LLDP."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest

from dcops.baseline.models import SwitchPort
from dcops.bmc.redfish.ports import LldpNeighbour, neighbour
from dcops.errors import ApplyError
from dcops.provision.switchport import decide
from tests.unit.bmc.mockups import load

ILO6 = "hpe-proliant-dl380a-gen11-ilo6-1.66"
PORT = "/redfish/v1/chassis/1/networkadapters/de081000/ports/0"


def _heard(**recv: Any) -> dict[str, Any]:
    doc = copy.deepcopy(load(ILO6)[PORT])
    doc["Ethernet"]["LLDPReceive"].update(recv)
    return doc


def test_the_capture_heard_nothing() -> None:
    assert neighbour(load(ILO6)[PORT]) is None


PARSE: list[tuple[dict[str, Any], Any]] = [
    (_heard(ChassisId="44:4C:A8:00:00:01", ChassisIdSubtype="MacAddr", PortId="Ethernet7", PortIdSubtype="IfName",
            SystemName="leaf-a01.example.net"), ("leaf-a01.example.net", "Ethernet7")),
    # a port id that is a MAC names no interface a playbook could address
    (_heard(ChassisId="44:4C:A8:00:00:01", ChassisIdSubtype="MacAddr", PortId="44:4C:A8:00:00:07",
            PortIdSubtype="MacAddr", SystemName="leaf-a01"), ("leaf-a01", None)),
    ({"Id": "1", "Ethernet": {"LLDPReceive": {}}}, None),
    ({"Id": "1", "Ethernet": None}, None),
    ({"Id": "1"}, None),
]


@pytest.mark.parametrize(("doc", "want"), PARSE)
def test_lldp_receive_is_read(doc: dict[str, Any], want: Any) -> None:
    got = neighbour(doc)
    if want is None:
        assert got is None
    else:
        assert got is not None and (got.switch, got.port) == want
        assert got.host_macs == ("58:A2:E1:03:96:F2",)


SWITCHES = {"leaf-a01": SimpleNamespace(), "leaf-a02": SimpleNamespace()}


def _n(switch: str | None, port: str | None) -> LldpNeighbour:
    return LldpNeighbour(switch, port, None, port, "IfName", (), "/p")


DECIDE: list[tuple[SwitchPort | None, list[LldpNeighbour], Any]] = [
    # (the book, what LLDP sees, (port, source) or the error)
    (SwitchPort("leaf-a01", "Ethernet1", 120), [], ("Ethernet1", "book")),
    (SwitchPort("leaf-a01", "Ethernet1", 120), [_n("leaf-a01.example.net", "ethernet1")],
     ("Ethernet1", "book (confirmed by LLDP)")),
    (SwitchPort("leaf-a01", "Ethernet1", 120), [_n("leaf-a01", "Ethernet9")], "the cabling differs from the book"),
    (SwitchPort("leaf-a01", "Ethernet1", 120), [_n("oob-sw", "Gi0/1")], ("Ethernet1", "book")),  # not in the book
    (None, [_n("leaf-a02", "Ethernet3")], ("Ethernet3", "lldp")),
    (None, [_n("leaf-a02", "Ethernet3"), _n("leaf-a02", "Ethernet3")], ("Ethernet3", "lldp")),  # same port twice
    (None, [_n("leaf-a01", "Ethernet3"), _n("leaf-a02", "Ethernet3")], "several switch ports"),  # two uplinks
    (None, [_n("leaf-a01", None)], (None, "none")),  # a port id that names nothing
    (None, [], (None, "none")),
]


@pytest.mark.parametrize(("book", "seen", "want"), DECIDE)
def test_which_switch_port_is_changed(book: SwitchPort | None, seen: list[LldpNeighbour], want: Any) -> None:
    if isinstance(want, str):
        with pytest.raises(ApplyError, match=want):
            decide("h1", book, seen, SWITCHES)
        return
    got = decide("h1", book, seen, SWITCHES)
    assert (got.port.port if got.port else None, got.source) == want
