"""The rack PDU reader (dcops.pdu.redfish) against the simulator's Redfish rack PDU (dcops.sim.pdu)
on loopback: power on, rack power lost, dark with its management switch, a wrong password, and a
PDU answering nonsense. Every failure is a reading with its reason, never an exception."""

from __future__ import annotations

import asyncio
import os
from types import SimpleNamespace
from typing import Any

import pytest

from dcops.models import Pdu, PduReading
from dcops.pdu.redfish import read_pdu, read_pdus
from dcops.sim.pdu import SimPdu
from dcops.sim.state import Credentials

HOSTS = ["h1", "h2", "h3"]


def _bmc(name: str, power: str = "On", *down: str) -> Any:
    return SimpleNamespace(name=name, power=power, net=SimpleNamespace(down=set(down)))


FULL = (("h1", ("A1",)), ("h2", ("A2",)), ("h3", ("A3",)))


async def _read(bmcs: list[Any], *, network: str = "separate", password: str = "pw",
                outlets: tuple[tuple[str, tuple[str, ...]], ...] = FULL) -> PduReading:
    sim = SimPdu("A01", HOSTS, lambda: bmcs, Credentials("admin", "pw"), network)
    port = await sim.start("127.0.0.1")
    try:
        pdu = Pdu("pdu-a01", "127.0.0.1", port=port, scheme="http", username="admin", password=f"env:PDU_PW_{id(sim)}",
                  outlets=outlets)
        os.environ[f"PDU_PW_{id(sim)}"] = password
        try:
            return await read_pdu(pdu, timeout=5.0)
        finally:
            del os.environ[f"PDU_PW_{id(sim)}"]
    finally:
        sim.close()


@pytest.mark.parametrize(("what", "bmcs", "network", "password", "expect"), [
    ("power on, one host off", [_bmc("h1"), _bmc("h2", "Off")], "separate", "pw",
     {"reachable": True, "mains": (("AC1", "On", 230.0),),
      "outlet_states": (("A1", "On", 350.0), ("A2", "On", 8.0), ("A3", "On", 350.0))}),
    ("rack power lost", [_bmc(h, "Off", "rack") for h in HOSTS], "separate", "pw",
     {"reachable": True, "mains": (("AC1", "Off", 0.0),),
      "outlet_states": (("A1", "Off", 0.0), ("A2", "Off", 0.0), ("A3", "Off", 0.0))}),
    ("management switch dead, PDU on its own path", [_bmc(h, "On", "fault") for h in HOSTS], "separate", "pw",
     {"reachable": True, "mains": (("AC1", "On", 230.0),)}),
    ("management switch dead, PDU behind it", [_bmc(h, "On", "switch") for h in HOSTS], "mgmt", "pw",
     {"reachable": False}),
    ("one BMC dark, PDU behind the live switch", [_bmc("h1", "On", "fault"), _bmc("h2"), _bmc("h3")], "mgmt", "pw",
     {"reachable": True}),
    ("the book maps one outlet: only it is read", [_bmc("h1")], "outlets:h1", "pw",
     {"reachable": True, "outlet_states": (("A1", "On", 350.0),)}),
    ("wrong password", [], "separate", "not-it", {"reachable": False, "error": "GET /redfish/v1/PowerEquipment/"
                                                                              "RackPDUs: HTTP 401"}),
])
def test_read_sim_pdu(what: str, bmcs: list[Any], network: str, password: str, expect: dict[str, Any]) -> None:
    outlets = FULL
    if network.startswith("outlets:"):
        outlets, network = ((network.split(":", 1)[1], ("A1",)),), "separate"
    found = asyncio.run(_read(bmcs, network=network, password=password, outlets=outlets))
    for key, value in expect.items():
        assert getattr(found, key) == value, (what, found)
    if not found.reachable:
        assert found.error and "pw" not in found.error.replace("PowerEquipment", "")


async def _nonsense() -> list[PduReading]:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"Membe")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        return await read_pdus([Pdu("liar", "127.0.0.1", port=port, scheme="http"),
                                Pdu("gone", "127.0.0.1", port=1, scheme="http")], timeout=5.0)
    finally:
        server.close()


def test_a_lying_or_dead_pdu_is_a_reading_with_its_reason() -> None:
    liar, gone = asyncio.run(_nonsense())
    assert (liar.reachable, liar.error) == (False, "GET /redfish/v1/PowerEquipment/RackPDUs: malformed response "
                                                   "(truncated JSON (the body ends mid-document))")
    assert not gone.reachable and gone.error
