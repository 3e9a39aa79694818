"""The requests dcops sends to a Redfish service: action targets and bodies (reset, boot
override, virtual media, BIOS settings, volumes, hot spares, firmware update). Pure functions of
the documents the BMC gave; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dcops.bmc.redfish.docs import Doc, link, text
from dcops.bmc.redfish.keys import ALLOWABLE, BOOT_TARGETS, ODATA_ID, RESET_TYPES, SETTINGS_APPLY_TIME


def session_body(username: str, password: str) -> Doc:
    """The login: POST to SessionService/Sessions (the password only ever travels here)."""
    return {"UserName": username, "Password": password}


def reset_target(system: Doc) -> tuple[str, list[str]]:
    """The ComputerSystem.Reset action URI and its allowed ResetType values (empty: not said)."""
    action = (system.get("Actions") or {}).get("#ComputerSystem.Reset") or {}
    target = action.get("target") or f"{system.get(ODATA_ID, '')}/Actions/ComputerSystem.Reset"
    allowed = action.get(f"ResetType{ALLOWABLE}") or []
    return str(target), [str(a) for a in allowed]


def choose_reset_type(operation: str, allowed: list[str]) -> str:
    """The first reset type for ``operation`` the BMC allows (the first candidate when it lists none)."""
    candidates = RESET_TYPES[operation]
    for candidate in candidates:
        if not allowed or candidate in allowed:
            return candidate
    raise ValueError(f"the BMC allows none of {', '.join(candidates)} (it allows {', '.join(allowed)})")


def reset_body(reset_type: str) -> Doc:
    return {"ResetType": reset_type}


def boot_override_body(target: str, *, once: bool = True, mode: str | None = None) -> Doc:
    boot: Doc = {"BootSourceOverrideTarget": BOOT_TARGETS[target],
                 "BootSourceOverrideEnabled": "Once" if once else "Continuous"}
    if mode:
        boot["BootSourceOverrideMode"] = mode
    return {"Boot": boot}


def boot_override(system: Doc) -> tuple[str | None, str | None]:
    boot = system.get("Boot") or {}
    return text(boot, "BootSourceOverrideTarget"), text(boot, "BootSourceOverrideEnabled")


def virtual_media_links(system: Doc, manager: Doc) -> list[str]:
    """Where virtual media lives: under the System (newer) or the Manager (older)."""
    return [u for u in (link(system, "VirtualMedia"), link(manager, "VirtualMedia")) if u]


def media_types(doc: Doc) -> list[str]:
    return [str(t) for t in doc.get("MediaTypes") or []]


def media_state(doc: Doc) -> tuple[bool, str | None]:
    return bool(doc.get("Inserted")), text(doc, "Image")


def insert_media_action(doc: Doc) -> str:
    action = (doc.get("Actions") or {}).get("#VirtualMedia.InsertMedia") or {}
    return str(action.get("target") or f"{doc.get(ODATA_ID, '')}/Actions/VirtualMedia.InsertMedia")


def eject_media_action(doc: Doc) -> str:
    action = (doc.get("Actions") or {}).get("#VirtualMedia.EjectMedia") or {}
    return str(action.get("target") or f"{doc.get(ODATA_ID, '')}/Actions/VirtualMedia.EjectMedia")


def insert_media_body(image: str, *, full: bool = True) -> Doc:
    body: Doc = {"Image": image}
    if full:
        body.update({"Inserted": True, "WriteProtected": True})
    return body


def media_trust(doc: Doc, image: str, ca_pem: str | None, imported: Sequence[str]) -> tuple[str | None, bool]:
    """What makes a virtual media slot verify an https image against ``ca_pem`` (DMTF VirtualMedia
    v1_4+ ``VerifyCertificate`` and ``Certificates``): (the Certificates collection to POST the CA
    to, or None when one of ``imported`` is already it; whether to PATCH VerifyCertificate true).
    (None, False) for plain HTTP, no CA, or a slot without both properties: iDRAC 9 and iLO keep
    their virtual-media CA in an OEM store, Supermicro X13 lists ``VerifyCertificate: null`` and
    no collection; those BMCs mount without verifying."""
    link = str((doc.get("Certificates") or {}).get(ODATA_ID) or "")
    if not ca_pem or not image.lower().startswith("https://") or not link or "VerifyCertificate" not in doc:
        return None, False
    mine = _der(ca_pem)
    post = None if mine is not None and any(_der(p) == mine for p in imported) else link
    return post, doc.get("VerifyCertificate") is not True


def _der(pem: str) -> bytes | None:
    import ssl

    try:
        return ssl.PEM_cert_to_DER_cert(pem.strip().split("-----END CERTIFICATE-----")[0]
                                        + "-----END CERTIFICATE-----")
    except ValueError:
        return None


def settings_body(values: Mapping[str, Any], apply_time: str | None) -> Doc:
    """The PATCH of a settings object (BIOS): attributes plus ``@Redfish.SettingsApplyTime``."""
    body: Doc = {"Attributes": dict(values)}
    if apply_time is not None:
        body[SETTINGS_APPLY_TIME] = {"ApplyTime": apply_time}
    return body


def volume_body(raid_type: str, drive_uris: Sequence[str], *, capacity_bytes: int | None = None,
                name: str | None = None, read_policy: str | None = None, write_policy: str | None = None,
                strip_size_bytes: int | None = None, apply_time: str | None = None) -> Doc:
    """A POST to a Volumes collection. No ``CapacityBytes``: the controller makes it as large as
    the drives allow ("max"). ``apply_time``: ``@Redfish.OperationApplyTime`` (``OnReset``)."""
    body: Doc = {"RAIDType": raid_type, "Links": {"Drives": [{ODATA_ID: u} for u in drive_uris]}}
    if strip_size_bytes:
        body["StripSizeBytes"] = int(strip_size_bytes)
    if apply_time:
        body["@Redfish.OperationApplyTime"] = apply_time
    if name:
        body["Name"] = name
    if capacity_bytes:
        body["CapacityBytes"] = int(capacity_bytes)
    if read_policy:
        body["ReadCachePolicy"] = read_policy
    if write_policy:
        body["WriteCachePolicy"] = write_policy
    return body


def volume_patch_body(*, name: str | None = None, read_policy: str | None = None,
                      write_policy: str | None = None) -> Doc:
    """A PATCH of a Volume: its name (``DisplayName`` and ``Name``: BMCs show one or the other) and
    cache policies (Redfish values, see ``keys.READ_POLICY``/``WRITE_POLICY``)."""
    body: Doc = {}
    if name is not None:
        body["DisplayName"] = name
        body["Name"] = name
    if read_policy:
        body["ReadCachePolicy"] = read_policy
    if write_policy:
        body["WriteCachePolicy"] = write_policy
    return body


def hotspare_body(value: str) -> Doc:
    return {"HotspareType": value}


def simple_update_target(service: Doc) -> str:
    action = (service.get("Actions") or {}).get("#UpdateService.SimpleUpdate") or {}
    return str(action.get("target") or f"{service.get(ODATA_ID, '/redfish/v1/UpdateService')}"
                                       "/Actions/UpdateService.SimpleUpdate")


def simple_update_body(image: str, targets: Sequence[str] = (), protocol: str | None = None) -> Doc:
    body: Doc = {"ImageURI": image}
    if targets:
        body["Targets"] = list(targets)
    if protocol:
        body["TransferProtocol"] = protocol
    return body
