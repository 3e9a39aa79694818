"""Redfish implementations of the bmc.base interfaces, over one ``RedfishConnector``.

Power, boot, virtual media, inventory, health and logs are here; BIOS (``bios``), RAID
(``raid``), firmware and tasks (``firmware``) have their own modules. ``redfish_bmc`` bundles
them all over one connector: one session per BMC.
"""

from __future__ import annotations

from collections.abc import Iterable

from dcops.bmc import base
from dcops.bmc.redfish import resources
from dcops.bmc.redfish.bios import RedfishBios
from dcops.bmc.redfish.connector import RedfishConnector
from dcops.bmc.redfish.firmware import RedfishFirmware, RedfishTasks
from dcops.bmc.redfish.raid import RedfishRaid
from dcops.bmc.redfish.resources import Doc, FetchError, run_sync
from dcops.bmc.redfish.shared import Shared
from dcops.bmc.redfish.tasks import Clock, Pacing
from dcops.errors import ApplyError
from dcops.observation import LogEntry, Observation, PowerState

__all__ = ["RedfishBios", "RedfishBoot", "RedfishFirmware", "RedfishHealth", "RedfishInventory", "RedfishLogs",
           "RedfishPower", "RedfishRaid", "RedfishTasks", "RedfishVirtualMedia", "Shared", "redfish_bmc"]

_Shared = Shared  # the old name, for importers


class RedfishPower(base.PowerInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared) -> None:
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

    def __init__(self, shared: Shared) -> None:
        self.s = shared

    def set_once(self, target: str) -> None:
        system = self.s.system()
        self.s.conn.act("PATCH", self.s.system_uri(), resources.boot_override_body(target),
                        f"boot --once {target}", etag=resources.etag_of(system))

    def get(self) -> tuple[str | None, str | None]:
        return resources.boot_override(self.s.system())


class RedfishVirtualMedia(base.VirtualMediaInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared) -> None:
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

    def __init__(self, shared: Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def observe(self, sections: Iterable[str] | None = None) -> Observation:
        step = resources.read_observation(self.host, sections=resources.SECTIONS if sections is None else sections)
        return run_sync(step, self.s.fetch)


class RedfishHealth(base.HealthInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def health(self) -> Observation:
        return run_sync(resources.read_health(self.host), self.s.fetch)


class RedfishLogs(base.LogsInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def entries(self, limit: int = 50) -> list[LogEntry]:
        obs = run_sync(resources.read_observation(self.host, sections={"logs"}, log_limit=limit), self.s.fetch)
        return list(obs.log_entries)


def redfish_bmc(host: str, conn: RedfishConnector, *, pacing: Pacing | None = None,
                clock: Clock | None = None) -> base.Bmc:
    """The Redfish concerns of one host over ``conn`` (closed with the Bmc). ``pacing`` says how
    often long operations (tasks, busy controllers, BMC reboots) are polled and for how long."""
    shared = Shared(conn)
    reason = "Redfish has no serial console; use IPMI SOL (protocol: ipmi or auto)"
    return base.Bmc(
        host=host, protocol="redfish",
        power=RedfishPower(shared), boot=RedfishBoot(shared), vmedia=RedfishVirtualMedia(shared),
        inventory=RedfishInventory(shared, host), health=RedfishHealth(shared, host),
        logs=RedfishLogs(shared, host), bios=RedfishBios(shared), raid=RedfishRaid(shared, host, pacing, clock),
        firmware=RedfishFirmware(shared, host, pacing, clock),
        console=base.UnsupportedConsole(host, "redfish", reason),
        closers=[conn.close], tasks=RedfishTasks(shared, pacing, clock),
    )
