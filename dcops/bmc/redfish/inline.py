"""A Storage resource's drives read inline, with ``$expand``, instead of one GET each (pure: the
reader, ``read._storage``, sends the query; this module decides what an answer is worth and keeps
what was learnt about a BMC).

DSP0266 "Query parameters": ``$expand=.`` expands the hyperlinks of a resource that are not under
``Links``; ``Drives`` in Storage is such a navigation property, so ``Storage/<id>?$expand=.($levels=1)``
brings every drive in one answer (a 24-bay server: 1 request instead of 24). Asked only of a
service whose root advertises ExpandQuery, and only when some drive is not known yet.

What is known of services (none of the real captures holds an expanded Storage: every vendor's
Storage links its drives, ``tests/fixtures/redfish``):

* HPE iLO 5/6: "$expand=., $expand=* and $expand=($levels=n) ... expands all links in both root
  and Oem/Hpe sections not inside the Links sections; levels is always interpreted as 1" (HPE,
  iLO OData query options); "non implemented OData query options are silently discarded".
* Dell iDRAC (API guide): ``.`` expands the navigation properties of any resource.
* DMTF Redfish-Mockup-Server: ``$expand`` works on collections only; a resource's links come
  back as they are (DMTF/Redfish-Mockup-Server#78, 2020: Storage?$expand gives Drives of bare
  ``@odata.id``). ``dcops sim`` copies it with the trait ``expand-collections-only``.
* IBM's OpenBMC bmcweb allows ``$expand`` only under /Chassis, /Systems/system and /Cables
  (ibm-openbmc/bmcweb#971): Storage is under /Systems/system.
* sushy-tools advertises no query option: never asked.

So an answer is trusted only as far as it goes: a drive inlined (more than its ``@odata.id``) is
used, a drive left as a link is read on its own. A refusal (400/403/405/406/501) or an answer
that inlines no drive turns it off for that BMC (``InlineDrives.state``), as the fleet does for
collections; the first inlined answer is checked against one drive read in full (``mismatch``
over the properties the parser reads): a service that inlines stale or partial drives is caught
before a drive's health or serial goes missing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from dcops.bmc.redfish import select
from dcops.bmc.redfish.docs import Doc, is_error_body, normalize
from dcops.bmc.redfish.keys import ODATA_ID, SELECT_MEMBERS

log = logging.getLogger(__name__)
# What the parser reads of a drive (read._drive, part_location, _component): the check's fields.
DRIVE_FIELDS = SELECT_MEMBERS["DriveCollection"]


@dataclass(slots=True)
class InlineDrives:
    """What is known of one BMC: ``state`` None not tried yet (or not checked), True inlined drives
    found faithful, False never again (refused, ignored, or unfaithful); ``why`` it was turned off."""

    host: str = ""
    state: bool | None = None
    why: str | None = None

    @property
    def wanted(self) -> bool:
        return self.state is not False

    def off(self, why: str) -> None:
        if self.state is not False:
            log.info("%s: Storage drives read one by one from now on ($expand on Storage: %s)", self.host or "BMC",
                     why)
        self.state, self.why = False, why


def unread(drive_links: Iterable[str], known: Iterable[str]) -> list[str]:
    """The drive links (normalized, in order, once) not among the ``known`` keys."""
    seen = set(known)
    return [key for key in dict.fromkeys(normalize(u) for u in drive_links) if key not in seen]


def inlined(answer: object) -> dict[str, Doc]:
    """The drives an expanded Storage answer carries inline, by normalized URI (a drive that is a
    bare link, an error body or has no ``@odata.id`` is not one)."""
    if not isinstance(answer, dict):
        return {}
    found: dict[str, Doc] = {}
    for drive in answer.get("Drives") or []:
        if not isinstance(drive, dict) or len(drive) < 2:
            continue
        uri = drive.get(ODATA_ID)
        if isinstance(uri, str) and "#" not in uri and not is_error_body(drive):
            found.setdefault(normalize(uri), drive)
    return found


def mismatch(inline: Doc, full: Doc) -> str | None:
    """The first property the parser reads that the full drive has and the inlined one lacks or
    gives otherwise (None: faithful): ``select.mismatch`` over the drive's fields."""
    return select.mismatch(inline, full, DRIVE_FIELDS)
