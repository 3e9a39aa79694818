"""BIOS over Redfish: current attributes, the attribute registry, pending settings, and staging
changes in the settings object with the apply time the BMC supports and its ETag.

Redfish keeps BIOS values in two resources: ``Systems/<id>/Bios`` (what runs) and its settings
object (``@Redfish.Settings.SettingsObject``: ``Bios/Settings`` on most BMCs, ``Bios/Pending`` on
Lenovo XCC, ``Bios/SD`` on Supermicro, ``bios/settings/`` on HPE iLO). A PATCH goes to the
settings object and applies at the next host reset. Some BMCs repeat every attribute in the
settings object, others only the staged ones: pending values are those that differ from current.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from dcops.bmc import base
from dcops.bmc.redfish.bodies import settings_body
from dcops.bmc.redfish.docs import Doc, FetchError, etag_of, link
from dcops.bmc.redfish.keys import (
    APPLY_TIMES,
    MEMBERS,
    ODATA_ID,
    ROOT,
    SETTINGS,
    SETTINGS_OBJECT,
    SUPPORTED_APPLY_TIMES,
)
from dcops.bmc.redfish.shared import Shared
from dcops.bmc.state import BiosState, RegistryAttribute, StagedSettings
from dcops.errors import ApplyError

log = logging.getLogger(__name__)

# Registries are the same for every server of a model and BIOS version: read once per process.
_registries: dict[str, Mapping[str, RegistryAttribute] | None] = {}
_registries_lock = threading.Lock()


def parse_registry(doc: Doc) -> dict[str, RegistryAttribute]:
    """``AttributeRegistry.RegistryEntries.Attributes`` -> name -> RegistryAttribute."""
    entries = doc.get("RegistryEntries")
    attrs = entries.get("Attributes") if isinstance(entries, dict) else None
    out: dict[str, RegistryAttribute] = {}
    for a in attrs or []:
        if not isinstance(a, dict) or not a.get("AttributeName"):
            continue
        values = tuple(str(v.get("ValueName")) for v in a.get("Value") or [] if isinstance(v, dict))
        out[str(a["AttributeName"])] = RegistryAttribute(
            str(a["AttributeName"]), str(a.get("Type") or "String"), values, a.get("LowerBound"),
            a.get("UpperBound"), a.get("MaxLength"), bool(a.get("ReadOnly") or a.get("Immutable")),
            bool(a.get("ResetRequired", True)))
    return out


def pending_of(current: Mapping[str, Any], staged: Mapping[str, Any]) -> dict[str, Any]:
    """Staged values that differ from the current ones."""
    return {k: v for k, v in staged.items() if k not in current or current[k] != v}


def choose_apply_time(supported: tuple[str, ...], wanted: str | None) -> str | None:
    """The apply time to send: ``wanted`` when the BMC lists it (ApplyError otherwise), else
    ``OnReset`` when the BMC lists it, else none (the BMC applies staged values at the next reset
    anyway). A maintenance-window time is never chosen unasked: the reset dcops does next would
    not apply the values."""
    if wanted is not None:
        if supported and wanted not in supported:
            raise ApplyError(f"apply time {wanted} is not supported (the BMC supports {', '.join(supported)})")
        return wanted
    return APPLY_TIMES[0] if APPLY_TIMES[0] in supported else None


class RedfishBios(base.BiosInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared) -> None:
        self.s = shared

    # ------------------------------------------------------------------ reading
    def _uri(self) -> str:
        return link(self.s.system(), "Bios") or f"{self.s.system_uri()}/Bios"

    def _docs(self) -> tuple[Doc, str, Doc | None, str | None]:
        uri = self._uri()
        bios = self.s.conn.get(uri)
        settings = bios.get(SETTINGS)
        settings_uri = link(settings, SETTINGS_OBJECT) if isinstance(settings, dict) else None
        settings_doc = None
        if settings_uri:
            try:
                settings_doc = self.s.conn.get(settings_uri)
            except FetchError as exc:
                log.info("%s: BIOS settings object: %s", self.s.host(), exc)
        return bios, uri, settings_doc, settings_uri

    def attributes(self) -> Mapping[str, Any]:
        attrs = self.s.conn.get(self._uri()).get("Attributes")
        return dict(attrs) if isinstance(attrs, dict) else {}

    def read(self, *, registry: bool = True) -> BiosState:
        bios, uri, settings_doc, settings_uri = self._docs()
        current = _obj(bios.get("Attributes"))
        staged = _obj((settings_doc or {}).get("Attributes"))
        settings = _obj(bios.get(SETTINGS))
        times = tuple(str(t) for t in settings.get(SUPPORTED_APPLY_TIMES) or [])
        messages = tuple(str(m.get("Message") or m.get("MessageId")) for m in settings.get("Messages") or []
                         if isinstance(m, dict) and not str(m.get("MessageId", "")).endswith("Success"))
        registry_id = str(bios.get("AttributeRegistry") or "") or None
        return BiosState(dict(current), pending_of(current, staged),
                         self._registry(registry_id) if registry else None, times, uri, settings_uri,
                         registry_id, messages, settings.get("Time") if isinstance(settings.get("Time"), str)
                         else None)

    def registry(self) -> Mapping[str, RegistryAttribute] | None:
        registry_id = str(self.s.conn.get(self._uri()).get("AttributeRegistry") or "") or None
        return self._registry(registry_id)

    def _registry(self, registry_id: str | None) -> Mapping[str, RegistryAttribute] | None:
        if not registry_id:
            return None
        with _registries_lock:
            if registry_id in _registries:
                return _registries[registry_id]
        result: Mapping[str, RegistryAttribute] | None = None
        try:
            result = self._fetch_registry(registry_id)
        except (FetchError, ApplyError) as exc:
            log.info("%s: no attribute registry %s: %s", self.s.host(), registry_id, exc)
        with _registries_lock:
            _registries[registry_id] = result
        return result

    def _fetch_registry(self, registry_id: str) -> Mapping[str, RegistryAttribute] | None:
        coll = self.s.conn.get(link(self.s.root(), "Registries") or f"{ROOT}/Registries")
        uris = [str(m.get(ODATA_ID) or "") for m in coll.get(MEMBERS) or [] if isinstance(m, dict)]
        # The registry file is named after the registry id (BiosAttributeRegistry.v1_0_0), or at
        # least after its prefix (Dell: BiosAttributeRegistry.v1_0_3 under "BiosAttributeRegistry").
        target = next((u for u in uris if u.rstrip("/").rsplit("/", 1)[-1].lower() == registry_id.lower()), None) \
            or next((u for u in uris if registry_id.split(".")[0].lower() in u.lower()), None)
        if target is None:
            return None
        entry = self.s.conn.get(target)
        location = next((loc.get("Uri") for loc in entry.get("Location") or []
                         if isinstance(loc, dict) and loc.get("Uri")), None)
        if not location:
            return None
        return parse_registry(self.s.conn.get(str(location))) or None

    # ------------------------------------------------------------------ writing
    def set_attributes(self, values: Mapping[str, Any]) -> None:
        self.stage(values)

    def stage(self, values: Mapping[str, Any], *, apply_time: str | None = None) -> StagedSettings:
        if not values:
            raise ApplyError(f"{self.s.host()}: bios set: no attributes given")
        bios, uri, settings_doc, settings_uri = self._docs()
        target = settings_uri or f"{uri}/Settings"
        supported = tuple(str(t) for t in _obj(bios.get(SETTINGS)).get(SUPPORTED_APPLY_TIMES) or [])
        try:
            when = choose_apply_time(supported, apply_time)
        except ApplyError as exc:
            raise ApplyError(f"{self.s.host()}: bios set: {exc}") from None
        body = settings_body(values, when)
        # The ETag of the settings object (not of Bios): HPE iLO refuses a PATCH without it (428).
        etag = etag_of(settings_doc) if settings_doc else None
        resp = self.s.write("PATCH", target, body, "bios set", etag=etag)
        job = self.s.quirks().after_bios_patch(self.s.conn, target, when, resp)
        return StagedSettings(target, when, dict(values), job)

    def clear_pending(self) -> None:
        bios, uri, settings_doc, settings_uri = self._docs()
        self.s.quirks().clear_bios_jobs(self.s.conn)
        if not settings_doc or not settings_uri:
            return
        current = _obj(bios.get("Attributes"))
        pending = pending_of(current, _obj(settings_doc.get("Attributes")))
        if pending:
            # Setting the staged values back to the current ones empties what is pending.
            self.s.conn.act("PATCH", settings_uri, {"Attributes": {k: current.get(k) for k in pending}},
                            "bios clear pending", etag=etag_of(settings_doc))


def _obj(value: Any) -> Doc:
    return value if isinstance(value, dict) else {}
