"""``$select`` on the inventory tier's part collections (pure: no I/O; the fleet reader,
``fleet.py``, sends the query and applies the guard).

DSP0266 "Query parameters": ``$select`` asks for a subset of a resource's properties; a service
says it supports it with ``ProtocolFeaturesSupported.SelectQuery`` in its service root (a service
that does not say so never gets it). The service applies ``$select`` last, after ``$expand``
(DSP0266 orders the query parameters $skip, $top, $expand, excerpt, $select; AMI's Lenovo TSM
documentation states the same order), so the properties of the members of an expanded collection
are named by path: ``Members/SerialNumber``. Only the four part collections of the inventory
whose members are large and many (memory, processors, drives, firmware inventory;
``keys.SELECT_MEMBERS``) are asked for this way; every property the parser reads is in the list.

Services implement ``$select`` partly or not at all, so an answer is used only when it passes the
guard, and the first selected answer of each BMC is checked against the full document of one
member (``verified``). A refusal, an unusable answer or a failed check turns ``$select`` off for
that BMC for the life of the reader; the collection is then read again with ``$expand`` alone
(one request lost once per BMC). What is known of vendors:

* OpenBMC bmcweb (NVIDIA GB200 NVL advertises SelectQuery): ``$select`` together with ``$expand``
  is refused, 400 ``QueryCombinationInvalid``; at most 10 properties per ``$select`` (400
  ``QueryParameterValueFormatError``); and ``$select`` answers 501 unless built with
  insecure-enable-query-params (bmcweb ``redfish-core/include/utils/query_param.hpp``). Only
  ``@odata.id/type/context/etag`` are kept unasked: ``Members@odata.count`` and
  ``Members@odata.nextLink`` are asked for by name here, or a paged collection would end silently
  at its first page.
* Dell iDRAC9 4.x: one query parameter per URI ("iDRAC doesn't support passing in multiple query
  parameters for one URI", dell/iDRAC-Redfish-Scripting#123, 2020): the combination is refused.
* HPE iLO 5/6: "Non implemented OData query options are silently discarded" (HPE, OData query
  options): an ignored ``$select`` answers the whole document, which passes the guard (nothing
  saved, nothing lost).
* A service that applies ``$select`` to the collection's own properties only, not to the paths
  (``dcops sim`` did before it learnt paths), drops ``Members``: the guard refuses the answer.
"""

from __future__ import annotations

from typing import Any

from dcops.bmc.redfish.docs import Doc
from dcops.bmc.redfish.keys import ID, MEMBERS, MEMBERS_COUNT, NEXT_LINK, ODATA_ID, ODATA_TYPE, SELECT_MEMBERS


def select_supported(root: Doc | None) -> bool:
    """Whether the service root says ``$select`` works (``ProtocolFeaturesSupported.SelectQuery``)."""
    features = root.get("ProtocolFeaturesSupported") if isinstance(root, dict) else None
    return isinstance(features, dict) and features.get("SelectQuery") is True


def member_fields(kind: str | None) -> tuple[str, ...] | None:
    """The member properties worth asking for in a collection of this type (None: ask for all)."""
    return SELECT_MEMBERS.get(kind) if kind else None


def select_query(fields: tuple[str, ...]) -> str:
    """``$select`` of an expanded collection: its count and next link by name (bmcweb keeps only
    the ``@odata`` annotations unasked), its members' properties by path."""
    return "$select=" + ",".join((MEMBERS_COUNT, NEXT_LINK, *(f"{MEMBERS}/{f}" for f in fields)))


def usable(doc: Any) -> str | None:
    """Why a selected answer cannot be used (None: it can): a collection must list its members
    and say how many there are (Redfish requires ``Members@odata.count``), and keep its
    ``@odata.id`` and ``@odata.type`` (DSP0266: kept whatever ``$select`` says); an inlined
    member must carry its ``@odata.id``, ``@odata.type`` and ``Id`` (``Id`` is asked for)."""
    if not isinstance(doc, dict):
        return "not a JSON object"
    for key in (ODATA_ID, ODATA_TYPE):  # the fleet reader learns the collection's type from it
        if not isinstance(doc.get(key), str):
            return f"no {key}"
    members = doc.get(MEMBERS)
    if not isinstance(members, list):
        return "no Members"
    if not isinstance(doc.get(MEMBERS_COUNT), int):
        return "no Members@odata.count"
    for member in members:
        if not isinstance(member, dict) or not isinstance(member.get(ODATA_ID), str):
            return "a member without @odata.id"
        if len(member) > 1 and (ID not in member or not isinstance(member.get(ODATA_TYPE), str)):
            return f"member {member[ODATA_ID]} without Id or @odata.type"
    return None


def first_inline(doc: Doc) -> Doc | None:
    """The member to check the service's ``$select`` against: the first one inlined."""
    for member in doc.get(MEMBERS) or []:
        if isinstance(member, dict) and len(member) > 1:
            return member
    return None


def mismatch(selected: Doc, full: Doc, fields: tuple[str, ...]) -> str | None:
    """The first asked-for property the full document has and the selected one lacks or gives
    otherwise (None: the selection is faithful). Catches services that drop what they were asked
    for (a complex property such as ``Status``, a nested ``Links``) or return something else."""
    for name in fields:
        if name in full and selected.get(name) != full[name]:
            return name
    return None
