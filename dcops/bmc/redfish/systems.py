"""Which ComputerSystem of a Redfish service is the server, and which parts belong to it. Pure.

A service may list several systems (Redfish ``Systems`` collection):

* a GPU baseboard or a DPU beside the host -- NVIDIA HGX/Grace trays list ``HGX_Baseboard_0``
  next to ``System_0``; servers with BlueField DPUs may list the DPU's own system;
* several hosts behind one BMC -- HPE Cray EX blades list ``Node0`` and ``Node1``, each a server.

The host is chosen by evidence, never by list or sort order: a system a manager's
``Links.ManagerForServers`` names, that has the ``#ComputerSystem.Reset`` action and a ``Boot``
object, whose ``SystemType`` is Physical, and that is not a GPU baseboard, DPU or other
co-processor complex. The book can pin one (``bmc.system: <Id>``), which wins. Systems that are no
host (a baseboard without Reset or Boot, a DPU) are *companions*: their parts are the server's.
Other host candidates are other servers (nodes of a blade): their parts and chassis are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dcops.bmc.redfish.docs import last_segment, link, links_of, normalize, text
from dcops.bmc.redfish.keys import ODATA_ID

Doc = dict[str, Any]

RESET = "#ComputerSystem.Reset"
# Words of a system's Id/Name that mark a co-processor complex, not a host: NVIDIA HGX/Grace
# trays ("HGX_Baseboard_0"), BlueField DPUs ("Bluefield", "DPU_0"), SmartNICs, GPU complexes.
_NOT_HOST = re.compile(r"baseboard|\bhgx|hgx_|\bdpu|dpu_|bluefield|smartnic|\bgpu|gpu_|accelerator", re.I)
# SystemType values (ComputerSystem.v1_x SystemType) that are never the server itself.
_NOT_HOST_TYPES = frozenset({"dpu", "virtual", "virtuallypartitioned", "oscontainer", "physicallypartitioned"})
# ChassisType values of an enclosure a server lives in (the server's own box), as opposed to a
# board, module or component inside it (Redfish Chassis.ChassisType).
ENCLOSURE_TYPES = frozenset({"rackmount", "shelf", "blade", "sled", "standalone", "enclosure", "drawer",
                             "cartridge", "expansion", "stickpc", "multisystemchassis", "rack", "pod"})


@dataclass(frozen=True)
class Choice:
    """The host system, the companion systems whose parts are the host's, the other hosts, and
    an error when a pin names no system."""

    host: Doc | None
    companions: tuple[Doc, ...] = ()
    others: tuple[Doc, ...] = ()
    error: str | None = None
    reasons: tuple[str, ...] = field(default=())

    @property
    def read(self) -> list[Doc]:
        """The systems whose parts the observation holds: the host first, then its companions."""
        return ([self.host] if self.host else []) + list(self.companions)


def system_id(doc: Doc) -> str:
    return str(doc.get("Id") or last_segment(str(doc.get(ODATA_ID) or "")))


def has_reset(doc: Doc) -> bool:
    actions = doc.get("Actions")
    return isinstance(actions, dict) and isinstance(actions.get(RESET), dict)


def is_coprocessor(doc: Doc) -> bool:
    """A GPU baseboard, DPU or accelerator complex: not a host, whatever else it says."""
    kind = str(doc.get("SystemType") or "").lower()
    if kind in _NOT_HOST_TYPES:
        return True
    return bool(_NOT_HOST.search(f"{system_id(doc)} {text(doc, 'Name') or ''}"))


def is_host_candidate(doc: Doc) -> bool:
    """A system that can be a server of its own: it can be reset and is not a co-processor."""
    return has_reset(doc) and not is_coprocessor(doc)


def score(doc: Doc, managed: set[str]) -> int:
    """Evidence that ``doc`` is the server (higher is more)."""
    points = 0
    if normalize(str(doc.get(ODATA_ID) or "")) in managed:
        points += 4
    if has_reset(doc):
        points += 4
    if isinstance(doc.get("Boot"), dict):
        points += 2
    if str(doc.get("SystemType") or "Physical").lower() == "physical":
        points += 1
    if is_coprocessor(doc):
        points -= 10
    return points


def managed_servers(managers: Iterable[Doc]) -> set[str]:
    """Normalized URIs of every system a manager says it manages (``Links.ManagerForServers``)."""
    return {normalize(uri) for mgr in managers for uri in links_of(mgr.get("Links"), "ManagerForServers")}


def choose(systems: list[Doc], managers: Iterable[Doc] = (), pin: str | None = None) -> Choice:
    """Pick the host among ``systems`` (see the module doc). Ties go to the lowest Id, so the
    choice is stable across reads. With ``pin``, the system whose Id (or URI's last segment) is
    ``pin``, case-insensitively; none such is an error naming the systems there are."""
    if not systems:
        return Choice(None)
    if pin:
        wanted = pin.strip().lower()
        host = next((s for s in systems if system_id(s).lower() == wanted), None)
        if host is None:
            names = ", ".join(sorted(system_id(s) for s in systems))
            return Choice(None, error=f"bmc.system {pin!r} is not a system of this BMC (it has: {names})")
        reasons: tuple[str, ...] = ("pinned by the book (bmc.system)",)
    else:
        managed = managed_servers(managers)
        ordered = sorted(systems, key=lambda s: (-score(s, managed), system_id(s)))
        host = ordered[0]
        reasons = tuple(r for r, ok in (
            ("named by ManagerForServers", normalize(str(host.get(ODATA_ID) or "")) in managed),
            ("has #ComputerSystem.Reset", has_reset(host)), ("has Boot", isinstance(host.get("Boot"), dict)),
        ) if ok)
    rest = [s for s in systems if s is not host]
    others = tuple(s for s in rest if is_host_candidate(s) and not is_coprocessor(host))
    companions = tuple(s for s in rest if s not in others)
    return Choice(host, companions, others, None, reasons)


def manager_of(system: Doc, managers: list[Doc]) -> Doc:
    """The manager of the host system: the one its ``Links.ManagedBy`` names, else the one whose
    ``ManagerForServers`` names it, else the first."""
    if not managers:
        return {}
    by_uri = {normalize(str(m.get(ODATA_ID) or "")): m for m in managers}
    for uri in links_of(system.get("Links") if system else None, "ManagedBy"):
        if normalize(uri) in by_uri:
            return by_uri[normalize(uri)]
    me = normalize(str(system.get(ODATA_ID) or "")) if system else ""
    for mgr in managers:
        if me and me in {normalize(u) for u in links_of(mgr.get("Links"), "ManagerForServers")}:
            return mgr
    return managers[0]


def chassis_of(system: Doc, chassis_docs: list[Doc]) -> str:
    """The Id of the chassis a system's parts sit in: its ``Links.Chassis``; else a chassis that
    lists it in ``Links.ComputerSystems`` or has its Id (a multi-node blade's ``Node1`` chassis for
    system ``Node1``); else the first chassis."""
    linked = links_of(system.get("Links") if system else None, "Chassis")
    if linked:
        return last_segment(linked[0])
    if not chassis_docs:
        return ""
    uri = normalize(str(system.get(ODATA_ID) or "")) if system else ""
    sid = system_id(system).lower() if system else ""
    for doc in chassis_docs:
        if uri and uri in {normalize(u) for u in links_of(doc.get("Links"), "ComputerSystems")}:
            return system_id(doc)
    for doc in chassis_docs:
        if sid and system_id(doc).lower() == sid:
            return system_id(doc)
    return system_id(chassis_docs[0])


def foreign_chassis(choice: Choice, chassis_docs: list[Doc]) -> set[str]:
    """Normalized URIs of chassis that belong to another host (a blade's other node): a chassis
    whose ``Links.ComputerSystems`` names other hosts and none of ours, or that carries another
    host's Id and names no system; and what such a chassis contains. Their parts and sensors are that host's."""
    if not choice.others:
        return set()
    other_uris = {normalize(str(s.get(ODATA_ID) or "")) for s in choice.others}
    other_ids = {system_id(s).lower() for s in choice.others}
    mine = {normalize(str(s.get(ODATA_ID) or "")) for s in choice.read}
    own_chassis = {normalize(u) for s in choice.read for u in links_of(s.get("Links"), "Chassis")}
    foreign = set()
    for doc in chassis_docs:
        uri = normalize(str(doc.get(ODATA_ID) or ""))
        if uri in own_chassis:
            continue
        named = {normalize(u) for u in links_of(doc.get("Links"), "ComputerSystems")}
        if (named and named & other_uris and not named & mine) \
                or (not named and system_id(doc).lower() in other_ids):
            foreign.add(uri)
    # A chassis contained by a foreign one is foreign too.
    changed = True
    while changed:
        changed = False
        for doc in chassis_docs:
            uri = normalize(str(doc.get(ODATA_ID) or ""))
            parent = link(doc.get("Links"), "ContainedBy")
            if uri not in foreign and parent and normalize(parent) in foreign:
                foreign.add(uri)
                changed = True
    return foreign


def enclosure_of(system: Doc, chassis_docs: list[Doc]) -> Doc | None:
    """The chassis that is the server's box, for identity a system does not give (NVIDIA GB200:
    ``System_0`` has no SerialNumber, Manufacturer or Model; its tray ``Chassis_0``, a Shelf, has).
    The system's own ``Links.Chassis`` when that is an enclosure type; else an enclosure-type
    chassis that lists the system in ``Links.ComputerSystems``, top-level ones first."""
    uri = normalize(str(system.get(ODATA_ID) or ""))
    by_uri = {normalize(str(d.get(ODATA_ID) or "")): d for d in chassis_docs}
    for linked in links_of(system.get("Links"), "Chassis"):
        doc = by_uri.get(normalize(linked))
        if doc is not None and str(doc.get("ChassisType") or "").lower() in ENCLOSURE_TYPES:
            return doc
    found = [d for d in chassis_docs if str(d.get("ChassisType") or "").lower() in ENCLOSURE_TYPES
             and uri in {normalize(u) for u in links_of(d.get("Links"), "ComputerSystems")}]
    found.sort(key=lambda d: (link(d.get("Links"), "ContainedBy") is not None, system_id(d)))
    return found[0] if found else None
