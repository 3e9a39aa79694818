"""A rack whose BMCs went dark at once: power loss, or its management network? Pure.

From the BMC side the two look the same while they last: every BMC of the rack stops answering.
What tells them apart (docs/patrol.md, "Racks"):

* hosts whose BMC still answers and that went **off** without an operator action: power loss;
* when the BMCs return, **AC-lost SEL entries** (IPMI Power Unit "AC lost", Dell PWR2262, HPE
  "AC power lost", Lenovo FQXSPPW0003L): power loss, confirmed;
* BMCs that return with their hosts **on**, logs read and no AC-lost entry: the hosts never lost
  power, the management network did;
* the rack's **PDUs** (``patrol.pdu``), read while the BMCs are dark: mains lost or the dark
  hosts' outlets off: power loss; mains present and their outlets on: not a power loss (the
  management network or the BMCs). An unreachable PDU is no evidence. A PDU's word comes first:
  it measures the power itself;
* nothing yet: "BMCs unreachable, cause unknown", critical (not the emergency of a power loss:
  a dead management switch leaves every server running).

The decision and the evidence that made it are in the incident's diagnosis (``cause``,
``decided_by``); an incident opened as "cause unknown" is re-diagnosed in place (same incident).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from dcops.models import PduReading
from dcops.patrol import pdu as pdu_evidence
from dcops.patrol.model import Condition, Event, HostCheck, Incident, PartInfo, Policy, Scope, Severity

_OFF = (Condition.ABNORMAL_SHUTDOWN, Condition.UNEXPECTED_POWER_OFF)
# SEL / log text of an AC loss (IPMI Power Unit offset 04h "AC lost / Power down", vendor messages).
AC_LOST = re.compile(r"\bac\b(?:\s+power)?\s+(?:was\s+)?(?:lost|loss)|\bac\s*lost\b|\bac\s+power\s+loss|"
                     r"aclost|acpowerlost|power input .* lost", re.IGNORECASE)
CAUSE_UNKNOWN = "unknown"
CAUSE_POWER = "power loss"
CAUSE_NETWORK = "management network"


def rack_path(site: str | None, room: str | None, rack: str | None) -> str:
    return "/".join(p for p in (site, room, rack) if p)


def is_ac_lost(event: Event) -> bool:
    if event.condition is not Condition.LOG:
        return False
    text = " ".join([str(event.diagnosis.get("message") or ""), str(event.diagnosis.get("message_id") or ""),
                     *(str(e.get("message") or "") for e in event.evidence)])
    return bool(AC_LOST.search(text))


def _severity(policy: Policy, condition: Condition, default: str) -> Severity:
    return Severity(policy.severity_overrides.get(condition.value, default))


def dark_racks(members: Mapping[str, Sequence[tuple[str, bool | None]]], policy: Policy) -> list[str]:
    """The unreachable hosts of racks where more than ``rack_loss_ratio`` of the hosts' BMCs are
    unreachable (``members``: rack -> (host, reachable; None when not read this round)): those
    whose in-band address is worth probing this round."""
    out: list[str] = []
    for hosts in members.values():
        if len(hosts) < policy.rack_loss_min_hosts:
            continue
        dark = [name for name, reachable in hosts if reachable is False]
        if len(dark) / len(hosts) > policy.rack_loss_ratio:
            out.extend(dark)
    return out


def check_rack(path: str, members: Sequence[HostCheck], policy: Policy, open_incident: Incident | None,
               pdus: Sequence[PduReading] = ()) -> Event | None:
    """The rack's event this round when more than ``rack_loss_ratio`` of its hosts are dark (BMC
    unreachable, or off without an operator action); None otherwise. An open rack incident keeps
    its key (the event takes its condition), so one outage stays one incident."""
    if len(members) < policy.rack_loss_min_hosts:
        return None
    # Dark: the BMC does not answer (one that answers with errors is not dark), or the host went off.
    dark = [c for c in members if (not c.reachable and not any(e.condition is Condition.BMC_ERRORS for e in c.events))
            or any(e.condition in _OFF for e in c.events)]
    if len(dark) / len(members) <= policy.rack_loss_ratio:
        return None
    site, room, rack = members[0].site, members[0].room, members[0].rack
    unreachable = sorted(c.host for c in dark if not c.reachable)
    off = sorted(c.host for c in dark if c.reachable)
    probed = [c for c in dark if not c.reachable and c.inband is not None]
    running = [c.host for c in probed if c.inband]
    verdict = pdu_evidence.judge(pdus, unreachable) if pdus else None
    pdu_note: dict[str, object] = {}
    if verdict is not None:
        pdu_note = {"pdu_evidence": verdict.decided_by, "pdus_unreachable": list(verdict.unreachable)}
    if verdict is not None and verdict.cause == pdu_evidence.POWER:
        cause, decided_by = CAUSE_POWER, f"decided by {verdict.decided_by}"
    elif verdict is not None and verdict.cause == pdu_evidence.POWERED and not off:
        cause, decided_by = CAUSE_NETWORK, (f"decided by {verdict.decided_by}: not a power loss (management "
                                            f"network or BMC side)")
    elif off:
        cause, decided_by = CAUSE_POWER, f"{len(off)} host(s) whose BMC answers went off without an operator action"
    elif probed and len(running) * 2 >= len(probed):
        cause, decided_by = CAUSE_NETWORK, (f"{len(running)} of {len(probed)} dark hosts answer on their in-band "
                                            f"address: they run, their BMCs are cut off")
    elif probed and not running:
        cause, decided_by = CAUSE_POWER, f"none of {len(probed)} dark hosts answers on its in-band address either"
    else:
        cause, decided_by = CAUSE_UNKNOWN, "no evidence yet (every dark BMC is unreachable, none reports power)"
        if verdict is not None and verdict.unreachable:
            decided_by += f"; {verdict.decided_by}"
    if open_incident is not None:
        condition = Condition(open_incident.key.rsplit("|", 1)[-1])
        previous = open_incident.diagnosis.get("cause")
        if previous and previous != CAUSE_UNKNOWN and cause == CAUSE_UNKNOWN:
            cause, decided_by = previous, str(open_incident.diagnosis.get("decided_by") or "")
    else:
        condition = Condition.RACK_POWER_LOSS if cause == CAUSE_POWER else Condition.RACK_UNREACHABLE
    if cause == CAUSE_POWER:
        summary = (f"rack {path}: power loss: {len(dark)} of {len(members)} servers down at once "
                   f"({len(unreachable)} BMCs dark, {len(off)} off)")
        severity = _severity(policy, Condition.RACK_POWER_LOSS, "emergency")
    elif cause == CAUSE_NETWORK:
        summary = (f"rack {path}: management network loss: {len(unreachable)} of {len(members)} BMCs unreachable "
                   f"at once, the hosts answer in-band")
        severity = _severity(policy, Condition.RACK_UNREACHABLE, "critical")
    else:
        summary = (f"rack {path}: {len(unreachable)} of {len(members)} BMCs unreachable at once, cause unknown "
                   f"(power loss or management network)")
        severity = _severity(policy, Condition.RACK_UNREACHABLE, "critical")
    return Event(path, "rack", condition, severity, summary, PartInfo(kind="rack", location=path),
                 {"hosts_dark": unreachable, "hosts_off": off, "hosts": len(members), "site": site, "room": room,
                  "rack": rack, "cause": cause, "decided_by": decided_by, **pdu_note})


def rediagnose(incident: Incident, members: Sequence[HostCheck], policy: Policy) -> bool:
    """Hosts of a rack whose BMCs were dark are answering again: decide what happened from what
    they say. Changes ``incident`` in place; True when its diagnosis changed."""
    if incident.diagnosis.get("cause") not in (None, CAUSE_UNKNOWN):
        return False
    dark = set(incident.diagnosis.get("hosts_dark") or ())
    back = [c for c in members if c.reachable and (not dark or c.host in dark)]
    ac = sorted(c.host for c in back if any(is_ac_lost(e) for e in c.events))
    if ac:
        incident.condition = Condition.RACK_POWER_LOSS
        incident.severity = Severity.worst(incident.severity, _severity(policy, Condition.RACK_POWER_LOSS, "emergency"))
        incident.summary = f"rack {incident.host}: power loss (AC-lost log entries on {len(ac)} host(s))"
        incident.diagnosis = {**dict(incident.diagnosis), "cause": CAUSE_POWER,
                              "decided_by": f"AC-lost log entries on {', '.join(ac[:10])}"}
        return True
    running = sorted(c.host for c in back if Scope.LOGS in c.scopes and c.memory.power == "on"
                     and not any(e.condition in _OFF for e in c.events))
    if dark and len(running) * 2 > len(dark):
        incident.summary = (f"rack {incident.host}: management network loss: BMCs were unreachable while the "
                            f"hosts kept running")
        incident.diagnosis = {**dict(incident.diagnosis), "cause": CAUSE_NETWORK,
                              "decided_by": f"{len(running)} host(s) came back powered on with no AC-lost log entry"}
        return True
    return False
