"""Simulated rack PDUs: one per rack, served over Redfish on its own loopback port.

The tree follows the DMTF public-rackpdu mockup layout (``PowerEquipment/RackPDUs/1`` with a
``Mains`` circuit collection and an ``Outlets`` collection; schemas PowerDistribution, Circuit,
Outlet). Host N of the rack (in U order) is plugged into outlet ``A<N>``.

What the PDU reports follows the rack's hosts (``dcops.sim.state.Bmc``):

* rack power loss (fault ``rack_power_loss``): mains ``PowerState`` Off at 0 V, every outlet Off
  at 0 W; the PDU's controller still answers (as on a PDU whose controller is fed from the other
  input, or whose branch breaker tripped downstream of it);
* otherwise mains On at 230 V; an outlet is On, drawing ~350 W while its host runs, ~8 W
  (standby) while it is off;
* ``network="mgmt"`` (``dcops sim up --pdus mgmt``): the PDU hangs off the rack's management
  switch, so when every BMC of the rack is cut off by the network (faults ``bmc_unreachable``
  or ``network_down network=mgmt`` on the whole rack), the PDU does not answer either: no
  evidence. ``network="separate"``: it answers through its own path whatever the switch does.

A minimal HTTP/1.1 server (one request a connection, ``Connection: close``): a dead PDU resets
the connection without a byte, as a dead address does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from dcops.sim.state import Bmc, Credentials

ROOT = "/redfish/v1/PowerEquipment/RackPDUs"
PDU_ID = "1"
NETWORKS = ("mgmt", "separate")
NETWORK_REASONS = frozenset({"fault", "switch"})  # BMC down reasons that are the management network


def outlet_id(position: int) -> str:
    return f"A{position + 1}"


class SimPdu:
    """The PDU of one rack: its hosts' BMC states decide what it says."""

    def __init__(self, rack: str, hosts: Sequence[str], bmcs: Callable[[], Sequence[Bmc]], credentials: Credentials,
                 network: str) -> None:
        self.rack = rack
        self.name = f"pdu-{rack.lower()}"
        self.hosts = list(hosts)
        self.bmcs = bmcs  # the rack's BMCs created so far (others were never touched: running)
        self.credentials = credentials
        self.network = network
        self.port = 0
        self.server: asyncio.Server | None = None
        self.requests = 0

    # -------------------------------------------------------------- state
    def power_lost(self) -> bool:
        return any("rack" in b.net.down for b in self.bmcs())

    def reachable(self) -> bool:
        if self.network != "mgmt":
            return True
        bmcs = self.bmcs()
        # The rack's management switch is dead when every BMC of the rack is cut off by it.
        return not (len(bmcs) == len(self.hosts) and bmcs
                    and all(NETWORK_REASONS & b.net.down for b in bmcs))

    def _host_power(self) -> dict[str, str]:
        return {b.name: b.power for b in self.bmcs()}

    # -------------------------------------------------------------- documents
    def document(self, path: str) -> dict[str, Any] | None:
        path = path.split("?", 1)[0].rstrip("/") or "/"
        lost = self.power_lost()
        if path in ("/redfish/v1", "/redfish"):
            return {"@odata.id": "/redfish/v1/", "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
                    "Id": "RootService", "Name": "Root Service", "RedfishVersion": "1.15.0",
                    "PowerEquipment": {"@odata.id": "/redfish/v1/PowerEquipment"}}
        if path == "/redfish/v1/PowerEquipment":
            return {"@odata.id": path, "@odata.type": "#PowerEquipment.v1_1_0.PowerEquipment",
                    "Id": "PowerEquipment", "Name": "DCIM Power Equipment",
                    "Status": {"State": "Enabled", "Health": "OK"}, "RackPDUs": {"@odata.id": ROOT}}
        if path == ROOT:
            return {"@odata.id": ROOT, "@odata.type": "#PowerDistributionCollection.PowerDistributionCollection",
                    "Name": "RackPDU Collection", "Members@odata.count": 1,
                    "Members": [{"@odata.id": f"{ROOT}/{PDU_ID}"}]}
        base = f"{ROOT}/{PDU_ID}"
        if path == base:
            return {"@odata.id": base, "@odata.type": "#PowerDistribution.v1_3_0.PowerDistribution",
                    "Id": PDU_ID, "Name": f"RackPDU {self.name}", "EquipmentType": "RackPDU",
                    "Model": "ZAP4000", "Manufacturer": "Contoso", "SerialNumber": f"SIM-{self.rack}",
                    "FirmwareVersion": "4.3.0", "Location": {"Placement": {"Rack": self.rack}},
                    "Status": {"State": "Enabled", "Health": "Critical" if lost else "OK"},
                    "Mains": {"@odata.id": f"{base}/Mains"}, "Outlets": {"@odata.id": f"{base}/Outlets"}}
        if path == f"{base}/Mains":
            return {"@odata.id": path, "@odata.type": "#CircuitCollection.CircuitCollection",
                    "Name": "Mains Collection", "Members@odata.count": 1,
                    "Members": [{"@odata.id": f"{path}/AC1"}]}
        if path == f"{base}/Mains/AC1":
            return {"@odata.id": path, "@odata.type": "#Circuit.v1_7_0.Circuit", "Id": "AC1",
                    "Name": "Mains Input 1", "CircuitType": "Mains", "PhaseWiringType": "OneOrTwoPhase3Wire",
                    "NominalVoltage": "AC200To240V", "PowerState": "Off" if lost else "On",
                    "Status": {"State": "Enabled", "Health": "Critical" if lost else "OK"},
                    "Voltage": {"DataSourceUri": f"{path}#/Voltage", "Reading": 0.0 if lost else 230.0}}
        if path == f"{base}/Outlets":
            return {"@odata.id": path, "@odata.type": "#OutletCollection.OutletCollection",
                    "Name": "Outlet Collection", "Members@odata.count": len(self.hosts),
                    "Members": [{"@odata.id": f"{path}/{outlet_id(i)}"} for i in range(len(self.hosts))]}
        prefix = f"{base}/Outlets/A"
        if path.startswith(prefix) and path[len(prefix):].isdigit():
            n = int(path[len(prefix):]) - 1
            if not 0 <= n < len(self.hosts):
                return None
            power = self._host_power().get(self.hosts[n], "On")
            watts = 0.0 if lost else (350.0 if power in ("On", "PoweringOff") else 8.0)
            return {"@odata.id": path, "@odata.type": "#Outlet.v1_4_0.Outlet", "Id": outlet_id(n),
                    "Name": f"Outlet {outlet_id(n)} ({self.hosts[n]})", "OutletType": "C19",
                    "PowerState": "Off" if lost else "On",
                    "Status": {"State": "Enabled", "Health": "OK"},
                    "PowerWatts": {"DataSourceUri": f"{path}#/PowerWatts", "Reading": watts}}
        return None

    # -------------------------------------------------------------- HTTP
    def _authorized(self, headers: dict[str, str]) -> bool:
        value = headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.credentials.username and password == self.credentials.password

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        if not self.reachable():
            writer.transport.abort()  # its switch is dead: nothing comes back
            return
        self.requests += 1
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.rsplit(" ", 1)[0]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if not self._authorized(headers):
            status, doc = "401 Unauthorized", {"error": {"code": "Base.1.0.GeneralError",
                                                         "message": "authentication required"}}
        elif method != "GET":
            status, doc = "405 Method Not Allowed", {"error": {"code": "Base.1.0.ActionNotSupported",
                                                               "message": f"{method} is not allowed"}}
        else:
            found = self.document(path)
            status, doc = ("200 OK", found) if found is not None else (
                "404 Not Found", {"error": {"code": "Base.1.0.ResourceMissingAtURI", "message": path}})
        body = json.dumps(doc).encode()
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     f"Connection: close\r\nOData-Version: 4.0\r\n\r\n".encode() + body)
        with contextlib.suppress(OSError, ConnectionError):
            await writer.drain()
        writer.close()

    async def start(self, address: str) -> int:
        self.server = await asyncio.start_server(self.handle, address, 0)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
