"""Vendor quirks: one module per vendor, nothing vendor-specific anywhere else.

Each module defines a ``Quirks`` subclass overriding only the hooks its vendor needs; ``detect``
picks one from the service root and the first system, ``for_manager`` from a Manager document
(the consoles: SSH serial command, graphical launch). A quirk carries a comment naming the vendor
and the symptom, and arrives with a fixture and a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dcops.errors import DcopsError
from dcops.observation import ComponentKind, FirmwareItem, Identity, SensorKind
from dcops.secrets import Secret

Doc = dict[str, Any]

# Where a Redfish session is created (a browser console of its own needs one on some vendors).
SESSIONS = "/redfish/v1/SessionService/Sessions"


class KvmRefused(DcopsError):
    """No graphical console can be launched for this BMC from dcops (says why)."""


class KvmJavaOnly(KvmRefused):
    """The BMC offers only a Java (or ActiveX/.NET) console viewer."""


@dataclass(frozen=True)
class KvmPlan:
    """A vendor's graphical-console launch: ``vendor`` and the Redfish path the one-time
    credential comes from."""

    vendor: str
    source: str | None = None


def manager_oem(doc: Doc, vendor: str) -> Doc:
    """``doc.Oem.<vendor>`` as a dict ({} when absent)."""
    oem = doc.get("Oem")
    value = oem.get(vendor) if isinstance(oem, dict) else None
    return value if isinstance(value, dict) else {}


def odata_link(value: Any) -> str | None:
    """The ``@odata.id`` of a link object, None when ``value`` is not one."""
    if isinstance(value, dict) and isinstance(value.get("@odata.id"), str):
        return str(value["@odata.id"])
    return None


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

    # -- consoles
    #: Oem keys of a Manager document (lower case) that name this vendor's BMC
    manager_oem_keys: tuple[str, ...] = ()
    #: words of a Manager's Model/Manufacturer/FirmwareVersion/Name (lower case) naming this vendor
    manager_words: tuple[str, ...] = ()
    #: the BMC CLI command that attaches an SSH session to the host's serial port (None: unknown)
    serial_command: str | None = None
    #: the SSH port itself is the serial console (no CLI in between)
    console_port_is_console: bool = False

    def kvm_plan(self, host: str, manager: Doc) -> KvmPlan | None:
        """This vendor's graphical-console launch for the BMC whose Manager is ``manager``; None:
        not this vendor's BMC. Raises KvmJavaOnly / KvmRefused with the reason when it is, and no
        launch from dcops is possible."""
        return None

    def kvm_url(self, conn: Any, base: str, host: str, username: str, password: Secret, plan: KvmPlan) -> str:
        """Obtain the one-time credential over ``conn`` (the Redfish connector) and return the
        launch URL (it carries a session key or temporary credential, never the password)."""
        raise KvmRefused(f"{host}: no launch for vendor {plan.vendor}")

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
_CONSOLE_ONLY: list[Quirks] = []  # BMC firmware told apart only for its console (OpenBMC)


def register(quirks: Quirks) -> Quirks:
    _REGISTRY.append(quirks)
    return quirks


GENERIC = Quirks()


def _load() -> None:
    if _REGISTRY:
        return
    from dcops.bmc.redfish.oem import dell, gigabyte, h3c, hpe, huawei, inspur, lenovo, openbmc, supermicro

    for module in (dell, hpe, lenovo, supermicro, huawei, inspur, h3c):
        register(module.QUIRKS)
    _BOARD_ONLY.append(gigabyte.QUIRKS)
    _CONSOLE_ONLY.append(openbmc.QUIRKS)


def for_manager(manager: Doc, system: Doc | None = None) -> Quirks:
    """The quirks of the BMC whose Manager document is ``manager``: its Oem keys first, then words
    of its Model, Manufacturer, FirmwareVersion and Name (and its system's); generic when none."""
    candidates = console_vendors()
    oem = manager.get("Oem")
    for key in oem if isinstance(oem, dict) else ():
        found = next((q for q in candidates if str(key).lower() in q.manager_oem_keys), None)
        if found is not None:
            return found
    words = " ".join(str(doc.get(k) or "") for doc in (manager, system or {})
                     for k in ("Model", "Manufacturer", "FirmwareVersion", "Name")).lower()
    for quirks in candidates:
        if any(word in words for word in quirks.manager_words):
            return quirks
    return GENERIC


def console_vendors() -> tuple[Quirks, ...]:
    """Every vendor told apart by its Manager (``for_manager``)."""
    _load()
    return (*_REGISTRY, *_CONSOLE_ONLY)


def kvm_plan(host: str, manager: Doc) -> tuple[Quirks, KvmPlan] | None:
    """The vendor launch for this Manager, asked of every vendor in turn (each looks only at its
    own Oem block and names); None when no vendor claims the BMC. Raises as ``Quirks.kvm_plan``."""
    _load()
    for quirks in _REGISTRY:
        plan = quirks.kvm_plan(host, manager)
        if plan is not None:
            return quirks, plan
    return None


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
