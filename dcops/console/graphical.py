"""Graphical (KVM) console launch: per vendor, the gateway obtains a BMC session or a one-time
console credential and builds the URL of the vendor's HTML5 console from it. The BMC password is
used only here, server-side, to obtain that credential; the browser gets the URL (a session key
or a temporary credential that the BMC ties to this launch), never the password.

Vendors (launch URLs as their documentation and tools use them; see docs/console.md):

| vendor | credential obtained | URL | Java only when |
|---|---|---|---|
| Dell iDRAC9 | ``DelliDRACCardService.GetKVMSession`` -> TempUsername/TempPassword | ``/console?username=U&tempUsername=..&tempPassword=..`` | iDRAC 6 and older; iDRAC 7/8 without GetKVMSession |
| HPE iLO 5 | a Redfish session (X-Auth-Token) | ``/irc.html?sessionkey=TOKEN`` | iLO 3 and older (Java/.NET IRC) |
| Supermicro X11+ | ``Oem/Supermicro/IKVM`` -> one-time ``URI`` | that URI | "Current interface": "JAVA plug-in" |
| Huawei iBMC | ``KvmService.SetKvmKey`` (Id, IdExt, SecretKey, Mode) | ``/remote_access.asp?authParam=KEY&lp=en&openway=html5`` | -- |
| Lenovo XCC | -- (no launch URL that takes a session is documented) | refused, says so | IMM2 (Java viewer) |
| other Redfish | ``GraphicalConsole`` lists KVMIP only: no standard browser launch | refused, says so | -- |

Each vendor's rules (which BMCs, which credential, which URL) live in its module under
``dcops.bmc.redfish.oem`` (``kvm_plan``, ``kvm_url``); ``plan`` (pure) asks them from the Manager
document, ``GraphicalLauncher`` runs the launch over the Redfish adapter
(``dcops.bmc.redfish.connector``) and audits ``console.graphical``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from dcops.bmc.redfish import oem
from dcops.bmc.redfish.oem import SESSIONS, KvmJavaOnly, KvmPlan, KvmRefused, odata_link
from dcops.models import Host, Protocol
from dcops.secrets import redact

__all__ = ["SESSIONS", "GraphicalLauncher", "JavaOnly", "Launch", "LaunchRefused", "Plan", "launch_sync",
           "offers_html5", "plan"]

MANAGERS = "/redfish/v1/Managers"

# What the web UI and tests catch; the vendor modules raise them (dcops.bmc.redfish.oem).
LaunchRefused = KvmRefused
JavaOnly = KvmJavaOnly
Plan = KvmPlan


# The book's vendor names (lower case, as written: "Dell Inc.", "HPE", "Hewlett Packard Enterprise")
# of the vendors ``plan`` has an HTML5 launch for.
HTML5_VENDORS = ("dell", "hpe", "hewlett packard enterprise", "hewlett-packard", "hp", "supermicro",
                 "super micro", "huawei")


def offers_html5(host: Host) -> bool:
    """Whether the host page offers a graphical console (pure): a Redfish BMC of a vendor with an
    HTML5 launch, as the book says. The launch itself still asks the BMC (old firmware may be
    Java only and is refused with the reason then)."""
    if Protocol(host.bmc.protocol) is Protocol.IPMI:  # the launch goes over Redfish (redfish or auto)
        return False
    vendor = (host.vendor or "").strip().lower()
    return any(vendor == v or vendor.startswith((v + " ", v + ",")) for v in HTML5_VENDORS)


@dataclass(frozen=True)
class Launch:
    host: str
    vendor: str
    url: str  # holds a session key or one-time credential: never logged, audited or stored


def plan(host: str, manager: dict[str, Any]) -> Plan:
    """Which vendor launch applies to the BMC whose Manager document is ``manager`` (pure; each
    vendor module decides for its own BMCs). Raises JavaOnly / LaunchRefused with the reason when
    none does."""
    return _choose(host, manager)[1]


def _choose(host: str, manager: dict[str, Any]) -> tuple[oem.Quirks, Plan]:
    found = oem.kvm_plan(host, manager)
    if found is not None:
        return found
    graphical = manager.get("GraphicalConsole")
    types = graphical.get("ConnectTypesSupported") if isinstance(graphical, dict) else None
    if types:
        raise LaunchRefused(f"{host}: GraphicalConsole offers {', '.join(map(str, types))} only, which has no "
                            "standard browser launch; dcops knows the vendor launches of iDRAC, iLO, "
                            "Supermicro and iBMC")
    raise LaunchRefused(f"{host}: the BMC offers no graphical console over Redfish")


def first_manager(conn: Any) -> dict[str, Any]:
    managers = conn.get(MANAGERS)
    members = managers.get("Members") or []
    path = odata_link(members[0]) if members else None
    if path is None:
        raise LaunchRefused(f"{conn.host}: the BMC lists no manager")
    doc: dict[str, Any] = conn.get(path)
    return doc


def launch_sync(host: Host, timeouts: Any = None) -> Launch:
    """Obtain the credential and build the launch URL for ``host`` (blocking)."""
    from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
    from dcops.secrets import resolve

    endpoint = host.bmc
    password = resolve(endpoint.password_ref or "plain:", what=f"{host.name}: BMC password")
    base = endpoint.url()
    with RedfishConnector(host.name, endpoint, password, timeouts or Timeouts()) as conn:
        quirks, step = _choose(host.name, first_manager(conn))
        url = quirks.kvm_url(conn, base, host.name, endpoint.username, password, step)
    if password.reveal() and password.reveal() in url:
        raise LaunchRefused(f"{host.name}: the launch URL would carry the BMC password; refused")
    return Launch(host.name, step.vendor, url)


class GraphicalLauncher:
    """Launches from the web UI: runs ``launch_sync`` in a worker thread and audits each launch
    (``console.graphical``: who, host, vendor, or why it could not; never the URL)."""

    def __init__(self, store: Any, timeouts: Any = None) -> None:
        self.store = store
        self.timeouts = timeouts

    async def launch(self, host: Host, *, user: str, web: bool) -> Launch:
        from dcops.store import audit

        principal = f"web:{user}" if web else None  # as the web UI's own actions name their user
        try:
            launch = await asyncio.to_thread(launch_sync, host, self.timeouts)
        except Exception as exc:
            result = "java only" if isinstance(exc, JavaOnly) else "failed"
            await asyncio.to_thread(audit.record, self.store, "console.graphical", host=host.name, result=result,
                                    details=redact(str(exc))[:500], after={"user": user}, on_behalf_of=principal)
            raise
        await asyncio.to_thread(audit.record, self.store, "console.graphical", host=host.name, result="ok",
                                details=f"{launch.vendor} HTML5 console", after={"user": user, "vendor": launch.vendor},
                                on_behalf_of=principal)
        return launch
