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

``plan`` (pure) decides from the Manager document what to do; ``GraphicalLauncher`` does it over
the Redfish adapter (``dcops.bmc.redfish.connector``) and audits ``console.graphical``.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from dcops.errors import DcopsError
from dcops.models import Host, Protocol
from dcops.secrets import Secret, redact

MANAGERS = "/redfish/v1/Managers"
SESSIONS = "/redfish/v1/SessionService/Sessions"


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


class LaunchRefused(DcopsError):
    """No graphical console can be launched for this BMC from dcops (says why)."""


class JavaOnly(LaunchRefused):
    """The BMC offers only a Java (or ActiveX/.NET) console viewer."""


@dataclass(frozen=True)
class Plan:
    """What to do for one BMC: ``vendor`` and the Redfish path the credential comes from."""

    vendor: str
    source: str | None = None


@dataclass(frozen=True)
class Launch:
    host: str
    vendor: str
    url: str  # holds a session key or one-time credential: never logged, audited or stored


def _oem(manager: dict[str, Any], vendor: str) -> dict[str, Any]:
    oem = manager.get("Oem")
    value = oem.get(vendor) if isinstance(oem, dict) else None
    return value if isinstance(value, dict) else {}


def _link(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("@odata.id"), str):
        return str(value["@odata.id"])
    return None


def plan(host: str, manager: dict[str, Any]) -> Plan:
    """Which vendor launch applies to the BMC whose Manager document is ``manager`` (pure).
    Raises JavaOnly / LaunchRefused with the reason when none does."""
    model = str(manager.get("Model") or "")
    dell = _oem(manager, "Dell")
    found = manager.get("Links")
    links: dict[str, Any] = found if isinstance(found, dict) else {}
    dell_links = _oem(links, "Dell")
    if dell or dell_links or "iDRAC" in str(manager.get("@odata.id", "")):
        # Quirk (Dell iDRAC9 6.00): the card service is linked from Links.Oem.Dell, not Oem.Dell.
        service = _link(dell_links.get("DelliDRACCardService")) or _link(dell.get("DelliDRACCardService"))
        if service is None:
            # iDRAC 7/8 have no GetKVMSession: their console is Java/ActiveX (or HTML5 after a login).
            raise JavaOnly(f"{host}: this iDRAC has no GetKVMSession (iDRAC 8 and older): its virtual "
                           "console needs the Java/ActiveX plug-in or a login on the iDRAC's own page")
        return Plan("dell", service)
    if _oem(manager, "Hpe") or _oem(manager, "Hp"):
        if model and model.startswith(("iLO 2", "iLO 3")):
            raise JavaOnly(f"{host}: {model} has only the Java/.NET integrated remote console")
        return Plan("hpe", SESSIONS)
    smc = _oem(manager, "Supermicro")
    if smc:
        ikvm = _link(smc.get("IKVM"))
        if ikvm is None:
            raise JavaOnly(f"{host}: this Supermicro BMC has no Redfish IKVM launch (X10 and older: Java iKVM)")
        return Plan("supermicro", ikvm)
    huawei = _oem(manager, "Huawei")
    if huawei:
        kvm = _link(huawei.get("KvmService"))
        if kvm is None:
            raise LaunchRefused(f"{host}: this iBMC has no KvmService (firmware too old for a launch from dcops)")
        return Plan("huawei", kvm)
    if _oem(manager, "Lenovo") or "XClarity" in model or model.startswith("IMM"):
        if model.startswith("IMM"):
            raise JavaOnly(f"{host}: {model} has only the Java (Avocent) remote console")
        raise LaunchRefused(f"{host}: Lenovo XCC publishes no launch URL that takes a session; open the XCC "
                            "page and use Remote Console there (the password is not handed to the browser)")
    graphical = manager.get("GraphicalConsole")
    types = graphical.get("ConnectTypesSupported") if isinstance(graphical, dict) else None
    if types:
        raise LaunchRefused(f"{host}: GraphicalConsole offers {', '.join(map(str, types))} only, which has no "
                            "standard browser launch; dcops knows the vendor launches of iDRAC, iLO, "
                            "Supermicro and iBMC")
    raise LaunchRefused(f"{host}: the BMC offers no graphical console over Redfish")


def dell_url(base: str, username: str, temp_user: str, temp_password: str) -> str:
    """iDRAC9's HTML5 virtual console with one-time credentials (Dell's GetKVMSession scripts)."""
    query = urlencode({"username": username, "tempUsername": temp_user, "tempPassword": temp_password})
    return f"{base}/console?{query}"


def hpe_url(base: str, session_token: str) -> str:
    """iLO 5's integrated remote console with a session key (an X-Auth-Token). Field reports say
    iLO 6 1.76 stopped honouring ``sessionkey`` in the URL; not verified here."""
    return f"{base}/irc.html?sessionkey={quote(session_token, safe='')}"


def supermicro_url(base: str, uri: str) -> str:
    return f"{base}{uri}" if uri.startswith("/") else f"{base}/{uri}"


def huawei_key(key_id: int, secret_key: str, encrypted: bool) -> str:
    """The launch key after SetKvmKey: the Id alone, or (EncryptionEnabled) the Id as 8 hex digits
    followed by the secret key."""
    return f"{key_id:08x}{secret_key}" if encrypted else str(key_id)


def huawei_url(base: str, key: str) -> str:
    return f"{base}/remote_access.asp?{urlencode({'authParam': key, 'lp': 'en', 'openway': 'html5'})}"


def _obtain(conn: Any, base: str, host: str, username: str, password: Secret, step: Plan) -> str:
    """Run the vendor's step over the Redfish connector; returns the launch URL."""
    if step.vendor == "dell":
        service = conn.get(step.source)
        action = (service.get("Actions") or {}).get("#DelliDRACCardService.GetKVMSession") or {}
        target = action.get("target") or f"{step.source}/Actions/DelliDRACCardService.GetKVMSession"
        resp = conn.act("POST", target, {"SessionTypeName": "HTML5"}, "GetKVMSession")
        body = resp.body if isinstance(resp.body, dict) else {}
        if not body.get("TempUsername") or not body.get("TempPassword"):
            raise LaunchRefused(f"{host}: GetKVMSession answered without temporary credentials")
        return dell_url(base, username, str(body["TempUsername"]), str(body["TempPassword"]))
    if step.vendor == "hpe":
        # A session of its own for the browser (the connector's session is logged out after).
        resp = conn.request("POST", SESSIONS, {"UserName": username, "Password": password.reveal()})
        token = resp.header("X-Auth-Token")
        if resp.status not in (200, 201) or not token:
            raise LaunchRefused(f"{host}: iLO refused a console session (HTTP {resp.status})")
        return hpe_url(base, token)
    if step.vendor == "supermicro":
        ikvm = conn.get(step.source)
        interface = str(ikvm.get("Current interface") or "")
        if "JAVA" in interface.upper():
            raise JavaOnly(f"{host}: the BMC's iKVM is set to {interface!r} (Java only); switch it to HTML 5 "
                           "(PATCH Oem/Supermicro/IKVM) to open it from dcops")
        uri = ikvm.get("URI")
        if not isinstance(uri, str) or not uri:
            raise LaunchRefused(f"{host}: the IKVM resource gave no launch URI")
        return supermicro_url(base, uri)
    if step.vendor == "huawei":
        service = conn.get(step.source)
        action = (service.get("Actions") or {}).get("#KvmService.SetKvmKey") or {}
        target = action.get("target") or f"{step.source}/Actions/KvmService.SetKvmKey"
        key_id = 1 + secrets.randbelow(100_000)
        secret_key = secrets.token_hex(32)
        conn.act("POST", target, {"Id": key_id, "IdExt": secrets.token_hex(16), "SecretKey": secret_key,
                                  "Mode": "Shared"}, "SetKvmKey")
        return huawei_url(base, huawei_key(key_id, secret_key, bool(service.get("EncryptionEnabled"))))
    raise LaunchRefused(f"{host}: no launch for vendor {step.vendor}")


def first_manager(conn: Any) -> dict[str, Any]:
    managers = conn.get(MANAGERS)
    members = managers.get("Members") or []
    path = _link(members[0]) if members else None
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
        step = plan(host.name, first_manager(conn))
        url = _obtain(conn, base, host.name, endpoint.username, password, step)
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
