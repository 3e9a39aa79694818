"""LLDP data the BMC reports for the host's NIC ports (pure: documents in, neighbours out).

Redfish ``Port`` (v1_4+) carries ``Ethernet.LLDPReceive``: what the switch across the link sent
(chassis id, port id, system name). HPE iLO 6 1.66 publishes it under
``Chassis/1/NetworkAdapters/<id>/Ports/<n>`` (capture hpe-proliant-dl380a-gen11-ilo6-1.66; with
``ChassisIdSubtype``/``PortIdSubtype`` ``NotTransmitted`` and empty strings when nothing was
heard). Supermicro X13's ``Managers/1/Oem/Supermicro/LLDP`` is the BMC's own port, not the
host's, and is not read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Port id subtypes that name an interface a switch playbook can address (IEEE 802.1AB 8.5.3).
_NAMED_PORT = frozenset({"IfName", "IfAlias", "LocalAssign", "PortComp"})


@dataclass(frozen=True)
class LldpNeighbour:
    switch: str | None  # the switch's SystemName
    port: str | None  # its port, when the port id names an interface
    chassis_id: str | None
    port_id: str | None
    port_id_subtype: str | None
    host_macs: tuple[str, ...]  # the host port's MAC addresses
    uri: str  # the Port document

    def describe(self) -> str:
        return f"{self.switch or self.chassis_id or '?'} port {self.port or self.port_id or '?'}"


def _text(doc: Any, key: str) -> str | None:
    value = doc.get(key) if isinstance(doc, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def neighbour(port: dict[str, Any]) -> LldpNeighbour | None:
    """The LLDP neighbour of one Port document; None when nothing was received."""
    raw_eth = port.get("Ethernet")
    eth: dict[str, Any] = raw_eth if isinstance(raw_eth, dict) else {}
    raw_recv = eth.get("LLDPReceive")
    recv: dict[str, Any] | None = raw_recv if isinstance(raw_recv, dict) else None
    if not recv:
        return None
    chassis, port_id = _text(recv, "ChassisId"), _text(recv, "PortId")
    system = _text(recv, "SystemName")
    if recv.get("ChassisIdSubtype") == "NotTransmitted":
        chassis = None
    subtype = _text(recv, "PortIdSubtype")
    if subtype == "NotTransmitted":
        port_id = None
    if not (chassis or port_id or system):
        return None
    macs = tuple(str(m).upper() for m in eth.get("AssociatedMACAddresses") or [] if isinstance(m, str))
    return LldpNeighbour(system, port_id if subtype in _NAMED_PORT else None, chassis, port_id, subtype, macs,
                         str(port.get("@odata.id") or ""))
