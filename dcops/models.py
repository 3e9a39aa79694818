"""Frozen data shared by every part of dcops.

Only plain data lives here: no I/O, no third-party imports. Later capabilities add their own
models (observations, incidents, plans) next to these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Protocol(StrEnum):
    """How dcops talks to a BMC."""

    REDFISH = "redfish"
    IPMI = "ipmi"
    AUTO = "auto"  # Redfish, falling back to IPMI for power/boot/sensors


@dataclass(frozen=True)
class SourceRef:
    """Where a record was defined: the file and 1-based line (0 = unknown)."""

    file: str = ""
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class BmcEndpoint:
    """How to reach one BMC. ``password_ref`` is a reference (``env:NAME``, ``file:PATH``,
    ``prompt``) resolved by ``dcops.secrets``; the password itself is never stored here."""

    address: str
    port: int | None = None  # the web (Redfish) port; for protocol ipmi, the IPMI port
    protocol: Protocol = Protocol.AUTO
    ipmi_port: int | None = None  # IPMI (RMCP+) port when it is not 623, e.g. for auto's fallback
    scheme: str = "https"  # "http" only for simulators and labs
    username: str = ""
    password_ref: str = ""
    verify_tls: bool = True
    ca_bundle: str | None = None
    # The Redfish ComputerSystem Id that is this host, where the BMC serves several (a multi-node
    # blade's Node1, a tray whose GPU baseboard is a system too); None: chosen by evidence.
    system: str | None = None

    def url(self) -> str:
        """Base URL of the BMC's web service, e.g. ``https://10.0.0.5`` or ``http://127.0.0.1:8001``."""
        scheme = self.scheme
        host = f"[{self.address}]" if ":" in self.address else self.address
        default = 443 if scheme == "https" else 80
        port = self.port or default
        return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class AssetRecord:
    """What the book says about a server as an asset."""

    serial: str | None = None
    asset_tag: str | None = None
    purchase_date: dt.date | None = None
    warranty_end: dt.date | None = None
    contract: str | None = None
    supplier: str | None = None
    service_provider: str | None = None
    use: str | None = None
    notes: str | None = None

    def warranty_days_left(self, today: dt.date) -> int | None:
        """Days until the warranty ends (negative once expired), None when unknown."""
        return None if self.warranty_end is None else (self.warranty_end - today).days


@dataclass(frozen=True)
class Location:
    """Where a server stands. ``u`` is the lowest rack unit it occupies, ``u_height`` how many."""

    site: str | None = None
    room: str | None = None
    rack: str | None = None
    u: int | None = None
    u_height: int = 1

    def units(self) -> range:
        """The rack units this server occupies (empty when its position is unknown)."""
        return range(self.u, self.u + self.u_height) if self.u is not None else range(0)

    def __str__(self) -> str:
        parts = [p for p in (self.site, self.room, self.rack) if p]
        text = "/".join(parts)
        if self.u is not None:
            text += f" U{self.u}" if self.u_height == 1 else f" U{self.u}-{self.u + self.u_height - 1}"
        return text


@dataclass(frozen=True)
class InbandEndpoint:
    """The host's own (in-band, operating system) address and a TCP port that answers while the
    host runs (ssh, an agent): when its BMC is dark, this tells a running host from a dead one."""

    address: str
    port: int | None = None  # None: patrol's configured probe port


@dataclass(frozen=True)
class NetworkEndpoint:
    """The host's address on one of its networks (``mgmt``, ``biz-a``, ``storage``...), probed by
    the heartbeat (``dcops.heartbeat``). ``switch`` names the switch/VLAN the address hangs off when
    it is not simply the rack's top-of-rack switch: hosts sharing it converge into one incident."""

    address: str
    port: int | None = None  # None: the heartbeat's configured port for this network
    switch: str | None = None


@dataclass(frozen=True)
class Pdu:
    """A rack PDU as the book names it (a rack's ``pdus:``): read over Redfish
    (``PowerEquipment/RackPDUs``) by patrol when the rack's BMCs go dark, as evidence of a power
    loss (mains lost, outlets off) or against one (mains present, outlets on). In NetBox terms:
    the PDU device, its power outlets, and which device power ports are cabled to them."""

    name: str
    address: str
    rack: str = ""  # the rack path (site/room/rack) it stands in
    port: int | None = None
    scheme: str = "https"
    protocol: str = "redfish"
    username: str | None = None
    password: str | None = None  # a secret reference (env:, file:, ...), never the value
    verify_tls: bool = True
    member: str | None = None  # the RackPDUs member id; None: the first one listed
    # host -> the outlet ids (Redfish Outlet Id: "A1") that feed it, as (host, outlets) pairs.
    outlets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    source: SourceRef = field(default_factory=SourceRef)

    @property
    def url(self) -> str:
        port = f":{self.port}" if self.port else ""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}{port}"

    def feeds(self) -> dict[str, tuple[str, ...]]:
        return dict(self.outlets)


@dataclass(frozen=True)
class PduReading:
    """What one rack PDU said this round (or that it said nothing): produced by the PDU adapter
    (``dcops.pdu.redfish``), judged by ``patrol.pdu``. ``mains``: circuit id -> (PowerState,
    volts or None); ``outlet_states``: outlet id -> (PowerState, watts or None)."""

    pdu: Pdu
    reachable: bool
    error: str | None = None
    mains: tuple[tuple[str, str | None, float | None], ...] = ()
    outlet_states: tuple[tuple[str, str | None, float | None], ...] = ()


@dataclass(frozen=True)
class Host:
    """One server as the book knows it."""

    name: str
    bmc: BmcEndpoint
    location: Location = field(default_factory=Location)
    vendor: str | None = None
    model: str | None = None
    profile: str | None = None
    az: str | None = None
    role: str | None = None
    tags: tuple[str, ...] = ()
    asset: AssetRecord = field(default_factory=AssetRecord)
    source: SourceRef = field(default_factory=SourceRef)
    inband: InbandEndpoint | None = None
    # (network name, address) pairs in the book's order: a tuple, so a Host stays hashable.
    networks: tuple[tuple[str, NetworkEndpoint], ...] = ()
    # The rack PDUs that feed the host (its rack's ``pdus:`` naming it, or all of them when they
    # list no outlets): patrol reads them when the rack goes dark.
    pdus: tuple[Pdu, ...] = ()
