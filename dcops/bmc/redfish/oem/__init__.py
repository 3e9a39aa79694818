"""Vendor quirks: one module per vendor, nothing vendor-specific anywhere else.

Each module defines a ``Quirks`` subclass overriding only the hooks its vendor needs; ``detect``
picks one from the service root and the first system. A quirk carries a comment naming the vendor
and the symptom, and arrives with a fixture and a test.
"""

from __future__ import annotations

import re
from typing import Any

from dcops.observation import ComponentKind, FirmwareItem, Identity, SensorKind

Doc = dict[str, Any]


def oem_text(doc: Doc, vendor: str, key: str) -> str | None:
    """``doc.Oem.<vendor>.<key>`` as stripped text (None when absent or empty)."""
    block = doc.get("Oem")
    inner = block.get(vendor) if isinstance(block, dict) else None
    value = inner.get(key) if isinstance(inner, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


class Quirks:
    """Default behaviour: plain DMTF Redfish. Hooks return None to mean "no opinion"."""

    name = "generic"
    #: words of Manufacturer / root Vendor / root Oem keys (lower case) that select this vendor
    markers: tuple[str, ...] = ()

    def identity(self, ident: Identity, root: Doc, system: Doc, chassis: list[Doc]) -> Identity:
        return ident

    def location(self, kind: ComponentKind, doc: Doc) -> str | None:
        return None

    def sensor_kind(self, doc: Doc) -> SensorKind | None:
        return None

    def sensor_units(self, doc: Doc) -> str | None:
        return None

    def firmware(self, item: FirmwareItem, doc: Doc) -> FirmwareItem:
        return item

    def pick_log_service(self, services: list[Doc]) -> Doc | None:
        """The log to read for the observation: the SEL when the BMC has one."""
        for service in services:
            ident = str(service.get("Id") or "").lower()
            if ident in ("sel", "log1", "ipmisel") or "sel" in str(service.get("Name") or "").lower():
                return service
        return None

    # -- writes
    def eject_body(self) -> Doc | None:
        """The body of VirtualMedia.EjectMedia; None sends no body."""
        return {}

    def insert_media_full(self) -> bool:
        """Whether InsertMedia may carry Inserted/WriteProtected (retried without on a 400)."""
        return True

    def prefer_media(self, slots: list[Doc]) -> list[Doc]:
        """Virtual media slots ordered most suitable first for a CD/DVD image."""
        return slots

    def after_bios_patch(self, conn: Any, settings_uri: str, apply_time: str | None, resp: Any) -> str | None:
        """Called after BIOS values were staged; returns the id of a job the vendor needs to apply
        them (Dell iDRAC), None when staging is enough (DMTF: applies at the next reset)."""
        return None

    def clear_bios_jobs(self, conn: Any) -> None:
        """Remove vendor jobs that would apply staged BIOS values (Dell iDRAC)."""
        return None

    def update_progress(self, service: Doc) -> tuple[str, int | None, str | None] | None:
        """(state, percent, result message id) of a firmware update where the vendor reports it on
        the UpdateService rather than in a task (HPE iLO 5: ``Oem.Hpe.State``); None: not said."""
        return None

    # -- storage
    def drive_state(self, doc: Doc) -> str | None:
        """A drive's RAID state (``ready``, ``non-raid``, ``online``, ``spare``) where the vendor says
        it; None: DMTF Redfish has no such property."""
        return None

    def convert_drive(self, system_uri: str, drive: str, to: str) -> tuple[str, Doc] | None:
        """(action URI, body) that switches ``drive`` to ``to`` (``raid`` | ``non-raid``); None when
        the vendor has no Redfish way to do it."""
        return None

    def assign_spare(self, system_uri: str, drive: str, volume: str | None) -> tuple[str, Doc] | None:
        """(action URI, body) that makes ``drive`` a hot spare of ``volume`` (None: global); None
        when the vendor has no action for it (DMTF: Volume Links.DedicatedSpareDrives, if writable)."""
        return None

    def unassign_spare(self, system_uri: str, drive: str) -> tuple[str, Doc] | None:
        """(action URI, body) that releases a hot spare; None: no vendor action."""
        return None

    def controller_mode_uri(self, system: Doc) -> str | None:
        """The document that says a controller's pass-through mode where the vendor switches disks
        to pass-through per controller rather than per disk (see ``ControllerState.passthrough_mode``);
        None: per disk, or no way."""
        return None

    def controller_mode(self, doc: Doc) -> tuple[str | None, str]:
        """(mode in effect, URI of the settings object that stages a new one) from that document."""
        return None, ""

    def controller_mode_body(self, doc: Doc, mode: str) -> Doc | None:
        """The PATCH body that stages ``mode`` (applied at the next reset); None: cannot."""
        return None

    # -- assets
    def placement(self, location: Doc) -> Doc | None:
        """Rack placement from a chassis ``Location`` in a vendor's own form (keys site, room, row,
        rack, u), used when ``Location.Placement`` names no rack; None: nothing vendor-specific."""
        return None

    def board_serial(self, chassis: Doc) -> str | None:
        """The mainboard serial a vendor keeps in a chassis' Oem block; None where it has none."""
        return None

    def board_model(self, chassis: Doc) -> str | None:
        """The mainboard model, where a vendor says it outside an Assembly."""
        return None


_REGISTRY: list[Quirks] = []
_BOARD_ONLY: list[Quirks] = []  # vendors with no detection yet whose Oem fields are still read


def register(quirks: Quirks) -> Quirks:
    _REGISTRY.append(quirks)
    return quirks


GENERIC = Quirks()


def _load() -> None:
    if _REGISTRY:
        return
    from dcops.bmc.redfish.oem import dell, gigabyte, h3c, hpe, huawei, inspur, lenovo, supermicro

    for module in (dell, hpe, lenovo, supermicro, huawei, inspur, h3c):
        register(module.QUIRKS)
    _BOARD_ONLY.append(gigabyte.QUIRKS)


def detect(root: Doc | None, system: Doc | None) -> Quirks:
    """The quirks of the vendor named by the first system's Manufacturer, the root's Vendor or
    its Oem keys; the generic (DMTF) behaviour when none matches."""
    _load()
    words = [str((system or {}).get("Manufacturer") or ""), str((root or {}).get("Vendor") or "")]
    oem = (root or {}).get("Oem")
    if isinstance(oem, dict):
        words += list(oem)
    tokens = set(re.split(r"[^a-z0-9]+", " ".join(words).lower()))
    for quirks in _REGISTRY:
        if tokens & set(quirks.markers):
            return quirks
    return GENERIC


def board_of(chassis: Doc) -> tuple[str | None, str | None]:
    """(serial, model) of the mainboard from a chassis' Oem block. Every vendor module is asked,
    whatever vendor the server was detected as: each reads only its own Oem key, and boards of one
    vendor sit in servers of another (a Gigabyte/AMI board is detected as generic)."""
    _load()
    for quirks in (*_REGISTRY, *_BOARD_ONLY):
        serial = quirks.board_serial(chassis)
        if serial:
            return serial, quirks.board_model(chassis)
    return None, None


def by_name(name: str | None) -> Quirks:
    _load()
    return next((q for q in _REGISTRY if q.name == name), GENERIC)
