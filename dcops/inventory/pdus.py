"""A rack's ``pdus:`` in the book: the rack PDUs and which outlets feed which host. Pure.

    racks:
      - name: A01
        pdus:
          - name: pdu-a01-a                # a name of its own (incidents say "decided by PDU pdu-a01-a")
            address: 192.0.2.40            # its management address
            port: 443                      # optional; scheme https (default) or http
            protocol: redfish              # PowerEquipment/RackPDUs (the only one so far)
            username: monitor
            password: env:PDU_PASSWORD     # a secret reference, as for BMCs
            verify_tls: false
            member: "1"                    # optional: the RackPDUs member (default: the first)
            outlets:                       # host -> the outlet(s) its power supplies plug into
              db-01: [A1, A2]
              db-02: A3
        hosts: [...]

This is NetBox's power model seen from the rack: the PDU device, its power outlets, and the
cables from the hosts' power ports to them. A PDU without ``outlets`` feeds the whole rack.
``read_pdus`` returns the PDUs and each problem as (line, message); the loader names the file.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from dcops.inventory.schema import check_name, unknown_field
from dcops.inventory.yamlload import LineList, LineMap
from dcops.models import Pdu, SourceRef
from dcops.secrets import check_reference

PDU_FIELDS = ("name", "address", "port", "scheme", "protocol", "username", "password", "verify_tls", "member",
              "outlets", "description")
PROTOCOLS = ("redfish",)


def _outlet_ids(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
        return (str(value),)
    if isinstance(value, list) and value and all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        return tuple(str(v) for v in value)
    return None


def read_pdu(raw: Any, line: int, rack: str, file: str, hosts: Collection[str] | None
             ) -> tuple[Pdu | None, list[tuple[int, str]]]:
    """One entry of a rack's ``pdus:``. ``hosts``: the rack's host names, to check the outlet map
    against (None: do not check)."""
    problems: list[tuple[int, str]] = []
    if not isinstance(raw, LineMap):
        return None, [(line, "a PDU must be a mapping (name, address, protocol, outlets...)")]
    for key in raw:
        if key not in PDU_FIELDS:
            problems.append((raw.line_of(key), f"PDU: {unknown_field(key, PDU_FIELDS)}"))
    name: Any = None
    if "name" not in raw:
        problems.append((raw.line, "PDU without a name"))
    else:
        name, wrong = check_name("PDU name", raw["name"])
        if wrong:
            problems.append((raw.line_of("name"), wrong))
    label = f"PDU '{name}'" if isinstance(name, str) else "PDU"
    address = raw.get("address")
    if not isinstance(address, str) or not address.strip():
        problems.append((raw.line_of("address") if "address" in raw else raw.line, f"{label}: missing address"))
    port = raw.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        problems.append((raw.line_of("port"), f"{label}: port must be 1-65535, not {port!r}"))
    scheme = raw.get("scheme", "https")
    if scheme not in ("http", "https"):
        problems.append((raw.line_of("scheme"), f"{label}: scheme must be http or https, not {scheme!r}"))
    protocol = raw.get("protocol", "redfish")
    if protocol not in PROTOCOLS:
        problems.append((raw.line_of("protocol"), f"{label}: protocol must be one of {', '.join(PROTOCOLS)}, "
                                                   f"not {protocol!r}"))
    username = raw.get("username")
    if username is not None and not isinstance(username, str):
        problems.append((raw.line_of("username"), f"{label}: username must be a string"))
    password = raw.get("password")
    if password is not None:
        bad = "password must be a secret reference (env:NAME, file:PATH, ...)" if not isinstance(password, str) \
            else check_reference(password, book=True)
        if bad:
            # Never echo the value: it may be a password written in clear.
            problems.append((raw.line_of("password"), f"{label}: {bad}"))
    verify = raw.get("verify_tls", True)
    if not isinstance(verify, bool):
        problems.append((raw.line_of("verify_tls"), f"{label}: verify_tls must be true or false"))
    member = raw.get("member")
    if member is not None and not isinstance(member, str | int):
        problems.append((raw.line_of("member"), f"{label}: member must be the RackPDUs member id"))
    outlets: list[tuple[str, tuple[str, ...]]] = []
    raw_outlets = raw.get("outlets")
    if raw_outlets is not None:
        if not isinstance(raw_outlets, LineMap):
            problems.append((raw.line_of("outlets"), f"{label}: outlets must map a host to its outlet(s)"))
        else:
            for host, ids in raw_outlets.items():
                at = raw_outlets.line_of(host)
                found = _outlet_ids(ids)
                if found is None:
                    problems.append((at, f"{label}: outlets of {host}: an outlet id or a list of them, not {ids!r}"))
                    continue
                if hosts is not None and str(host) not in hosts:
                    problems.append((at, f"{label}: outlets name host '{host}', which is not in rack {rack}"))
                    continue
                outlets.append((str(host), found))
    if problems or not isinstance(name, str) or not isinstance(address, str):
        return None, problems
    return Pdu(name=name, address=address.strip(), rack=rack, port=port, scheme=str(scheme), protocol=str(protocol),
               username=username, password=password, verify_tls=bool(verify),
               member=str(member) if member is not None else None, outlets=tuple(outlets),
               source=SourceRef(file, raw.line)), problems


def read_pdus(value: Any, line: int, rack: str, file: str, hosts: Collection[str] | None
              ) -> tuple[list[Pdu], list[tuple[int, str]]]:
    """A rack's ``pdus:`` list; duplicate names are refused."""
    if not isinstance(value, LineList):
        return [], [(line, "pdus must be a list of PDUs")]
    out: list[Pdu] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(value):
        pdu, wrong = read_pdu(raw, value.line_of(i), rack, file, hosts)
        problems.extend(wrong)
        if pdu is None:
            continue
        if pdu.name in seen:
            problems.append((pdu.source.line, f"duplicate PDU '{pdu.name}' (first at line {seen[pdu.name]})"))
            continue
        seen[pdu.name] = pdu.source.line
        out.append(pdu)
    return out, problems


def feeding(pdus: list[Pdu], host: str) -> tuple[Pdu, ...]:
    """The PDUs that feed ``host``: those naming it, and those without an outlet map."""
    return tuple(p for p in pdus if not p.outlets or host in p.feeds())


def pdu_document(pdu: Pdu) -> dict[str, Any]:
    """The book entry of ``pdu`` (what ``read_pdu`` reads back), defaults left out."""
    doc: dict[str, Any] = {"name": pdu.name, "address": pdu.address}
    if pdu.port:
        doc["port"] = pdu.port
    if pdu.scheme != "https":
        doc["scheme"] = pdu.scheme
    doc["protocol"] = pdu.protocol
    if pdu.username is not None:
        doc["username"] = pdu.username
    if pdu.password is not None:
        doc["password"] = pdu.password
    if not pdu.verify_tls:
        doc["verify_tls"] = False
    if pdu.member is not None:
        doc["member"] = pdu.member
    if pdu.outlets:
        doc["outlets"] = {host: list(ids) if len(ids) > 1 else ids[0] for host, ids in pdu.outlets}
    return doc
