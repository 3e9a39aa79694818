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
from dcops.bmc.redfish.docs import link, links_of
from dcops.bmc.redfish.firmware import RedfishFirmware, RedfishTasks
from dcops.bmc.redfish.keys import BOOT_PROGRESS, LAST_RESET_TIME, OS_RUNNING, POST_DONE, POWER_STATE
from dcops.bmc.redfish.ports import LldpNeighbour, neighbour
from dcops.bmc.redfish.raid import RedfishRaid
from dcops.bmc.redfish.read import identity_of
from dcops.bmc.redfish.resources import Doc, FetchError, run_sync
from dcops.bmc.redfish.shared import Shared
from dcops.bmc.redfish.tasks import Clock, Pacing
from dcops.bmc.state import BootProgress
from dcops.errors import ApplyError, UnreachableError
from dcops.observation import Identity, LogEntry, Observation, PowerState

__all__ = ["RedfishBios", "RedfishBoot", "RedfishFirmware", "RedfishHealth", "RedfishInventory", "RedfishLogs",
           "RedfishPower", "RedfishRaid", "RedfishTasks", "RedfishVirtualMedia", "Shared", "redfish_bmc"]

_Shared = Shared  # the old name, for importers
_POST_DONE = frozenset(s.lower() for s in POST_DONE)


class RedfishPower(base.PowerInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared) -> None:
        self.s = shared
        self._select: bool | None = None  # whether $select works on the system resource

    def status(self) -> PowerState:
        return resources.power_state(self.s.system().get(POWER_STATE))

    def boot_progress(self) -> BootProgress:
        """Polled while waiting for boots, so it asks only for PowerState and BootProgress where
        the BMC supports ``$select`` (and stops asking at the first answer without them)."""
        system: Doc | None = None
        features = self.s.root().get("ProtocolFeaturesSupported")
        if isinstance(features, dict) and features.get("SelectQuery") and self._select is not False:
            try:
                system = self.s.conn.get(f"{self.s.system_uri()}?$select={POWER_STATE},{BOOT_PROGRESS},"
                                         f"{LAST_RESET_TIME}")
                self._select = POWER_STATE in system
            except FetchError:
                self._select = False
            if not self._select:
                system = None
        if system is None:
            system = self.s.system()
        raw = system.get(BOOT_PROGRESS)
        progress: Doc = raw if isinstance(raw, dict) else {}
        last, stamp = progress.get("LastState"), progress.get("LastStateTime")
        if not isinstance(stamp, str):
            # Quirk (Dell iDRAC9 6.00: no BootProgress at all): LastResetTime still moves with a reset.
            stamp = system.get(LAST_RESET_TIME)
        return BootProgress(resources.power_state(system.get(POWER_STATE)), last if isinstance(last, str) else None,
                            stamp if isinstance(stamp, str) else None)

    def reset_and_wait(self, *, graceful: bool = False, until: str = "post", timeout: float | None = None) -> None:
        """Reset (or power on, when off) the host and wait until POST is done (``until="post"``),
        the OS runs (``"os-running"``), or the host is off again (``"power-off"``: an installer
        that ends with poweroff). Raises ApplyError after ``timeout`` (``pacing.reboot_timeout``)."""
        deadline = self.s.clock.now() + (timeout or self.s.pacing.reboot_timeout)
        state, _, before_time = self.boot_progress()
        if state in (PowerState.OFF, PowerState.POWERING_OFF):
            self.request("on")
        elif graceful:
            try:
                self.request("graceful-restart")
            except base.UnsupportedError:
                self.request("reset")
        else:
            self.request("reset")
        self.wait_boot(before_time, until=until, deadline=deadline)

    def wait_boot(self, before_time: str | None, *, until: str, deadline: float) -> None:
        """Wait for the boot after a reset/power-on to reach ``until``. A new boot shows as a power
        transition, a new ``LastStateTime`` or a POST state; without BootProgress, POST counts as
        done ``pacing.settle`` seconds after power-on."""
        clock, pacing = self.s.clock, self.s.pacing
        seen_reset = seen_on = False
        on_since: float | None = None
        # Quirk (HPE iLO 5, Lenovo XCC 2.x: neither BootProgress nor LastResetTime): a warm reset
        # may never show the host off between two polls, and nothing else moves; the reset the BMC
        # accepted is then the only evidence, and POST counts as done after ``settle`` seconds on.
        blind = before_time is None
        while True:
            try:
                state, last, stamp = self.boot_progress()
            except (UnreachableError, FetchError):
                state, last, stamp = PowerState.UNKNOWN, None, None
            low = (last or "").lower()
            post_done = low in _POST_DONE
            if state in (PowerState.OFF, PowerState.POWERING_OFF, PowerState.POWERING_ON) or \
                    (stamp is not None and stamp != before_time) or (low and not post_done and low != "none") or \
                    (blind and stamp is None and not last and until != "os-running"):
                seen_reset = True
            if state in (PowerState.ON, PowerState.POWERING_ON) and (seen_reset or stamp != before_time):
                seen_on = True
            on_since = (on_since if on_since is not None else clock.now()) if state is PowerState.ON else None
            settled = on_since is not None and clock.now() - on_since >= pacing.settle
            if until == "power-off":
                # A fast installer can boot, finish and power off between two polls: a new
                # LastStateTime is then the only proof that the boot happened.
                if state is PowerState.OFF and (seen_on or (stamp is not None and stamp != before_time)):
                    return
            elif until == "powered-on":
                if state is PowerState.ON and (seen_reset or settled):
                    return
            elif state is PowerState.ON and seen_reset:
                if until == "os-running" and low == OS_RUNNING.lower():
                    return
                if until == "post" and (post_done or (not last and settled)):
                    return
            if clock.now() > deadline:
                raise ApplyError(f"{self.s.host()}: host did not reach {until} in time (power {state.value}, "
                                 f"boot progress {last or 'unknown'})")
            clock.sleep(pacing.poll)

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

    def insert(self, image: str, *, media: str = "cd", ca_pem: str | None = None) -> base.MediaSlot:
        docs = self._docs()
        if not docs:
            raise base.UnsupportedError(f"{self.s.conn.host}: the BMC lists no virtual media slot")
        doc = pick_slot(docs, media)
        if doc is None:
            raise base.UnsupportedError(f"{self.s.conn.host}: no free virtual media slot for a {media} image "
                                        f"(slots: {', '.join(str(d.get('Id')) for d in docs)})")
        self._trust(doc, image, ca_pem)
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

    def _trust(self, doc: Doc, image: str, ca_pem: str | None) -> None:
        """Import the image server's CA into the slot and turn VerifyCertificate on (DMTF way;
        XCC 2.83 offers both, VerifyCertificate false by default) before the BMC fetches it."""
        link = str((doc.get("Certificates") or {}).get(resources.ODATA_ID) or "")
        imported = [str(d.get("CertificateString") or "") for d in self.s.members(link)] if (
            ca_pem and link and image.lower().startswith("https://")) else []
        post, verify = resources.media_trust(doc, image, ca_pem, imported)
        if post:
            self.s.conn.act("POST", post, {"CertificateString": ca_pem, "CertificateType": "PEM"},
                            "vmedia CA certificate import")
        if verify:
            self.s.conn.act("PATCH", str(doc.get(resources.ODATA_ID)), {"VerifyCertificate": True},
                            "vmedia VerifyCertificate", etag=doc.get("@odata.etag"))

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


_CD = frozenset({"CD", "DVD"})
_USB = frozenset({"USBStick", "Floppy", "RemovableDisk"})


def pick_slot(docs: list[Doc], media: str) -> Doc | None:
    """The slot for a ``cd`` or ``usb`` image: a free slot of that kind, one that offers only that
    kind first (iDRAC: RemovableDisk vs CD; iLO: 1 Floppy/USBStick vs 2 CD; XCC and Supermicro offer
    every type on every slot, so the second image takes the other slot). sushy-tools lists Cd and
    Floppy. A CD image falls back to the first slot when none says CD (older BMCs list no types)."""
    want = _CD if media == "cd" else _USB
    free = [d for d in docs if not resources.media_state(d)[0]]
    fits = [d for d in free if want & set(resources.media_types(d))]
    fits.sort(key=lambda d: bool(set(resources.media_types(d)) - want))  # dedicated slots first
    if fits:
        return fits[0]
    if media == "cd" and not any(resources.media_types(d) for d in docs):
        return docs[0]
    return None


class RedfishInventory(base.InventoryInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def observe(self, sections: Iterable[str] | None = None, *, log_limit: int = 20) -> Observation:
        return self.s.observe(resources.SECTIONS if sections is None else sections, log_limit=log_limit)

    def identity(self) -> Identity:
        """From the service root and the first system only (two GETs)."""
        return identity_of(self.s.root(), self.s.system(), {}, [], self.s.quirks())

    def lldp(self) -> list[LldpNeighbour]:
        """Chassis of the host system -> NetworkAdapters -> Ports -> ``Ethernet.LLDPReceive``."""
        found: list[LldpNeighbour] = []
        for chassis_uri in links_of(self.s.system().get("Links"), "Chassis")[:4]:
            chassis = self.s.fetch(chassis_uri)
            for nic in self.s.members(link(chassis, "NetworkAdapters"), "network adapters"):
                for port in self.s.members(link(nic, "Ports"), "network ports"):
                    seen = neighbour(port)
                    if seen is not None:
                        found.append(seen)
        return found


class RedfishHealth(base.HealthInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def health(self) -> Observation:
        return run_sync(resources.read_health(self.host, system=self.s.pin()), self.s.fetch)


class RedfishLogs(base.LogsInterface):
    protocol = "redfish"

    def __init__(self, shared: Shared, host: str) -> None:
        self.s = shared
        self.host = host

    def entries(self, limit: int = 50) -> list[LogEntry]:
        obs = run_sync(resources.read_observation(self.host, sections={"logs"}, log_limit=limit,
                                                  system=self.s.pin()), self.s.fetch)
        return list(obs.log_entries)


def redfish_bmc(host: str, conn: RedfishConnector, *, pacing: Pacing | None = None,
                clock: Clock | None = None) -> base.Bmc:
    """The Redfish concerns of one host over ``conn`` (closed with the Bmc). ``pacing`` says how
    often long operations (tasks, busy controllers, BMC reboots) are polled and for how long."""
    shared = Shared(conn, pacing, clock)
    pacing, clock = shared.pacing, shared.clock
    reason = "Redfish has no serial console; use IPMI SOL (protocol: ipmi or auto)"
    tasks = RedfishTasks(shared, pacing, clock)
    return base.Bmc(
        host=host, protocol="redfish",
        power=RedfishPower(shared), boot=RedfishBoot(shared), vmedia=RedfishVirtualMedia(shared),
        inventory=RedfishInventory(shared, host), health=RedfishHealth(shared, host),
        logs=RedfishLogs(shared, host), bios=RedfishBios(shared),
        raid=RedfishRaid(shared, host, pacing, clock, tasks=tasks),
        firmware=RedfishFirmware(shared, host, pacing, clock),
        console=base.UnsupportedConsole(host, "redfish", reason),
        closers=[conn.close], tasks=tasks,
    )
