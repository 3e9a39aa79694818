"""Graphical-console launch as each vendor's BMC offers it, so ``dcops console`` can be tested
end to end: the Redfish resources that hand out a console credential, and the vendor's HTML5
console page, which accepts that credential once (what a browser opening the launch URL reaches).

* Dell iDRAC9: ``Oem/Dell/DelliDRACCardService`` action ``GetKVMSession`` -> TempUsername and
  TempPassword (one-time); page ``/console?username=..&tempUsername=..&tempPassword=..``.
* HPE iLO 5: a Redfish session's X-Auth-Token; page ``/irc.html?sessionkey=TOKEN``.
* Supermicro X12/X13: ``Oem/Supermicro/IKVM`` -> ``URI`` ``/redfish/<random>.IKVM`` (a new one on
  each read, as the capture's random name suggests), the HTML5 iKVM page.
* Huawei iBMC: ``KvmService`` action ``SetKvmKey`` (Id, IdExt, SecretKey, Mode) -> page
  ``/remote_access.asp?authParam=<key>&openway=html5``.
* Lenovo XCC and generic BMCs: ``GraphicalConsole`` (KVMIP) only, as in the captures.

Every manager carries ``GraphicalConsole``/``SerialConsole`` shaped as in its vendor's capture.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dcops.sim.messages import RedfishError
from dcops.sim.writes import WriteResult

if TYPE_CHECKING:
    from dcops.sim.resources import Ctx, Doc, Tree
    from dcops.sim.state import Bmc

# (GraphicalConsole max sessions, SerialConsole connect types or None) from each capture.
_CONSOLES: dict[str, tuple[int, list[str] | None]] = {
    "dell": (6, []), "hpe": (10, ["SSH", "IPMI", "Oem"]), "lenovo": (6, ["IPMI", "SSH"]),
    "supermicro": (4, None), "huawei": (2, ["IPMI"]), "generic": (2, ["IPMI"]),
}


def manager_fields(c: Ctx) -> Doc:
    fl, P = c.fl, c.P
    sessions, serial = _CONSOLES.get(fl.name, (2, ["IPMI"]))
    out: Doc = {"GraphicalConsole": {"ServiceEnabled": True, "MaxConcurrentSessions": sessions,
                                     "ConnectTypesSupported": ["KVMIP"]}}
    if serial is not None:
        out["SerialConsole"] = {"ServiceEnabled": bool(serial), "MaxConcurrentSessions": 1 if serial else 0,
                                "ConnectTypesSupported": serial}
    ssh_port = getattr(c.bmc, "serial_ssh_port", None)
    if ssh_port:
        # Serial console over the BMC's SSH CLI, as iLO 5 3.11 / iLO 6 1.66 and XCC 2.83 advertise it
        # ("SSH" in ConnectTypesSupported); the port is ManagerNetworkProtocol.SSH.Port (r_net_protocol).
        types = list(serial or ["IPMI"])
        out["SerialConsole"] = {"ServiceEnabled": True, "MaxConcurrentSessions": 1,
                                "ConnectTypesSupported": types if "SSH" in types else ["SSH", *types]}
    oem: Doc = {}
    if fl.name == "dell":
        # As in the iDRAC9 6.00 capture: the card service is linked from Links.Oem.Dell.
        out["Links"] = {"Oem": {"Dell": {"DelliDRACCardService": {
            "@odata.id": f"{P.manager}/Oem/Dell/DelliDRACCardService"}}}}
    elif fl.name == "hpe":
        oem = {"Hpe": {"IntegratedRemoteConsole": {"TrustedCertificateRequired": False}}}
    elif fl.name == "supermicro":
        oem = {"Supermicro": {"IKVM": {"@odata.id": f"{P.manager}/Oem/Supermicro/IKVM"}}}
    elif fl.name == "huawei":
        oem = {"Huawei": {"KvmService": {"@odata.id": f"{P.manager}/KvmService"}}}
    if oem:
        out["Oem"] = oem
    return out


def _grant(bmc: Bmc, kind: str, key: str) -> None:
    bmc.kvm_grants[key] = kind


def r_card_service(c: Ctx) -> Doc:
    base = f"{c.P.manager}/Oem/Dell/DelliDRACCardService"
    return c.doc("DelliDRACCardService", base, {
        "Id": "DelliDRACCardService", "Name": "DelliDRACCardService",
        "Actions": {"#DelliDRACCardService.GetKVMSession": {
            "target": f"{base}/Actions/DelliDRACCardService.GetKVMSession"}}})


def get_kvm_session(c: Ctx, body: Any) -> WriteResult:
    if not isinstance(body, dict) or not isinstance(body.get("SessionTypeName"), str):
        raise RedfishError(400, "PropertyMissing", ("SessionTypeName",))
    user, password = f"kvm{secrets.token_hex(4)}", secrets.token_hex(12)
    _grant(c.bmc, "dell", f"{user}:{password}")
    return WriteResult(200, {"TempUsername": user, "TempPassword": password})


def r_ikvm(c: Ctx) -> Doc:
    uri = f"/redfish/{secrets.token_urlsafe(11)}.IKVM"
    _grant(c.bmc, "supermicro", uri)
    return c.doc("IKVM", f"{c.P.manager}/Oem/Supermicro/IKVM", {
        "Id": "IKVM", "Name": "IKVM", "Current interface": c.bmc.kvm_interface, "URI": uri})


def r_kvm_service(c: Ctx) -> Doc:
    base = f"{c.P.manager}/KvmService"
    return c.doc("KvmService", base, {
        "Id": "KvmService", "Name": "KVM Service", "EncryptionEnabled": c.bmc.kvm_encryption,
        "SessionTimeoutMinutes": 30, "MaximumNumberOfSessions": 2, "NumberOfActivatedSessions": 0,
        "Actions": {"#KvmService.SetKvmKey": {"target": f"{base}/Actions/KvmService.SetKvmKey"}}})


def set_kvm_key(c: Ctx, body: Any) -> WriteResult:
    if not isinstance(body, dict):
        raise RedfishError(400, "MalformedJSON")
    for name, kind in (("Id", int), ("IdExt", str), ("SecretKey", str), ("Mode", str)):
        if not isinstance(body.get(name), kind):
            raise RedfishError(400, "PropertyMissing", (name,))
    key = f"{body['Id']:08x}{body['SecretKey']}" if c.bmc.kvm_encryption else str(body["Id"])
    _grant(c.bmc, "huawei", key)
    return WriteResult(200, {"error": {"code": "Base.1.0.Success", "message": "Successfully Completed Request"}})


def add_to_tree(tree: Tree, fl_name: str) -> None:
    from dcops.sim.resources import Node

    P = tree.paths
    if fl_name == "dell":
        base = f"{P.manager}/Oem/Dell/DelliDRACCardService"
        tree.add(base, Node(r_card_service))
        tree.add(f"{base}/Actions/DelliDRACCardService.GetKVMSession", Node(None, post=get_kvm_session))
    elif fl_name == "supermicro":
        tree.add(f"{P.manager}/Oem/Supermicro/IKVM", Node(r_ikvm))
    elif fl_name == "huawei":
        tree.add(f"{P.manager}/KvmService", Node(r_kvm_service))
        tree.add(f"{P.manager}/KvmService/Actions/KvmService.SetKvmKey", Node(None, post=set_kvm_key))


def _page(bmc: Bmc, what: str) -> tuple[int, str]:
    return 200, (f"<!doctype html><title>{bmc.flavour.product} remote console</title>"
                 f"<body data-console='{bmc.flavour.name}' data-host='{bmc.name}'>{what}</body>")


def launch_page(bmc: Bmc, method: str, path: str, query: Mapping[str, str]) -> tuple[int, str] | None:
    """The vendor's HTML5 console page when ``path`` is one (else None): 200 for a valid
    credential (used up, except iLO's session key, which lives as long as the session), 401 else."""
    if method not in ("GET", "HEAD"):
        return None
    args = dict(query)
    fl = bmc.flavour.name
    key: str | None = None
    if fl == "dell" and path == "/console":
        key = f"{args.get('tempUsername')}:{args.get('tempPassword')}"
    elif fl == "hpe" and path.lower() == "/irc.html":
        token = args.get("sessionkey") or args.get("sessionKey") or ""
        if bmc.session_by_token(token) is None:
            return 401, "<!doctype html><title>iLO</title><body>session expired: log in</body>"
        return _page(bmc, "integrated remote console")
    elif fl == "supermicro" and path.startswith("/redfish/") and path.endswith(".IKVM"):
        key = path
    elif fl == "huawei" and path == "/remote_access.asp":
        if args.get("openway") != "html5":
            return 400, "<!doctype html><body>openway must be html5 or java</body>"
        key = args.get("authParam")
    else:
        return None
    if key is None or bmc.kvm_grants.pop(key, None) != fl:
        return 401, "<!doctype html><title>console</title><body>invalid or used console credential</body>"
    return _page(bmc, "HTML5 virtual console")
