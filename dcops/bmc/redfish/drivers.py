"""Redfish implementations of the bmc.base interfaces, over one ``RedfishConnector``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dcops.bmc import base
from dcops.bmc.redfish import oem, resources
from dcops.bmc.redfish.connector import RedfishConnector
from dcops.bmc.redfish.resources import Doc, FetchError, link, run_sync
from dcops.errors import ApplyError
from dcops.observation import FirmwareItem, LogEntry, Observation, PowerState


class _Shared:
    """What the drivers of one BMC share: the connector, the first system, the vendor quirks."""

    def __init__(self, conn: RedfishConnector) -> None:
        self.conn = conn
        self._root: Doc | None = None
        self._system_uri: str | None = None
        self._manager_uri: str | None = None
        self._quirks: oem.Quirks | None = None

    def root(self) -> Doc:
        if self._root is None:
            self._root = self.conn.get(resources.ROOT)
        return self._root

    def _first(self, key: str) -> str:
        coll = self.conn.get(link(self.root(), key) or f"{resources.ROOT}/{key}")
        members = coll.get(resources.MEMBERS) or []
        uris = sorted(str(m.get(resources.ODATA_ID)) for m in members if isinstance(m, dict))
        if not uris:
            raise ApplyError(f"{self.conn.host}: the BMC lists no {key}")
        return uris[0]

    def system_uri(self) -> str:
        if self._system_uri is None:
            self._system_uri = self._first("Systems")
        return self._system_uri

    def manager_uri(self) -> str:
        if self._manager_uri is None:
            self._manager_uri = self._first("Managers")
        return self._manager_uri

    def system(self) -> Doc:
        return self.conn.get(self.system_uri())

    def quirks(self) -> oem.Quirks:
        if self._quirks is None:
            self._quirks = oem.detect(self.root(), self.system())
        return self._quirks

    def fetch(self, path: str) -> Doc:
        return self.conn.get(path)


class RedfishPower(base.PowerInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared) -> None:
        self.s = shared

    def status(self) -> PowerState:
        return resources.power_state(self.s.system().get("PowerState"))

    def request(self, operation: str) -> None:
        target, allowed = resources.reset_target(self.s.system())
        try:
            reset_type = resources.choose_reset_type(operation, allowed)
        except ValueError as exc:
            raise base.UnsupportedError(f"{self.s.conn.host}: power {operation}: {exc}") from None
        self.s.conn.act("POST", target, resources.reset_body(reset_type), f"power {operation}")


class RedfishBoot(base.BootInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared) -> None:
        self.s = shared

    def set_once(self, target: str) -> None:
        system = self.s.system()
        self.s.conn.act("PATCH", self.s.system_uri(), resources.boot_override_body(target),
                        f"boot --once {target}", etag=resources.etag_of(system))

    def get(self) -> tuple[str | None, str | None]:
        return resources.boot_override(self.s.system())


class RedfishVirtualMedia(base.VirtualMediaInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared) -> None:
        self.s = shared

    def _docs(self) -> list[Doc]:
        system = self.s.system()
        try:
            manager = self.s.conn.get(self.s.manager_uri())
        except (FetchError, ApplyError):
            manager = {}
        docs: list[Doc] = []
        for uri in resources.virtual_media_links(system, manager):
            try:
                docs.extend(run_sync(resources.Reader().members(uri), self.s.fetch))
            except FetchError:
                continue
            if docs:
                break
        return self.s.quirks().prefer_media(docs)

    @staticmethod
    def _slot(doc: Doc) -> base.MediaSlot:
        inserted, image = resources.media_state(doc)
        return base.MediaSlot(str(doc.get("Id") or resources.last_segment(str(doc.get(resources.ODATA_ID)))),
                              tuple(resources.media_types(doc)), inserted, image)

    def slots(self) -> list[base.MediaSlot]:
        return [self._slot(d) for d in self._docs()]

    def insert(self, image: str) -> base.MediaSlot:
        docs = self._docs()
        cds = [d for d in docs if {"CD", "DVD"} & set(resources.media_types(d))] or docs
        if not cds:
            raise base.UnsupportedError(f"{self.s.conn.host}: the BMC lists no virtual media slot")
        doc = cds[0]
        target = resources.insert_media_action(doc)
        quirks = self.s.quirks()
        try:
            self.s.conn.act("POST", target, resources.insert_media_body(image, full=quirks.insert_media_full()),
                            "vmedia insert")
        except ApplyError:
            if not quirks.insert_media_full():
                raise
            # Quirk (Supermicro X12, some AMI BMCs): InsertMedia rejects Inserted/WriteProtected
            # (400 PropertyUnknown) although the schema has them; retry with Image alone.
            self.s.conn.act("POST", target, resources.insert_media_body(image, full=False), "vmedia insert")
        return self._slot(self.s.conn.get(str(doc.get(resources.ODATA_ID))))

    def eject(self) -> list[base.MediaSlot]:
        ejected = []
        for doc in self._docs():
            inserted, _ = resources.media_state(doc)
            if not inserted:
                continue
            self.s.conn.act("POST", resources.eject_media_action(doc), self.s.quirks().eject_body(),
                            "vmedia eject")
            ejected.append(self._slot(doc))
        return ejected


class RedfishInventory(base.InventoryInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def observe(self, sections: Iterable[str] | None = None) -> Observation:
        step = resources.read_observation(self.host, sections=resources.SECTIONS if sections is None else sections)
        return run_sync(step, self.s.fetch)


class RedfishHealth(base.HealthInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def health(self) -> Observation:
        return run_sync(resources.read_health(self.host), self.s.fetch)


class RedfishLogs(base.LogsInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def entries(self, limit: int = 50) -> list[LogEntry]:
        obs = run_sync(resources.read_observation(self.host, sections={"logs"}, log_limit=limit), self.s.fetch)
        return list(obs.log_entries)


class RedfishBios(base.BiosInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared) -> None:
        self.s = shared

    def attributes(self) -> Mapping[str, Any]:
        bios = self.s.conn.get(link(self.s.system(), "Bios") or f"{self.s.system_uri()}/Bios")
        attrs = bios.get("Attributes")
        return dict(attrs) if isinstance(attrs, dict) else {}

    def set_attributes(self, values: Mapping[str, Any]) -> None:
        bios_uri = link(self.s.system(), "Bios") or f"{self.s.system_uri()}/Bios"
        bios = self.s.conn.get(bios_uri)
        settings = link(bios.get("@Redfish.Settings"), "SettingsObject") if isinstance(
            bios.get("@Redfish.Settings"), dict) else None
        target = settings or f"{bios_uri}/Settings"
        self.s.conn.act("PATCH", target, {"Attributes": dict(values)}, "bios set",
                        etag=resources.etag_of(bios))


class RedfishRaid(base.RaidInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def volumes(self) -> list[Mapping[str, Any]]:
        obs = run_sync(resources.read_observation(self.host, sections={"components"}, log_limit=0), self.s.fetch)
        return [{"location": c.location, "capacity_bytes": c.capacity_bytes, **c.extra}
                for c in obs.components if c.kind.value == "volume"]


class RedfishFirmware(base.FirmwareInterface):
    protocol = "redfish"

    def __init__(self, shared: _Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def inventory(self) -> list[FirmwareItem]:
        obs = run_sync(resources.read_observation(self.host, sections={"firmware"}, log_limit=0), self.s.fetch)
        return list(obs.firmware)


def redfish_bmc(host: str, conn: RedfishConnector) -> base.Bmc:
    """The Redfish concerns of one host over ``conn`` (closed with the Bmc)."""
    shared = _Shared(conn)
    reason = "Redfish has no serial console; use IPMI SOL (protocol: ipmi or auto)"
    return base.Bmc(
        host=host, protocol="redfish",
        power=RedfishPower(shared), boot=RedfishBoot(shared), vmedia=RedfishVirtualMedia(shared),
        inventory=RedfishInventory(shared, host), health=RedfishHealth(shared, host),
        logs=RedfishLogs(shared, host), bios=RedfishBios(shared), raid=RedfishRaid(shared, host),
        firmware=RedfishFirmware(shared, host),
        console=base.UnsupportedConsole(host, "redfish", reason),
        closers=[conn.close],
    )
