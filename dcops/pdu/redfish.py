"""Read rack PDUs over Redfish (DMTF PowerDistribution, Circuit and Outlet schemas). I/O.

The tree (DMTF public-rackpdu mockup layout): ``/redfish/v1/PowerEquipment/RackPDUs`` lists the
PDUs; a PDU (``PowerDistribution``, EquipmentType RackPDU) links ``Mains`` (Circuit collection:
the input circuits, ``PowerState`` and ``Voltage.Reading``) and ``Outlets`` (Outlet collection:
``PowerState`` and ``PowerWatts.Reading`` per outlet). Basic authentication, one connection per
PDU, read only when a rack's BMCs went dark: a handful of GETs. A PDU that does not answer, or
answers nonsense, is a reading with ``reachable=False`` and the reason; it never raises.

It sends through the BMC layer's HTTP/1.1 client (``dcops.bmc.redfish.wire``) and decodes with its
strict JSON reader (``jsonbody``): one set of transport rules (body cap, no proxy, short error
texts that carry no secret) for every Redfish device dcops reads.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

from dcops.bmc.redfish.jsonbody import decode
from dcops.bmc.redfish.wire import Client, WireError, client_context
from dcops.models import Pdu, PduReading
from dcops.secrets import redact, resolve

ROOT = "/redfish/v1/PowerEquipment/RackPDUs"
MAX_PARALLEL = 16


class _Bad(Exception):
    """The PDU answered, but not with what the schema promises."""


def _reading(doc: Mapping[str, Any], name: str) -> float | None:
    value = doc.get(name)
    if isinstance(value, Mapping):
        value = value.get("Reading")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _state(doc: Mapping[str, Any]) -> str | None:
    value = doc.get("PowerState")
    return value if isinstance(value, str) else None


class _Link:
    """One PDU's origin on a shared client: base URL, headers (basic auth), TLS context."""

    def __init__(self, http: Client, base: str, auth: Mapping[str, str] | None,
                 tls: ssl.SSLContext | None) -> None:
        self.http, self.base, self.tls = http, base, tls
        self.headers = {"Accept": "application/json", **(auth or {})}


async def _get(link: _Link, path: str) -> dict[str, Any]:
    resp = await link.http.request(link.base, "GET", path, link.headers, None, link.tls)
    if resp.status != 200:
        raise _Bad(f"GET {path}: HTTP {resp.status}")
    doc, problem = decode(resp.body)
    if problem is not None or doc is None:
        raise _Bad(f"GET {path}: malformed response ({problem or 'empty body'})")
    if not isinstance(doc, dict):
        raise _Bad(f"GET {path}: malformed response (not an object)")
    return doc


def _members(doc: Mapping[str, Any], path: str) -> list[str]:
    members = doc.get("Members")
    if not isinstance(members, list):
        raise _Bad(f"{path}: no Members")
    out = [m.get("@odata.id") for m in members if isinstance(m, Mapping)]
    return [m for m in out if isinstance(m, str)]


def _link(doc: Mapping[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if isinstance(value, Mapping) and isinstance(value.get("@odata.id"), str):
        return str(value["@odata.id"])
    return None


async def _collection(link: _Link, path: str | None, only: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The members of a collection; ``only``: just those whose URI ends in one of these ids (the
    outlets the book maps: a 48-outlet PDU read for 3 hosts costs 3 GETs), all when none does."""
    if path is None:
        return []
    members = _members(await _get(link, path), path)
    chosen = [m for m in members if m.rstrip("/").rsplit("/", 1)[-1] in only] if only else []
    return list(await asyncio.gather(*(_get(link, m) for m in chosen or members)))


_TLS: dict[bool, ssl.SSLContext] = {}


def _tls(verify: bool) -> ssl.SSLContext:
    """One client context per verify setting (building one costs ~20 ms of CPU)."""
    found = _TLS.get(verify)
    if found is None:
        found = _TLS[verify] = client_context(verify)
    return found


async def read_pdu(pdu: Pdu, *, timeout: float = 10.0, http: Client | None = None) -> PduReading:
    """One PDU's mains and outlets; ``reachable=False`` with the reason when it cannot be read."""
    own = http is None
    client = http or Client()
    auth: dict[str, str] | None = None
    try:
        if pdu.username:
            password = resolve(pdu.password, what="PDU password").reveal() if pdu.password else ""
            token = base64.b64encode(f"{pdu.username}:{password}".encode()).decode()
            auth = {"Authorization": f"Basic {token}"}
        link = _Link(client, pdu.url, auth, None if pdu.scheme == "http" else _tls(pdu.verify_tls))
        async with asyncio.timeout(timeout):
            members = _members(await _get(link, ROOT), ROOT)
            wanted = f"{ROOT}/{pdu.member}" if pdu.member else (members[0] if members else None)
            if wanted is None or wanted.rstrip("/") not in [m.rstrip("/") for m in members]:
                raise _Bad(f"no rack PDU {pdu.member or ''} under {ROOT} (members: {', '.join(members) or 'none'})")
            doc = await _get(link, wanted)
            mains = await _collection(link, _link(doc, "Mains"))
            mapped = frozenset(o for _host, ids in pdu.outlets for o in ids)
            outlets = await _collection(link, _link(doc, "Outlets"), mapped)
        return PduReading(
            pdu, True,
            mains=tuple((str(m.get("Id") or ""), _state(m), _reading(m, "Voltage")) for m in mains),
            outlet_states=tuple((str(o.get("Id") or ""), _state(o), _reading(o, "PowerWatts")) for o in outlets))
    except TimeoutError:
        return PduReading(pdu, False, f"no answer within {timeout:g}s")
    except (WireError, OSError, _Bad) as exc:
        return PduReading(pdu, False, redact(str(exc) or type(exc).__name__))
    except Exception as exc:  # noqa: BLE001 - a lying PDU is reported; patrol goes on
        return PduReading(pdu, False, redact(f"{type(exc).__name__}: {exc}"))
    finally:
        if own:
            client.close()


async def read_pdus(pdus: Sequence[Pdu], *, timeout: float = 10.0) -> list[PduReading]:
    """Read every PDU of ``pdus`` at once (at most MAX_PARALLEL in flight)."""
    if not pdus:
        return []
    slots = asyncio.Semaphore(MAX_PARALLEL)
    http = Client()
    try:
        async def one(pdu: Pdu) -> PduReading:
            async with slots:
                return await read_pdu(pdu, timeout=timeout, http=http)

        return list(await asyncio.gather(*(one(p) for p in pdus)))
    finally:
        http.close()
