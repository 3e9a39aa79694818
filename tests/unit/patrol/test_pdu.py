"""PDU evidence for a dark rack (patrol.pdu, patrol.racks): a table of readings -> verdict, and the
rack's event with the PDU's word next to the other evidence (in-band probes, hosts gone off)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dcops.models import Pdu, PduReading
from dcops.patrol import pdu as evidence
from dcops.patrol.checks import check_host
from dcops.patrol.model import HostMemory, Policy
from dcops.patrol.racks import CAUSE_NETWORK, CAUSE_POWER, CAUSE_UNKNOWN, check_rack

DARK = ("h1", "h2", "h3", "h4")
ON = ("On", 230.0)
LOST = ("Off", 0.0)


def reading(name: str = "pdu-a", *, mains: tuple[Any, ...] | None = ON, outlets: dict[str, str | None] | None = None,
            feeds: dict[str, tuple[str, ...]] | None = None, reachable: bool = True) -> PduReading:
    """A PDU reading: ``outlets`` outlet id -> PowerState; ``feeds`` host -> outlet ids (the book)."""
    if feeds is None:
        feeds = {h: (f"A{n + 1}",) for n, h in enumerate(DARK)}
    if outlets is None:
        outlets = {o: "On" for ids in feeds.values() for o in ids}
    pdu = Pdu(name, "192.0.2.40", rack="dc1/r1/A01", outlets=tuple(feeds.items()))
    if not reachable:
        return PduReading(pdu, False, "connection refused")
    return PduReading(pdu, True, mains=(("AC1", *mains),) if mains else (),
                      outlet_states=tuple((o, s, None) for o, s in outlets.items()))


def off(*ids: str) -> dict[str, str | None]:
    return {f"A{n}": ("Off" if f"A{n}" in ids else "On") for n in range(1, 5)}


CASES = [
    # (what, readings, cause, deciders, unreachable)
    ("no PDU in the book", [], None, (), ()),
    ("mains present, outlets on", [reading()], evidence.POWERED, ("pdu-a",), ()),
    ("mains lost", [reading(mains=LOST)], evidence.POWER, ("pdu-a",), ()),
    ("mains 'On' at 0 V is lost", [reading(mains=("On", 0.0))], evidence.POWER, ("pdu-a",), ()),
    ("mains present, the dark hosts' outlets off", [reading(outlets=off("A1", "A2", "A3", "A4"))],
     evidence.POWER, ("pdu-a",), ()),
    ("one outlet of four off: the others are powered", [reading(outlets=off("A1"))], evidence.POWERED,
     ("pdu-a",), ()),
    ("unreachable: no evidence", [reading(reachable=False)], None, (), ("pdu-a",)),
    ("A feed lost, B feed on: powered by B",
     [reading("pdu-a", mains=LOST), reading("pdu-b")], evidence.POWERED, ("pdu-b",), ()),
    ("A and B feeds lost", [reading("pdu-a", mains=LOST), reading("pdu-b", mains=LOST)], evidence.POWER,
     ("pdu-a", "pdu-b"), ()),
    ("A feed lost, B feed unreachable: B may carry them", [reading("pdu-a", mains=LOST),
                                                           reading("pdu-b", reachable=False)], None, (), ("pdu-b",)),
    ("A feed unreachable, B says on", [reading("pdu-a", reachable=False), reading("pdu-b")], evidence.POWERED,
     ("pdu-b",), ("pdu-a",)),
    ("no outlet map, mains lost: the whole rack", [reading(feeds={}, outlets={}, mains=LOST)], evidence.POWER,
     ("pdu-a",), ()),
    ("no outlet map, every outlet off", [reading(feeds={}, outlets={"A1": "Off", "A2": "Off"})], evidence.POWER,
     ("pdu-a",), ()),
    ("no outlet map, mains on", [reading(feeds={}, outlets={})], evidence.POWERED, ("pdu-a",), ()),
    ("the PDU feeds none of the dark hosts", [reading(feeds={"other": ("A9",)})], None, (), ()),
    ("no mains listed, outlets unknown", [reading(mains=None, outlets={})], None, (), ()),
]


@pytest.mark.parametrize(("what", "readings", "cause", "deciders", "unreachable"), CASES, ids=[c[0] for c in CASES])
def test_judge(what: str, readings: list[PduReading], cause: str | None, deciders: tuple[str, ...],
               unreachable: tuple[str, ...]) -> None:
    verdict = evidence.judge(readings, DARK)
    assert verdict.cause == cause, verdict.decided_by
    assert verdict.pdus == deciders
    assert verdict.unreachable == unreachable
    for name in deciders:
        assert f"PDU {name}" in verdict.decided_by or name in verdict.decided_by


NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _dark(name: str, inband: bool | None = None) -> Any:
    return check_host(name, None, HostMemory(), NOW, Policy(), error="connection refused", inband=inband,
                      location={"site": "dc1", "room": "r1", "rack": "A01"})


RACK_CASES = [
    # (what, readings, in-band answer of the dark hosts, cause, condition, decided_by contains)
    ("PDU: mains lost", [reading(mains=LOST)], None, CAUSE_POWER, "rack_power_loss", "decided by PDU pdu-a"),
    ("PDU: power on", [reading()], None, CAUSE_NETWORK, "rack_unreachable", "decided by PDU pdu-a"),
    ("PDU unreachable, nothing else", [reading(reachable=False)], None, CAUSE_UNKNOWN, "rack_unreachable",
     "PDU pdu-a unreachable"),
    ("PDU unreachable, hosts answer in-band", [reading(reachable=False)], True, CAUSE_NETWORK, "rack_unreachable",
     "in-band"),
    ("PDU says lost, even though a host answers in-band", [reading(mains=LOST)], True, CAUSE_POWER,
     "rack_power_loss", "decided by PDU"),
    ("no PDU, hosts silent in-band", [], False, CAUSE_POWER, "rack_power_loss", "in-band"),
]


@pytest.mark.parametrize(("what", "readings", "inband", "cause", "condition", "decided"), RACK_CASES,
                         ids=[c[0] for c in RACK_CASES])
def test_rack_event(what: str, readings: list[PduReading], inband: bool | None, cause: str, condition: str,
                    decided: str) -> None:
    members = [_dark(h, inband) for h in DARK]
    event = check_rack("dc1/r1/A01", members, Policy(), None, readings)
    assert event is not None
    assert event.diagnosis["cause"] == cause
    assert event.condition.value == condition
    assert decided in event.diagnosis["decided_by"], event.diagnosis["decided_by"]
    if readings:
        assert event.diagnosis["pdu_evidence"]
