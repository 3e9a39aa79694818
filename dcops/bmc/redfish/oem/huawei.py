"""Huawei iBMC (and xFusion, its successor)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from dcops.bmc.redfish.oem import KvmPlan, KvmRefused, Quirks, manager_oem, odata_link, oem_text
from dcops.secrets import Secret

Doc = dict[str, Any]


class HuaweiQuirks(Quirks):
    name = "huawei"
    markers = ("huawei", "xfusion")

    # -- consoles
    manager_oem_keys = ("huawei",)
    manager_words = ("ibmc", "huawei")
    # iBMC CLI "ipmcset -t sol -d activate -v 1 0" (SOL on the system serial port, shared mode), from
    # iBMC CLI guides; the iBMC 3.12 capture lists only "IPMI", so auto keeps SOL there.
    serial_command = "ipmcset -t sol -d activate -v 1 0"

    def kvm_plan(self, host: str, manager: Doc) -> KvmPlan | None:
        huawei = manager_oem(manager, "Huawei")
        if not huawei:
            return None
        kvm = odata_link(huawei.get("KvmService"))
        if kvm is None:
            raise KvmRefused(f"{host}: this iBMC has no KvmService (firmware too old for a launch from dcops)")
        return KvmPlan("huawei", kvm)

    def kvm_url(self, conn: Any, base: str, host: str, username: str, password: Secret, plan: KvmPlan) -> str:
        service = conn.get(plan.source)
        action = (service.get("Actions") or {}).get("#KvmService.SetKvmKey") or {}
        target = action.get("target") or f"{plan.source}/Actions/KvmService.SetKvmKey"
        key_id = 1 + secrets.randbelow(100_000)
        secret_key = secrets.token_hex(32)
        conn.act("POST", target, {"Id": key_id, "IdExt": secrets.token_hex(16), "SecretKey": secret_key,
                                  "Mode": "Shared"}, "SetKvmKey")
        return kvm_console_url(base, kvm_key(key_id, secret_key, bool(service.get("EncryptionEnabled"))))

    # Quirk (Huawei iBMC 3.x): the Storage collection lives at Systems/1/Storages (plural) and
    # drives are linked from Chassis/1/Drives; both are reached by following links, not by
    # building paths, so nothing vendor-specific is needed in the reader.
    # Quirk (Huawei iBMC 3.x, Redfish 1.0.2): no UpdateService.FirmwareInventory; firmware
    # versions are only on the components (recorded as "could not read").

    def board_serial(self, chassis: Doc) -> str | None:
        # Quirk (Huawei iBMC): the mainboard serial is Oem.Huawei.BoardSerialNumber of the chassis.
        # (Not in the partial capture we have; tested with a document shaped like iBMC 5.x's.)
        return oem_text(chassis, "Huawei", "BoardSerialNumber")


QUIRKS = HuaweiQuirks()


def kvm_key(key_id: int, secret_key: str, encrypted: bool) -> str:
    """The launch key after SetKvmKey: the Id alone, or (EncryptionEnabled) the Id as 8 hex digits
    followed by the secret key."""
    return f"{key_id:08x}{secret_key}" if encrypted else str(key_id)


def kvm_console_url(base: str, key: str) -> str:
    return f"{base}/remote_access.asp?{urlencode({'authParam': key, 'lp': 'en', 'openway': 'html5'})}"
