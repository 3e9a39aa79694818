"""Which switch port the production-network step changes: the book's, checked against what the
switch itself says over LLDP (as the BMC reports it), or LLDP's alone when the book has none
(pure: the decision; the step reads the BMC)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.baseline.models import SwitchPort
from dcops.errors import ApplyError


@dataclass(frozen=True)
class Decision:
    port: SwitchPort | None  # what the switch playbook changes (None: nothing)
    source: str  # "book", "lldp", "book (confirmed by LLDP)", "none"
    note: str


def _known(name: str | None, switches: Mapping[str, Any]) -> str | None:
    """The book's name of the switch LLDP calls ``name`` (its hostname, maybe fully qualified)."""
    if not name:
        return None
    for known in switches:
        if name.lower() == known.lower() or name.split(".")[0].lower() == known.lower():
            return known
    return None


def decide(host: str, book: SwitchPort | None, seen: Sequence[Any], switches: Mapping[str, Any]) -> Decision:
    """``seen``: the LLDP neighbours (``switch``, ``port``) of the host's NIC ports. A neighbour
    the book knows that contradicts the book stops the step: moving a port the host is not
    cabled to would cut another server off."""
    ours = sorted({(known, str(n.port)) for n in seen if n.port and (known := _known(n.switch, switches))})
    strangers = sorted({n.describe() for n in seen if not (n.port and _known(n.switch, switches))})
    if book is not None:
        if not ours:
            extra = f" (LLDP sees only {', '.join(strangers)}, switches the book does not list)" if strangers else ""
            return Decision(book, "book", f"LLDP reports no neighbour the book knows{extra}")
        if any(sw == book.switch and port.lower() == book.port.lower() for sw, port in ours):
            return Decision(book, "book (confirmed by LLDP)", f"LLDP confirms {book.switch} port {book.port}")
        raise ApplyError(f"{host}: the cabling differs from the book: the network file says {book.switch} port "
                         f"{book.port}, LLDP sees {', '.join(f'{s} port {p}' for s, p in ours)}; fix the book or the "
                         "cable before the switch is changed")
    if len(ours) == 1:
        switch, port = ours[0]
        return Decision(SwitchPort(switch, port, None), "lldp", f"LLDP: {switch} port {port}")
    if len(ours) > 1:
        raise ApplyError(f"{host}: LLDP sees several switch ports ({', '.join(f'{s} port {p}' for s, p in ours)}) "
                         "and the network file names none: give the host's switch: {name, port} in it")
    return Decision(None, "none", "no switch port in the network file and none reported by LLDP"
                    + (f" (neighbours not in the book: {', '.join(strangers)})" if strangers else ""))
