"""Service-side documents: service root, OData, managers, log services and SEL entries, sessions,
accounts, update service and firmware inventory, tasks, and the BIOS attribute registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcops.sim import identity, kvm
from dcops.sim.bios import registry_document
from dcops.sim.profiles import HardwareProfile
from dcops.sim.resources import Ctx, Doc, Node, V, link, norm, status
from dcops.sim.state import iso

if TYPE_CHECKING:
    from dcops.sim.resources import Tree
    from dcops.sim.state import Bmc


def r_version(c: Ctx) -> Doc:
    return {"v1": "/redfish/v1/"}


def r_root(c: Ctx) -> Doc:
    b, fl, P = c.bmc, c.fl, c.P
    expand: Doc = {"ExpandAll": fl.expand_all, "Levels": fl.expand_levels > 0, "Links": fl.expand_all,
                   "NoLinks": fl.expand_levels > 0, "MaxLevels": max(fl.expand_levels, 1)}
    body: Doc = {
        "Id": "RootService", "Name": "Root Service", "RedfishVersion": fl.redfish_version,
        "UUID": identity.system_uuid(b.seed, b.index + 1_000_000),
        "Product": c.p.model if fl.name == "hpe" else fl.product, "Vendor": fl.vendor,
        "ProtocolFeaturesSupported": {
            "ExpandQuery": expand if fl.expand_levels > 0 else {"ExpandAll": False, "Levels": False,
                                                                "Links": False, "NoLinks": False},
            "SelectQuery": fl.select_query, "FilterQuery": False, "OnlyMemberQuery": False, "ExcerptQuery": False,
            "TopSkipQuery": fl.top_skip,
        },
        "Systems": link(P.systems), "Chassis": link(P.chassis_coll), "Managers": link(P.managers),
        "SessionService": link("/redfish/v1/SessionService"), "AccountService": link("/redfish/v1/AccountService"),
        "UpdateService": link("/redfish/v1/UpdateService"), "Tasks": link("/redfish/v1/TaskService"),
        "Registries": link(P.registries),
        "Links": {"Sessions": link(P.sessions)},
    }
    if fl.oem == "Dell":
        body["Oem"] = {"Dell": {"@odata.type": "#DellServiceRoot.v1_0_0.DellServiceRoot", "ServiceTag": b.serial,
                                "ManagerMACAddress": b.mac(63).lower(), "IsBranded": 0}}
    elif fl.oem == "Hpe":
        body["Oem"] = {"Hpe": {"@odata.type": "#HpeiLOServiceExt.v2_5_0.HpeiLOServiceExt",
                               "Manager": [{"ManagerType": fl.manager_model,
                                            "ManagerFirmwareVersion": b.firmware.version("bmc")}]}}
    return c.doc("ServiceRoot", P.root, body)


def r_odata(c: Ctx) -> Doc:
    names = ["Systems", "Chassis", "Managers", "SessionService", "AccountService", "UpdateService",
             "TaskService", "Registries"]
    value = [{"name": "Service", "kind": "Singleton", "url": "/redfish/v1/"}]
    value += [{"name": n, "kind": "Singleton", "url": f"/redfish/v1/{n}"} for n in names]
    return {"@odata.context": "/redfish/v1/$metadata", "value": value}


def metadata_xml() -> str:
    """A $metadata document referencing every schema the simulator uses."""
    names = sorted(set(V) | {f"{t}Collection" for t in V} | {"Resource", "Settings", "AttributeRegistry",
                                                                "MessageRegistry"})
    refs = "".join(
        f'  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/{n}_v1.xml">\n'
        f'    <edmx:Include Namespace="{n}"/>\n' +
        (f'    <edmx:Include Namespace="{n}.{V[n]}"/>\n' if n in V else "") +
        "  </edmx:Reference>\n" for n in names if n not in ("Resource",))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">\n'
            '  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/Resource_v1.xml">\n'
            '    <edmx:Include Namespace="Resource"/>\n    <edmx:Include Namespace="Resource.v1_0_0"/>\n'
            '  </edmx:Reference>\n' + refs +
            '  <edmx:DataServices>\n    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">\n'
            '      <EntityContainer Name="Service" Extends="ServiceRoot.v1_11_0.ServiceContainer"/>\n'
            '    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n')


# ----------------------------------------------------------------------------- managers

def r_managers(c: Ctx) -> Doc:
    return c.collection("Manager", c.P.managers, "Manager Collection", [c.P.manager])


def r_manager(c: Ctx) -> Doc:
    b, fl, P = c.bmc, c.fl, c.P
    body: Doc = {
        "Id": fl.manager_id, "Name": "Manager", "ManagerType": "BMC", "Model": fl.manager_model,
        "Manufacturer": fl.manufacturer, "FirmwareVersion": b.firmware.version("bmc"),
        "UUID": identity.system_uuid(b.seed, b.index + 2_000_000), "PowerState": "On",
        "DateTime": iso(c.now), "DateTimeLocalOffset": "+00:00", "Status": status(),
        "EthernetInterfaces": link(f"{P.manager}/EthernetInterfaces"),
        "NetworkProtocol": link(f"{P.manager}/NetworkProtocol"),
        "Links": {"ManagerForServers": [link(P.system)], "ManagerForChassis": [link(P.chassis)]},
        "Actions": {"#Manager.Reset": {"target": f"{P.manager}/Actions/Manager.Reset",
                                       "ResetType@Redfish.AllowableValues": ["GracefulRestart", "ForceRestart"]}},
    }
    if fl.log_at == "manager":
        body["LogServices"] = link(P.log_services)
    if fl.vmedia_at == "manager":
        body["VirtualMedia"] = link(P.vmedia)
    consoles = kvm.manager_fields(c)
    if "Links" in consoles:
        body["Links"] = {**body["Links"], **consoles.pop("Links")}
    body.update(consoles)
    return c.doc("Manager", P.manager, body)


def r_mgr_eths(c: Ctx) -> Doc:
    path = f"{c.P.manager}/EthernetInterfaces"
    return c.collection("EthernetInterface", path, "Manager Ethernet Interfaces", [f"{path}/1"])


def r_mgr_eth(c: Ctx) -> Doc:
    b = c.bmc
    address = b.address
    return c.doc("EthernetInterface", f"{c.P.manager}/EthernetInterfaces/1", {
        "Id": "1", "Name": "Manager Ethernet Interface", "MACAddress": b.mac(63), "PermanentMACAddress": b.mac(63),
        "SpeedMbps": 1000, "FullDuplex": True, "InterfaceEnabled": True, "LinkStatus": "LinkUp",
        "HostName": b.name, "FQDN": f"{b.name}-bmc.sim.local",
        "IPv4Addresses": [{"Address": address, "SubnetMask": "255.0.0.0", "AddressOrigin": "Static",
                           "Gateway": "127.0.0.1"}],
        "Status": status(),
    })


def r_net_protocol(c: Ctx) -> Doc:
    b = c.bmc
    port = b.port or 443
    return c.doc("ManagerNetworkProtocol", f"{c.P.manager}/NetworkProtocol", {
        "Id": "NetworkProtocol", "Name": "Manager Network Protocol", "HostName": b.name,
        "HTTPS": {"ProtocolEnabled": True, "Port": port}, "HTTP": {"ProtocolEnabled": True, "Port": 80},
        "SSH": {"ProtocolEnabled": True, "Port": getattr(b, "serial_ssh_port", None) or 22}, "IPMI": {"ProtocolEnabled": True, "Port": 623},
        "Status": status(),
    })


# ----------------------------------------------------------------------------- logs

def r_log_services(c: Ctx) -> Doc:
    return c.collection("LogService", c.P.log_services, "Log Service Collection", [c.P.log])


def r_log_service(c: Ctx) -> Doc:
    P = c.P
    return c.doc("LogService", P.log, {
        "Id": c.fl.log_id, "Name": "System Event Log" if c.fl.log_id != "IML" else "Integrated Management Log",
        "LogEntryType": "SEL" if c.fl.log_id != "IML" else "Multiple", "MaxNumberOfRecords": 1024,
        "OverWritePolicy": "WrapsWhenFull", "DateTime": iso(c.now), "DateTimeLocalOffset": "+00:00",
        "ServiceEnabled": True, "Entries": link(P.log_entries), "Status": status(),
        "Actions": {"#LogService.ClearLog": {"target": f"{P.log}/Actions/LogService.ClearLog"}},
    })


def log_entry_ids(c: Ctx) -> list[int]:
    ids = [r.id for r in c.bmc.sel]
    return ids[::-1] if c.fl.name == "dell" else ids  # iDRAC lists the newest first


def r_log_entries(c: Ctx) -> Doc:
    """LogEntry collections expand their members (the schema marks Members AutoExpand)."""
    P = c.P
    doc = c.collection("LogEntry", P.log_entries, "Log Entry Collection", [])
    members = [r_log_entry(c, i) for i in log_entry_ids(c)]
    doc["Members@odata.count"] = len(members)
    doc["Members"] = members
    return doc


def r_log_entry(c: Ctx, rid: int) -> Doc | None:
    record = next((r for r in c.bmc.sel if r.id == rid), None)
    if record is None:
        return None
    return c.doc("LogEntry", f"{c.P.log_entries}/{rid}", {
        "Id": str(rid), "Name": f"Log Entry {rid}", "EntryType": "SEL", "Severity": record.severity,
        "Created": iso(record.created), "Message": record.message, "MessageId": record.message_id,
        "MessageArgs": [], "SensorType": record.sensor_type, "EntryCode": record.entry_code,
        "SensorNumber": record.sensor_number, "GeneratorId": "0x0020",
    })


# ----------------------------------------------------------------------------- sessions and accounts

def r_session_service(c: Ctx) -> Doc:
    return c.doc("SessionService", "/redfish/v1/SessionService", {
        "Id": "SessionService", "Name": "Session Service", "ServiceEnabled": True,
        "SessionTimeout": c.fl.session_timeout, "Sessions": link(c.P.sessions), "Status": status(),
    })


def r_sessions(c: Ctx) -> Doc:
    return c.collection("Session", c.P.sessions, "Session Collection",
                        [f"{c.P.sessions}/{s.id}" for s in c.bmc.sessions.values()])


def r_session(c: Ctx, sid: str) -> Doc | None:
    session = c.bmc.session_by_id(sid)
    if session is None:
        return None
    return c.doc("Session", f"{c.P.sessions}/{sid}", {
        "Id": sid, "Name": "User Session", "UserName": session.user, "Password": None,
        "SessionType": "Redfish", "CreatedTime": iso(session.created),
    })


def r_account_service(c: Ctx) -> Doc:
    return c.doc("AccountService", "/redfish/v1/AccountService", {
        "Id": "AccountService", "Name": "Account Service", "ServiceEnabled": True,
        "MinPasswordLength": 8, "MaxPasswordLength": 40, "AccountLockoutThreshold": 0,
        "AuthFailureLoggingThreshold": 3, "Accounts": link("/redfish/v1/AccountService/Accounts"),
        "Roles": link("/redfish/v1/AccountService/Roles"), "Status": status(),
    })


# The Redfish standard roles (DSP0266 "Roles"): every BMC of the captures has these three.
ROLES: dict[str, list[str]] = {
    "Administrator": ["Login", "ConfigureManager", "ConfigureUsers", "ConfigureSelf", "ConfigureComponents"],
    "Operator": ["Login", "ConfigureSelf", "ConfigureComponents"],
    "ReadOnly": ["Login", "ConfigureSelf"],
}


def r_roles(c: Ctx) -> Doc:
    path = "/redfish/v1/AccountService/Roles"
    return c.collection("Role", path, "Roles Collection", [f"{path}/{r}" for r in ROLES])


def r_role(c: Ctx, rid: str) -> Doc:
    return c.doc("Role", f"/redfish/v1/AccountService/Roles/{rid}", {
        "Id": rid, "Name": f"{rid} User Role", "RoleId": rid, "IsPredefined": True,
        "AssignedPrivileges": ROLES[rid], "OemPrivileges": [],
    })


def _account_id(c: Ctx) -> str:
    return "2" if c.fl.name in ("dell", "supermicro") else "1"


def r_accounts(c: Ctx) -> Doc:
    path = "/redfish/v1/AccountService/Accounts"
    return c.collection("ManagerAccount", path, "Accounts Collection", [f"{path}/{_account_id(c)}"])


def r_account(c: Ctx) -> Doc:
    aid = _account_id(c)
    return c.doc("ManagerAccount", f"/redfish/v1/AccountService/Accounts/{aid}", {
        "Id": aid, "Name": "User Account", "UserName": c.bmc.credentials.username, "Password": None,
        "RoleId": "Administrator", "Enabled": True, "Locked": False, "AccountTypes": ["Redfish"],
    })


# ----------------------------------------------------------------------------- update and tasks

def r_update_service(c: Ctx) -> Doc:
    fl = c.fl
    action: Doc = {"target": "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
                   "TransferProtocol@Redfish.AllowableValues": ["HTTP", "HTTPS"]}
    if fl.name in ("lenovo", "supermicro"):
        action["@Redfish.ActionInfo"] = "/redfish/v1/UpdateService/SimpleUpdateActionInfo"
    body: Doc = {
        "Id": "UpdateService", "Name": "Update Service", "ServiceEnabled": True,
        "FirmwareInventory": link(c.P.firmware), "Status": status(),
        "Actions": {"#UpdateService.SimpleUpdate": action},
    }
    if fl.oem == "Hpe":
        # Quirk (HPE iLO 5): update progress is in Oem.Hpe (State, FlashProgressPercent, Result),
        # as the DL360 Gen10 Plus capture's HpeiLOUpdateServiceExt has it.
        body["Oem"] = {"Hpe": {"@odata.type": "#HpeiLOUpdateServiceExt.v2_6_0.HpeiLOUpdateServiceExt",
                               **c.bmc.firmware.hpe_state(c.now)}}
    return c.doc("UpdateService", "/redfish/v1/UpdateService", body)


def r_simple_update_info(c: Ctx) -> Doc:
    return c.doc("ActionInfo", "/redfish/v1/UpdateService/SimpleUpdateActionInfo", {
        "Id": "SimpleUpdateActionInfo", "Name": "Simple Update Action Info",
        "Parameters": [{"Name": "ImageURI", "Required": True, "DataType": "String"},
                       {"Name": "TransferProtocol", "Required": False, "DataType": "String",
                        "AllowableValues": ["HTTP", "HTTPS"]},
                       {"Name": "Targets", "Required": False, "DataType": "StringArray"}],
    })


def r_firmware_coll(c: Ctx) -> Doc:
    return c.collection("SoftwareInventory", c.P.firmware, "Firmware Inventory Collection",
                        [f"{c.P.firmware}/{ident}" for ident, *_ in c.bmc.firmware.inventory()])


def r_firmware(c: Ctx, ident: str) -> Doc | None:
    item = c.bmc.firmware.item(ident)
    if item is None:
        return None
    fid, comp, version, state = item
    return c.doc("SoftwareInventory", f"{c.P.firmware}/{fid}", {
        "Id": fid, "Name": comp.name, "Version": version, "Updateable": True,
        "SoftwareId": str(comp.component_id) if c.fl.name == "dell" else comp.key.upper(),
        "Manufacturer": c.fl.manufacturer, "Status": status("OK", state),
    })


def r_task_service(c: Ctx) -> Doc:
    return c.doc("TaskService", "/redfish/v1/TaskService", {
        "Id": "TaskService", "Name": "Task Service", "ServiceEnabled": True, "DateTime": iso(c.now),
        "CompletedTaskOverWritePolicy": "Oldest", "LifeCycleEventOnTaskStateChange": True,
        "Tasks": link(c.P.tasks), "Status": status(),
    })


def r_tasks(c: Ctx) -> Doc:
    return c.collection("Task", c.P.tasks, "Task Collection", [f"{c.P.tasks}/{t}" for t in c.bmc.tasks])


def r_task(c: Ctx, tid: str) -> Doc | None:
    task = c.bmc.tasks.get(tid)
    if task is None:
        return None
    body: Doc = {
        "Id": task.id, "Name": task.name, "TaskState": task.state, "TaskStatus": task.status,
        "StartTime": iso(task.start), "PercentComplete": task.percent(c.now),
        "TaskMonitor": f"{c.P.task_monitors}/{task.id}",
        "Messages": [{"MessageId": mid, "Message": msg, "MessageSeverity": sev} for mid, msg, sev in task.messages],
    }
    if task.end is not None:
        body["EndTime"] = iso(task.end)
    return c.doc("Task", f"{c.P.tasks}/{task.id}", body)


# ----------------------------------------------------------------------------- registries

def r_registries(c: Ctx) -> Doc:
    reg = c.bmc.registry
    return c.collection("MessageRegistryFile", c.P.registries, "Registry File Collection",
                        [f"{c.P.registries}/{reg.id}"])


def r_registry_file(c: Ctx) -> Doc:
    reg = c.bmc.registry
    path = f"{c.P.registries}/{reg.id}"
    return c.doc("MessageRegistryFile", path, {
        "Id": reg.id, "Name": "BIOS Attribute Registry File", "Registry": reg.id, "Languages": ["en"],
        "Location": [{"Language": "en", "Uri": f"{path}/{reg.id}.json"}],
    })


def r_registry(c: Ctx) -> Doc:
    b = c.bmc
    return registry_document(b.registry, c.p.model, b.firmware.version("bios"))


# ----------------------------------------------------------------------------- tree

def add_to_tree(tree: Tree, profile: HardwareProfile) -> None:
    from dcops.sim import writes
    from dcops.sim.bios import REGISTRIES

    fl, P = profile.flavour, tree.paths
    tree.add("/redfish", Node(r_version))
    tree.add(P.root, Node(r_root))
    tree.add("/redfish/v1/odata", Node(r_odata))
    tree.add(P.managers, Node(r_managers, collection=True))
    tree.add(P.manager, Node(r_manager))
    tree.add(f"{P.manager}/Actions/Manager.Reset", Node(None, post=writes.manager_reset))
    tree.add(f"{P.manager}/EthernetInterfaces", Node(r_mgr_eths, collection=True))
    tree.add(f"{P.manager}/EthernetInterfaces/1", Node(r_mgr_eth))
    tree.add(f"{P.manager}/NetworkProtocol", Node(r_net_protocol))
    tree.add(P.log_services, Node(r_log_services, collection=True))
    tree.add(P.log, Node(r_log_service))
    tree.add(f"{P.log}/Actions/LogService.ClearLog", Node(None, post=writes.clear_log))
    tree.add(P.log_entries, Node(r_log_entries, collection=True, kind="LogEntries"))
    tree.dynamic[norm(P.log_entries)] = _log_entry_node
    tree.add("/redfish/v1/SessionService", Node(r_session_service))
    tree.add(P.sessions, Node(r_sessions, post=writes.create_session, collection=True))
    tree.dynamic[norm(P.sessions)] = lambda bmc, leaf: (
        Node(r_session, (leaf,), delete=writes.delete_session) if bmc.session_by_id(leaf) else None)
    tree.add("/redfish/v1/AccountService", Node(r_account_service))
    tree.add("/redfish/v1/AccountService/Accounts", Node(r_accounts, collection=True))
    tree.add("/redfish/v1/AccountService/Roles", Node(r_roles, collection=True))
    for rid in ROLES:
        tree.add(f"/redfish/v1/AccountService/Roles/{rid}", Node(r_role, (rid,)))
    tree.add(f"/redfish/v1/AccountService/Accounts/{'2' if fl.name in ('dell', 'supermicro') else '1'}",
             Node(r_account))
    tree.add("/redfish/v1/UpdateService", Node(r_update_service))
    tree.add("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", Node(None, post=writes.simple_update))
    if fl.name in ("lenovo", "supermicro"):
        tree.add("/redfish/v1/UpdateService/SimpleUpdateActionInfo", Node(r_simple_update_info))
    tree.add(P.firmware, Node(r_firmware_coll, collection=True))
    tree.dynamic[norm(P.firmware)] = lambda bmc, leaf: (
        Node(r_firmware, (leaf,)) if bmc.firmware.item(leaf) else None)
    tree.add("/redfish/v1/TaskService", Node(r_task_service))
    tree.add(P.tasks, Node(r_tasks, collection=True))
    tree.dynamic[norm(P.tasks)] = _task_node
    tree.dynamic[norm(P.task_monitors)] = lambda bmc, leaf: (
        Node(r_task, (_task_id(bmc, leaf),), kind="TaskMonitor", delete=writes.delete_task)
        if _task_id(bmc, leaf) else None)
    kvm.add_to_tree(tree, fl.name)
    reg = REGISTRIES[fl.name]
    tree.add(P.registries, Node(r_registries, collection=True))
    tree.add(f"{P.registries}/{reg.id}", Node(r_registry_file))
    tree.add(f"{P.registries}/{reg.id}/{reg.id}.json", Node(r_registry, kind="Registry"))


def _task_id(bmc: Bmc, leaf: str) -> str | None:
    low = leaf.lower()
    return next((t for t in bmc.tasks if t.lower() == low), None)


def _task_node(bmc: Bmc, leaf: str) -> Node | None:
    tid = _task_id(bmc, leaf)
    return Node(r_task, (tid,)) if tid else None


def _log_entry_node(bmc: Bmc, leaf: str) -> Node | None:
    if not leaf.isdigit():
        return None
    rid = int(leaf)
    if not any(r.id == rid for r in bmc.sel):
        return None
    return Node(r_log_entry, (rid,))
