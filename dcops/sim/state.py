"""The state of one simulated BMC and its server: power, boot, sessions, BIOS, virtual media, tasks,
SEL, component health and network behaviour, as state machines driven by a clock.

Nothing here touches a socket. Timed transitions are events in a heap; ``tick(now)`` applies those
that are due, stamping SEL entries with the time they were due, so a test drives everything with a
fake clock. The fleet registers ``scheduler`` to get a call at each event's due time, so that events
happen on time even when nobody asks (a BMC coming back after a reboot, a rebuild finishing).
"""

from __future__ import annotations

import heapq
import itertools
import random
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any

from dcops.sim import identity
from dcops.sim.bios import REGISTRIES, Registry, check_attributes, default_value
from dcops.sim.messages import LOGIN_FAILED, SESSION_LIMIT, RedfishError, sel_text
from dcops.sim.profiles import Flavour, HardwareProfile
from dcops.sim.records import (
    HEALTH_ORDER,
    TIMING_PRESETS,
    Clock,
    Credentials,
    Fault,
    LogRecord,
    NetBehaviour,
    Session,
    Task,
    Timings,
    VirtualMediaState,
    iso,
    worst,
)

__all__ = [
    "HEALTH_ORDER", "TIMING_PRESETS", "Bmc", "Clock", "Credentials", "DEFAULT_CREDENTIALS", "Fault", "LogRecord",
    "NetBehaviour", "Session", "Task", "Timings", "VirtualMediaState", "iso", "worst",
]

DEFAULT_CREDENTIALS = Credentials("admin", "password")
REQUEST_LOG_SIZE = 128
SEL_CAPACITY = 1024
BOOT_TARGETS_FOR_OVERRIDE = ("Once", "Continuous", "Disabled")


class Bmc:
    """One simulated BMC and the server behind it."""

    def __init__(self, index: int, name: str, profile: HardwareProfile, *, seed: int = 0,
                 credentials: Credentials = DEFAULT_CREDENTIALS, clock: Clock = time.time,
                 timings: Timings | None = None, rack: str | None = None, request_log: int = REQUEST_LOG_SIZE,
                 rng: random.Random | None = None) -> None:
        from dcops.sim.firmware import FirmwareState
        from dcops.sim.jobs import JobQueue
        from dcops.sim.storage import StorageState

        self.index = index
        self.name = name
        self.profile = profile
        self.seed = seed
        self.credentials = credentials
        self.clock = clock
        self.timings = timings or TIMING_PRESETS["demo"]
        self.rack = rack
        self.u: int | None = None  # rack position, when the fleet knows it
        self.address = "127.0.0.1"
        self.port = 0
        # The port of the BMC's SSH serial console (Manager.SerialConsole "SSH" and NetworkProtocol
        # SSH.Port); None: advertised as the vendor's capture does, on port 22.
        self.serial_ssh_port: int | None = None
        self.rng = rng or random.Random(identity.pick(seed, index, "rng", 2**31))
        self._serial: str | None = None
        self._uuid: str | None = None
        self.scheduler: Callable[[float], None] | None = None
        self.on_reachability: Callable[[Bmc], None] | None = None
        now = clock()
        self.created = now
        self._events: list[tuple[float, int, Callable[[float], None]]] = []
        self._event_seq = itertools.count()
        # power and boot
        self.power = "On"
        self.boot_progress = "OSRunning"
        self.last_reset = now - 3600 * 24 * (1 + identity.pick(seed, index, "uptime", 60))
        self._power_gen = 0
        self.boot = {"BootSourceOverrideTarget": "None", "BootSourceOverrideEnabled": "Disabled",
                     "BootSourceOverrideMode": "UEFI"}
        self.last_boot: dict[str, Any] = {}
        self.asset_tag = ""
        self.indicator_led = "Off"
        self.power_before_ac_loss = "On"
        # sessions
        self.sessions: dict[str, Session] = {}  # token -> session
        self._session_seq = itertools.count(1)
        self.sessions_created = 0
        self.sessions_deleted = 0
        self.sessions_expired = 0
        # graphical console (dcops.sim.kvm): one-time console credentials handed out -> flavour name
        self.kvm_grants: dict[str, str] = {}
        self.kvm_interface = "HTML 5"  # Supermicro IKVM "Current interface" ("JAVA plug-in": Java only)
        self.kvm_encryption = False  # Huawei KvmService EncryptionEnabled
        # BIOS: only differences from the registry defaults are stored
        self.bios_current: dict[str, Any] = {}
        self.bios_pending: dict[str, Any] = {}
        self.bios_reset_pending = False
        self.bios_applied_at: float | None = None
        self.bios_refused: set[str] = set()  # bios_refuse fault: accepted by the PATCH, dropped at POST
        self.bios_failed: list[str] = []  # attributes dropped at the last POST that applied settings
        # OS install: the last install seen (``install`` in the control API). The installer reads
        # the inserted media in a worker thread (dcops.sim.installer) and hands its outcome back
        # through ``post``, which the fleet sets to run a callable on the simulator's loop.
        # The install_poweroff fault replaces it by a blind installer that only powers off.
        self.install_poweroff: float | None = None
        self.install: dict[str, Any] = {}
        # LLDP neighbours seen by the host's NIC ports (global port number, 0-based -> switch
        # name, switch port, switch MAC), served in Port.Ethernet.LLDPReceive as HPE iLO 6 does;
        # empty = "NotTransmitted", as in the capture (fault lldp_neighbor cables a port).
        self.lldp: dict[int, dict[str, str]] = {}
        self.post: Callable[[Callable[[], None]], None] | None = None
        self.vanish_tasks = 0  # task_vanish fault: how many of the next tasks lose their monitor
        self.vanished_tasks: list[str] = []
        # virtual media
        self.vmedia: dict[str, VirtualMediaState] = {vid: VirtualMediaState() for vid, _ in self.flavour.vmedia}
        # tasks
        self.tasks: dict[str, Task] = {}
        self._task_seq = itertools.count(1)
        # SEL
        self.sel: deque[LogRecord] = deque(maxlen=SEL_CAPACITY)
        self._sel_seq = itertools.count(1)
        # health overrides by component key ("psu:1", "fan:2", "temp:cpu1", "dimm:1:1", "cpu:1"),
        # sensor reading overrides, redundancy, faults
        self.health: dict[str, str] = {}
        self.comp_state: dict[str, str] = {}
        self.readings: dict[str, float] = {}
        self.redundancy_lost = False
        self.faults: dict[str, Fault] = {}
        # Faults armed to strike inside a visit: (path substring, kind, args), applied just before
        # the first request whose path contains the substring (sim.faults.strike_armed).
        self.armed: list[tuple[str, str, dict[str, str]]] = []
        self.net = NetBehaviour()
        self.requests: deque[tuple[int, float, str, str, int, str]] = deque(maxlen=request_log)
        self._request_seq = itertools.count(1)
        self.request_count = 0
        self.storage = StorageState(self)
        self.firmware = FirmwareState(self)
        # iDRAC's job queue: BIOS values apply at POST only through a scheduled configuration job.
        self.jobs = JobQueue(self) if self.flavour.spare_binding == "dell" else None
        self.add_sel("log_cleared", at=self.last_reset - 60)
        self.add_sel("power_on", at=self.last_reset)

    # ------------------------------------------------------------------ basics
    @property
    def flavour(self) -> Flavour:
        return self.profile.flavour

    @property
    def registry(self) -> Registry:
        return REGISTRIES[self.flavour.name]

    @property
    def serial(self) -> str:
        if self._serial is None:
            fl = self.flavour
            self._serial = identity.serial(self.seed, self.index, "system", fl.serial_length, fl.serial_prefix)
        return self._serial

    @property
    def uuid(self) -> str:
        if self._uuid is None:
            self._uuid = identity.system_uuid(self.seed, self.index)
        return self._uuid

    @property
    def asset_tag_default(self) -> str:
        return f"AT{self.index + 1:06d}"

    def mac(self, port: int) -> str:
        """MAC of host NIC port ``port`` (0-based over all NICs); port 63 is the BMC's own."""
        return identity.mac_for(self.seed, self.index, port, self.flavour.mac_oui)

    # ------------------------------------------------------------------ events
    def schedule(self, delay: float, action: Callable[[float], None], *, at: float | None = None) -> float:
        """Run ``action(due_time)`` ``delay`` seconds from now (or at ``at``)."""
        due = (self.clock() if at is None else at) + (0.0 if at is not None else delay)
        heapq.heappush(self._events, (due, next(self._event_seq), action))
        if self.scheduler is not None:
            self.scheduler(due)
        return due

    def tick(self, now: float | None = None) -> None:
        """Apply every event that is due at ``now`` (default: the clock), in order."""
        if not self._events:
            return
        now = self.clock() if now is None else now
        while self._events and self._events[0][0] <= now:
            due, _, action = heapq.heappop(self._events)
            action(due)

    @property
    def next_event(self) -> float | None:
        return self._events[0][0] if self._events else None

    # ------------------------------------------------------------------ SEL
    def add_sel(self, event: str, *, at: float | None = None, sensor_number: int = 0, **args: object) -> LogRecord:
        text = sel_text(self.flavour.name, event, **args)
        record = LogRecord(next(self._sel_seq), self.clock() if at is None else at, text.message_id, text.message,
                           text.severity, text.sensor_type, text.entry_code, sensor_number)
        self.sel.append(record)
        return record

    def clear_sel(self) -> None:
        self.sel.clear()
        self.add_sel("log_cleared")

    # ------------------------------------------------------------------ power
    def reset(self, reset_type: str) -> None:
        """ComputerSystem.Reset. Raises RedfishError for unsupported types and impossible requests."""
        self._reset(reset_type)
        if self.net.errors_after_reset:
            # A ``readback_fails`` fault: the reset was carried out, then the BMC stops serving.
            self.net.error_rate = 1.0
            self.net.error_status = self.net.errors_after_reset
            self.net.errors_after_reset = 0

    def _reset(self, reset_type: str) -> None:
        self.tick()
        fl = self.flavour
        if reset_type not in fl.reset_types and reset_type != "ForceOn":
            raise RedfishError(400, "ActionParameterValueNotInList", (reset_type, "ResetType", "ComputerSystem.Reset"))
        on = self.power in ("On", "PoweringOn")
        if reset_type in ("On", "ForceOn"):
            if on:
                if fl.power_on_when_on == "conflict":
                    raise RedfishError(409, "ResourceInUse", vendor=(
                        "IDRAC.2.8.PSU501", "Unable to perform the requested operation because the server is "
                        "already powered ON."))
                return
            self._start_power_on(0.0)
        elif reset_type == "ForceOff":
            if not on and self.power == "Off":
                if fl.power_on_when_on == "conflict":
                    raise RedfishError(409, "ResourceInUse", vendor=(
                        "IDRAC.2.8.PSU502", "Unable to perform the requested operation because the server is "
                        "already powered OFF."))
                return
            self._power_off_now(self.clock(), sel=True)
        elif reset_type == "GracefulShutdown":
            if not on:
                if fl.power_on_when_on == "conflict":
                    raise RedfishError(409, "ResourceInUse", vendor=(
                        "IDRAC.2.8.PSU502", "Unable to perform the requested operation because the server is "
                        "already powered OFF."))
                return
            gen = self._bump()
            self.power = "PoweringOff"
            self.schedule(self.timings.power_off, lambda at: self._if_gen(gen, self._power_off_now, at))
        elif reset_type in ("GracefulRestart", "ForceRestart", "PowerCycle"):
            if not on:
                if fl.power_on_when_on == "conflict":
                    raise RedfishError(409, "ResourceInUse", vendor=(
                        "IDRAC.2.8.PSU502", "Unable to perform the requested operation because the server is "
                        "powered OFF."))
                self._start_power_on(0.0)
                return
            if reset_type == "GracefulRestart":
                gen = self._bump()
                self.power = "PoweringOff"

                def off_then_on(at: float) -> None:
                    self._power_off_now(at, sel=True)
                    self._start_power_on(self.timings.restart_gap, at=at)

                self.schedule(self.timings.power_off, lambda at: self._if_gen(gen, off_then_on, at))
            else:
                now = self.clock()
                self._power_off_now(now, sel=reset_type == "PowerCycle")
                gap = self.timings.restart_gap * (3 if reset_type == "PowerCycle" else 1)
                self._start_power_on(gap, at=now)
        elif reset_type == "PushPowerButton":
            self._reset("GracefulShutdown" if on else "On")
        elif reset_type == "Nmi":
            if on:
                self.add_sel("nmi")
        else:  # pragma: no cover - guarded by reset_types
            raise RedfishError(400, "ActionParameterValueNotInList", (reset_type, "ResetType", "ComputerSystem.Reset"))

    def _bump(self) -> int:
        self._power_gen += 1
        return self._power_gen

    def _if_gen(self, gen: int, action: Callable[[float], None], at: float) -> None:
        if gen == self._power_gen:
            action(at)

    def _power_off_now(self, at: float, sel: bool = True) -> None:
        self._bump()
        was_on = self.power != "Off"
        self.power = "Off"
        self.boot_progress = "None"
        if sel and was_on:
            self.add_sel("power_off", at=at)

    def _start_power_on(self, delay: float, *, at: float | None = None) -> None:
        gen = self._bump()
        start = (self.clock() if at is None else at) + delay

        def begin(t: float) -> None:
            if gen != self._power_gen:
                return
            self.power = "PoweringOn"
            self.boot_progress = "PrimaryProcessorInitializationStarted"
            self.schedule(0.0, lambda t2: self._if_gen(gen, self._powered_on, t2), at=t + self.timings.power_on)

        if delay <= 0 and at is None:
            begin(start)
        else:
            self.schedule(0.0, begin, at=start)

    def _powered_on(self, at: float) -> None:
        """POST: apply pending BIOS settings and staged firmware, consume a one-time boot override."""
        gen = self._power_gen
        self.power = "On"
        self.last_reset = at
        self.boot_progress = "SystemHardwareInitializationComplete"
        self.add_sel("power_on", at=at)
        refused = [name for name in self.bios_pending if name in self.bios_refused]
        if (self.bios_pending or self.bios_reset_pending) and (self.jobs is None or self.jobs.at_post(at, refused)):
            if self.bios_reset_pending:
                self.bios_current = {}
                self.bios_reset_pending = False
            # A bios_refuse fault: the BMC took the value, the BIOS drops it at POST (the config job
            # fails for that attribute): the current value stays, the pending one is gone.
            self.bios_failed = refused
            for name in self.bios_failed:
                del self.bios_pending[name]
                self.add_sel("bios_attr_failed", at=at, name=name)
            self.bios_current.update(self.bios_pending)
            self.bios_pending = {}
            self.bios_applied_at = at
        self.firmware.apply_staged(at)
        self.storage.apply_staged(at)
        target = self.boot["BootSourceOverrideTarget"]
        enabled = self.boot["BootSourceOverrideEnabled"]
        source = target if enabled != "Disabled" and target != "None" else "Hdd"
        image = None
        if source == "Cd":
            image = next((m.image for m in self.vmedia.values() if m.inserted), None)
        self.last_boot = {"source": source, "image": image, "mode": self.boot["BootSourceOverrideMode"],
                          "at": iso(at)}
        if enabled == "Once":
            self.boot["BootSourceOverrideEnabled"] = "Disabled"
            self.boot["BootSourceOverrideTarget"] = "None"
        if source == "BiosSetup":
            self.schedule(0.0, lambda t: self._if_gen(gen, self._set_progress("SetupEntered"), t),
                          at=at + self.timings.boot * 0.2)
            return
        self.schedule(0.0, lambda t: self._if_gen(gen, self._set_progress("OSBootStarted"), t),
                      at=at + self.timings.boot * 0.4)
        self.schedule(0.0, lambda t: self._if_gen(gen, self._set_progress("OSRunning"), t),
                      at=at + self.timings.boot)
        if source == "Cd" and image is not None:
            if self.install_poweroff is not None:
                self._start_install(gen, image, at)
            else:
                self._boot_installer(gen, image, at)

    # ------------------------------------------------------------------ the installer
    def installer_disks(self) -> list[Any]:
        """The block devices the installer's kernel sees: inserted USB-type virtual media first
        (a BMC's virtual USB stick enumerates before the RAID controller on iDRAC, iLO and XCC,
        so ``sda`` is not the OS volume), then the volumes in controller order."""
        from dcops.sim.installer import Disk

        disks: list[Disk] = []
        types = dict(self.flavour.vmedia)
        for vid, m in self.vmedia.items():
            if m.inserted and not ({"CD", "DVD"} & set(types[vid] or ("CD",))):
                disks.append(Disk("", (), "", f"virtual media {vid}"))
        for vol in self.storage.volumes:
            wwn = vol.wwn.lower()
            disks.append(Disk("", (f"/dev/disk/by-id/wwn-0x{wwn}",) if wwn else (), f"3{wwn}" if wwn else "",
                              f"volume {vol.name} ({vol.raid_type})"))
        for n, disk in enumerate(disks):
            disk.kernel = "sd" + "abcdefghijklmnopqrstuvwxyz"[n % 26]
        return disks

    def _boot_installer(self, gen: int, image: str, at: float) -> None:
        """An installer booted from the virtual CD: once its kernel is up it reads the media
        (``dcops.sim.installer``); the outcome comes back in ``_install_examined``."""
        from dcops.sim import installer

        urls = [m.image for m in self.vmedia.values() if m.inserted and m.image]
        # The BMC reads each image over its own TLS client: verified only when the slot says so.
        tls = {m.image: installer.bmc_tls(m.verify_certificate, list(m.certificates))
               for m in self.vmedia.values() if m.inserted and m.image and m.image.lower().startswith("https:")}
        record: dict[str, Any] = {"image": image, "media": urls, "started": iso(at), "finished": None,
                                  "state": "booting", "answer": None, "error": None, "callbacks": []}
        self.install = record

        def begin(t: float) -> None:
            post = self.post
            if post is None:  # a Bmc without a fleet loop (unit tests): nothing reads the media
                record.update(state="waiting", error="no installer runtime (the Bmc runs without a fleet)")
                return
            disks = self.installer_disks()
            record["state"] = "reading media"

            def work() -> None:
                outcome = installer.examine(urls, disks, lambda url: installer.fetch(url, tls.get(url)),
                                            cd_url=image)
                post(lambda: self._install_examined(gen, record, outcome))

            installer.spawn(work)

        self.schedule(0.0, lambda t: self._if_gen(gen, begin, t), at=at + self.timings.boot)

    def _install_current(self, gen: int, record: dict[str, Any]) -> bool:
        return gen == self._power_gen and self.install is record

    def _install_failed(self, record: dict[str, Any], error: str, error_urls: tuple[str, ...],
                        facts: Any = None) -> None:
        """The installer stopped with ``error`` on its console; its error hook (%onerror,
        error-commands) reports it when the answer file has one; the host stays on, at the error."""
        from dcops.sim import installer

        record.update(state="failed", error=error)
        self.add_sel("install_error", value=error[:200])
        if error_urls:
            def work() -> None:
                try:
                    ca = facts.trusted_ca() if facts is not None else None
                    errors = installer.call(error_urls, "failed", error, ca)
                except ValueError as exc:
                    errors = [str(exc)]
                record["callbacks"].extend({"url": "error", "error": e} for e in errors)
            installer.spawn(work)

    def _install_examined(self, gen: int, record: dict[str, Any], outcome: Any) -> None:
        from dcops.sim import installer

        if not self._install_current(gen, record):
            return  # the host was reset or powered off while the media were read
        self.tick()
        record["answer"] = outcome.answer()
        record["fetched"] = outcome.fetched
        facts = outcome.facts
        if outcome.error:
            self._install_failed(record, outcome.error, facts.error_urls if facts is not None else (), facts)
            return
        if outcome.prompt:
            # subiquity without ``autoinstall`` on its command line: a question on the console
            # and no progress until someone answers (no callback, no power-off, ever).
            record.update(state="waiting", console=outcome.prompt)
            return
        record["state"] = "installing"

        def finish(t: float) -> None:
            keys = f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{self.serial}hostkey root@{facts.hostname or self.name}\n"

            def work() -> None:
                try:
                    errors = installer.call(facts.done_urls, "ok", keys, facts.trusted_ca())
                except ValueError as exc:  # --cacert names a file the answer never wrote
                    errors = [str(exc)]
                post = self.post
                if post is not None:
                    post(lambda: self._install_finished(gen, record, facts, errors))

            installer.spawn(work)

        self.schedule(0.0, lambda t: self._if_gen(gen, finish, t), at=self.clock() + self.timings.install)

    def _install_finished(self, gen: int, record: dict[str, Any], facts: Any, errors: list[str]) -> None:
        if not self._install_current(gen, record):
            return
        self.tick()
        # The shipped answer files let a completion call that cannot get through pass (``|| true``):
        # the install goes on to its power-off, which is what dcops then sees.
        record["callbacks"].extend({"url": "done", "error": e} for e in errors)
        record["state"] = "installed"
        at = self.clock()
        self.add_sel("install_done", at=at)
        if facts.poweroff:
            self.power = "PoweringOff"

            def off(t2: float) -> None:
                self._power_off_now(t2, sel=True)
                record["finished"] = iso(t2)

            self.schedule(0.0, lambda t2: self._if_gen(gen, off, t2), at=at + self.timings.power_off)
        else:
            record["finished"] = iso(at)
            self.reset("ForceRestart")  # shutdown: reboot; the one-time CD override is consumed: disk

    def _start_install(self, gen: int, image: str, at: float) -> None:
        """An installer booted from virtual media: it runs ``install_poweroff`` seconds once its OS is
        up, then powers the host off (``poweroff`` in a kickstart), as a graceful shutdown would."""
        assert self.install_poweroff is not None
        done_at = at + self.timings.boot + self.install_poweroff
        self.install = {"image": image, "started": iso(at), "finished": None}
        record = self.install

        def finished(t: float) -> None:
            self.add_sel("install_done", at=t)
            self.power = "PoweringOff"

            def off(t2: float) -> None:
                self._power_off_now(t2, sel=True)
                record["finished"] = iso(t2)

            self.schedule(0.0, lambda t2: self._if_gen(gen, off, t2), at=t + self.timings.power_off)

        self.schedule(0.0, lambda t: self._if_gen(gen, finished, t), at=done_at)

    def _set_progress(self, value: str) -> Callable[[float], None]:
        def setter(at: float) -> None:
            self.boot_progress = value
        return setter

    def abnormal_power_off(self, at: float | None = None) -> None:
        """The host loses power without a shutdown (IERR, both PSUs gone)."""
        at = self.clock() if at is None else at
        self._power_off_now(at, sel=False)

    # ------------------------------------------------------------------ system PATCH
    def patch_system(self, body: dict[str, Any]) -> None:
        """PATCH of the ComputerSystem: Boot override, AssetTag, IndicatorLED, LocationIndicatorActive."""
        writable = {"Boot", "AssetTag", "IndicatorLED", "LocationIndicatorActive"}
        readonly = {"PowerState", "Id", "Name", "SerialNumber", "Model", "Manufacturer", "UUID", "Status",
                    "BiosVersion", "SKU", "BootProgress", "MemorySummary", "ProcessorSummary"}
        problems: list[tuple[str, tuple[str, ...]]] = []
        for key in body:
            if key.startswith("@"):
                continue
            if key in readonly:
                problems.append(("PropertyNotWritable", (key,)))
            elif key not in writable:
                problems.append(("PropertyUnknown", (key,)))
        boot = body.get("Boot")
        new_boot = dict(self.boot)
        if boot is not None:
            if not isinstance(boot, dict):
                problems.append(("PropertyValueTypeError", (str(boot), "Boot")))
            else:
                for key, value in boot.items():
                    if key == "BootSourceOverrideTarget":
                        if value not in self.flavour.boot_targets:
                            problems.append(("PropertyValueNotInList", (str(value), key)))
                    elif key == "BootSourceOverrideEnabled":
                        if value not in BOOT_TARGETS_FOR_OVERRIDE:
                            problems.append(("PropertyValueNotInList", (str(value), key)))
                    elif key == "BootSourceOverrideMode":
                        if value not in ("UEFI", "Legacy"):
                            problems.append(("PropertyValueNotInList", (str(value), key)))
                    elif key in ("BootOrder", "UefiTargetBootSourceOverride", "HttpBootUri"):
                        pass  # accepted and ignored
                    else:
                        problems.append(("PropertyUnknown", (f"Boot/{key}",)))
                        continue
                    new_boot[key] = value
                if ("BootSourceOverrideTarget" in boot and boot["BootSourceOverrideTarget"] != "None"
                        and "BootSourceOverrideEnabled" not in boot and new_boot["BootSourceOverrideEnabled"] == "Disabled"):
                    new_boot["BootSourceOverrideEnabled"] = "Once"
        if "IndicatorLED" in body and body["IndicatorLED"] not in ("Lit", "Blinking", "Off"):
            problems.append(("PropertyValueNotInList", (str(body["IndicatorLED"]), "IndicatorLED")))
        if "AssetTag" in body and not isinstance(body["AssetTag"], str):
            problems.append(("PropertyValueTypeError", (str(body["AssetTag"]), "AssetTag")))
        if "LocationIndicatorActive" in body and not isinstance(body["LocationIndicatorActive"], bool):
            problems.append(("PropertyValueTypeError", (str(body["LocationIndicatorActive"]),
                                                        "LocationIndicatorActive")))
        if problems:
            raise RedfishError(400, problems[0][0], problems[0][1], more=problems[1:])
        self.boot = {k: new_boot[k] for k in ("BootSourceOverrideTarget", "BootSourceOverrideEnabled",
                                               "BootSourceOverrideMode")}
        if "AssetTag" in body:
            self.asset_tag = body["AssetTag"]
        if "IndicatorLED" in body:
            self.indicator_led = body["IndicatorLED"]
        if "LocationIndicatorActive" in body:
            self.indicator_led = "Lit" if body["LocationIndicatorActive"] else "Off"

    # ------------------------------------------------------------------ sessions
    def login(self, username: Any, password: Any) -> Session:
        """POST to SessionService/Sessions. Raises 401 on bad credentials, 503 when the limit is hit."""
        if (not isinstance(username, str) or not isinstance(password, str)
                or not secrets.compare_digest(username.encode(), self.credentials.username.encode())
                or not secrets.compare_digest(password.encode(), self.credentials.password.encode())):
            raise RedfishError(401, "NoValidSession", vendor=LOGIN_FAILED.get(self.flavour.name))
        now = self.clock()
        self.expire_sessions(now)
        if len(self.sessions) >= self.flavour.session_limit:
            raise RedfishError(503, "SessionLimitExceeded", vendor=SESSION_LIMIT.get(self.flavour.name),
                               headers={"Retry-After": "30"})
        seq = next(self._session_seq)
        sid = secrets.token_hex(16) if self.flavour.session_id_style == "hex" else str(seq)
        token = secrets.token_hex(16)
        session = Session(sid, token, username, now, now)
        self.sessions[token] = session
        self.sessions_created += 1
        return session

    def session_by_token(self, token: str) -> Session | None:
        session = self.sessions.get(token)
        if session is None:
            return None
        now = self.clock()
        if now - session.last_used > self.flavour.session_timeout:
            del self.sessions[token]
            self.sessions_expired += 1
            return None
        session.last_used = now
        return session

    def session_by_id(self, sid: str) -> Session | None:
        return next((s for s in self.sessions.values() if s.id == sid), None)

    def logout(self, sid: str) -> bool:
        session = self.session_by_id(sid)
        if session is None:
            return False
        del self.sessions[session.token]
        self.sessions_deleted += 1
        return True

    def expire_sessions(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        for token, session in list(self.sessions.items()):
            if now - session.last_used > self.flavour.session_timeout:
                del self.sessions[token]
                self.sessions_expired += 1

    def drop_sessions(self) -> None:
        """A BMC reboot forgets every session."""
        self.sessions_expired += len(self.sessions)
        self.sessions.clear()

    # ------------------------------------------------------------------ BIOS
    def _fill(self) -> dict[str, str]:
        return {"serial": self.serial, "model": self.profile.model, "bios_version": self.firmware.version("bios")}

    def bios_attributes(self) -> dict[str, Any]:
        """Current BIOS attributes (registry defaults overlaid by applied changes)."""
        fill = self._fill()
        values: dict[str, Any] = {}
        for attr in self.registry.attributes:
            if attr.type == "Password":
                values[attr.name] = None
            else:
                values[attr.name] = self.bios_current.get(attr.name, default_value(attr, fill))
        return values

    def patch_bios(self, changes: Any) -> None:
        """PATCH of the BIOS settings object: validated against the registry, then pending."""
        if not isinstance(changes, dict):
            raise RedfishError(400, "PropertyValueTypeError", (str(changes), "Attributes"))
        problems = check_attributes(self.registry, changes)
        if problems:
            first, rest = problems[0], problems[1:]
            raise RedfishError(400, first.message, first.args, more=[(p.message, p.args) for p in rest])
        for name, value in changes.items():
            if self.registry.get(name) and self.registry.get(name).type == "Password":  # type: ignore[union-attr]
                continue  # applied, never shown
            self.bios_pending[name] = value

    def reset_bios(self) -> None:
        self.bios_pending = {}
        self.bios_reset_pending = True

    # ------------------------------------------------------------------ virtual media
    def insert_media(self, vid: str, params: dict[str, Any]) -> None:
        fl = self.flavour
        media = self.vmedia[vid]
        action = "VirtualMedia.InsertMedia"
        for key in params:
            if key in fl.vmedia_rejects:
                # Quirk (Supermicro X12/X13): these parameters are refused although the schema has them.
                raise RedfishError(400, "ActionParameterNotSupported", (key, action))
            if key not in ("Image", "Inserted", "WriteProtected", "TransferProtocolType", "TransferMethod",
                           "UserName", "Password", "MediaType"):
                raise RedfishError(400, "ActionParameterUnknown", (action, key))
        image = params.get("Image")
        if image is None:
            raise RedfishError(400, "ActionParameterMissing", (action, "Image"))
        if not isinstance(image, str) or "://" not in image:
            raise RedfishError(400, "ActionParameterValueFormatError", (str(image), "Image", action))
        scheme = image.split("://", 1)[0].upper()
        if scheme not in ("HTTP", "HTTPS", "NFS", "CIFS", "SMB"):
            raise RedfishError(400, "ActionParameterValueFormatError", (image, "Image", action))
        protocol = params.get("TransferProtocolType")
        if protocol is not None and protocol not in ("HTTP", "HTTPS", "NFS", "CIFS"):
            raise RedfishError(400, "ActionParameterValueNotInList", (str(protocol), "TransferProtocolType", action))
        # A slot listing no MediaTypes (Gigabyte/AMI MegaRAC CD1) takes a CD image.
        types = dict(fl.vmedia)[vid] or ("CD",)
        if image.lower().endswith(".iso") and not ({"CD", "DVD"} & set(types)):
            raise RedfishError(400, "ActionParameterValueNotInList", (image, "Image", action))
        if media.inserted:
            raise RedfishError(409, "ResourceInUse")
        if params.get("Inserted") is False:
            raise RedfishError(400, "ActionParameterValueNotInList", ("false", "Inserted", action))
        media.image = image
        media.inserted = True
        media.write_protected = bool(params.get("WriteProtected", True))
        media.protocol = protocol or ("HTTPS" if scheme == "HTTPS" else scheme if scheme != "SMB" else "CIFS")
        media.user = params.get("UserName")

    def eject_media(self, vid: str) -> None:
        media = self.vmedia[vid]
        if not media.inserted:
            if self.flavour.name == "dell":
                raise RedfishError(400, "ResourceInUse", vendor=(
                    "IDRAC.2.8.VRM0009", "No Virtual Media devices are currently connected."))
            return
        # VerifyCertificate and the imported certificates are settings of the slot, not of the media.
        self.vmedia[vid] = VirtualMediaState(verify_certificate=media.verify_certificate,
                                             certificates=media.certificates)

    # ------------------------------------------------------------------ tasks
    def new_task(self, name: str, kind: str, duration: float, target: str = "") -> Task:
        seq = next(self._task_seq)
        now = self.clock()
        if self.flavour.task_id_style == "jid":
            tid = f"JID_{(int(now) % 10**9) * 1000 + seq % 1000:012d}"
        else:
            tid = str(seq)
        task = Task(tid, name, kind, now, duration, target=target)
        task.messages.append(("TaskEvent.1.0.TaskStarted", f"The task with Id '{tid}' has started.", "OK"))
        self.tasks[tid] = task
        if self.vanish_tasks > 0 and kind in ("firmware", "raid"):
            # task_vanish fault: the BMC forgets the task right after answering 202 (its monitor and
            # the Task answer 404), while the operation itself goes on and completes.
            self.vanish_tasks -= 1
            self.schedule(0.0, lambda at: self._vanish(tid))
            if self.vanish_tasks == 0:
                self.faults.pop("task_vanish", None)
        if len(self.tasks) > 32:  # a BMC keeps a bounded task list
            for old in list(self.tasks)[: len(self.tasks) - 32]:
                if self.tasks[old].state not in ("Running", "Pending"):
                    del self.tasks[old]
        return task

    def _vanish(self, tid: str) -> None:
        """task_vanish: the BMC forgets a task (monitor and Task answer 404); its operation goes on."""
        self.tasks.pop(tid, None)
        self.vanished_tasks.append(tid)

    def finish_task(self, task: Task, at: float, ok: bool = True, message: tuple[str, str] | None = None) -> None:
        task.end = at
        task.state = "Completed" if ok else "Exception"
        task.status = "OK" if ok else "Critical"
        if message:
            task.messages.append((message[0], message[1], "OK" if ok else "Critical"))
        if ok:
            task.messages.append(("TaskEvent.1.0.TaskCompletedOK",
                                  f"The task with Id '{task.id}' has completed.", "OK"))
        else:
            task.messages.append(("TaskEvent.1.0.TaskAborted",
                                  f"The task with Id '{task.id}' has completed with errors.", "Critical"))
        if self.flavour.name == "dell":
            # Quirk (Dell iDRAC9): a finished task does not stay: after a while its URI answers 404
            # (clients must read the outcome in time, or confirm from the inventory).
            def forget(_at: float, tid: str = task.id) -> None:
                self.tasks.pop(tid, None)

            self.schedule(0.0, forget, at=at + self.timings.task_linger)

    # ------------------------------------------------------------------ reachability
    def set_down(self, reason: str, down: bool) -> None:
        before = self.net.reachable
        if down:
            self.net.down.add(reason)
        else:
            self.net.down.discard(reason)
        if before != self.net.reachable and self.on_reachability is not None:
            self.on_reachability(self)

    def reboot_bmc(self, at: float | None = None, duration: float | None = None) -> None:
        """The BMC restarts: unreachable for a while, every session gone."""
        at = self.clock() if at is None else at
        self.drop_sessions()
        self.set_down("reboot", True)

        def back(t: float) -> None:
            self.set_down("reboot", False)
            self.add_sel("bmc_reset", at=t)

        self.schedule(0.0, back, at=at + (self.timings.bmc_reboot if duration is None else duration))

    def ac_lost(self, at: float | None = None) -> None:
        """Power to the server is cut (rack power loss): host off, BMC dark, sessions gone."""
        at = self.clock() if at is None else at
        if "rack" in self.net.down:
            return
        self.power_before_ac_loss = "On" if self.power in ("On", "PoweringOn") else "Off"
        self._power_off_now(at, sel=False)
        self.drop_sessions()
        self.set_down("rack", True)

    def ac_restored(self, at: float | None = None) -> None:
        """Power returns: the BMC boots, logs the loss, and the host follows the AC recovery policy."""
        at = self.clock() if at is None else at
        if "rack" not in self.net.down:
            return

        def back(t: float) -> None:
            self.set_down("rack", False)
            self.add_sel("ac_lost", at=t)
            policy = self.ac_policy()
            if policy == "On" or (policy == "Last" and self.power_before_ac_loss == "On"):
                self._start_power_on(0.0, at=t)

        self.schedule(0.0, back, at=at + self.timings.ac_restore)

    def ac_policy(self) -> str:
        """What the host does when AC returns: On, Off or Last (from the flavour's BIOS attribute)."""
        attrs = self.bios_attributes()
        value = str(attrs.get("AcPwrRcvry") or attrs.get("AutoPowerOn") or attrs.get("RestoreonACPowerLoss_0035")
                    or "Last")
        if value in ("On", "AlwaysPowerOn", "Power On"):
            return "On"
        if value in ("Off", "AlwaysPowerOff", "Stay Off"):
            return "Off"
        return "Last"

    # ------------------------------------------------------------------ health and sensors
    def component_health(self, key: str) -> str:
        return self.health.get(key, "OK")

    def reading(self, key: str, base: float, spread: float, now: float | None = None, digits: int = 1) -> float:
        """A sensor reading: an override when a fault set one, else ``base`` moved by this BMC's own
        offset (stable, within +-``spread``: servers of one model do not read alike -- the inlet
        depends on where the server sits, a rail on its regulator) and a slow wobble (+-``spread``,
        seven steps over 70 s), rounded to ``digits`` as BMCs report (a tenth of a degree, a
        millivolt). Without the offset every server of a model read the same seven values: a
        reader that reuses what it parsed (``read.SENSORS``) looked better than on real fleets."""
        if key in self.readings:
            return self.readings[key]
        now = self.clock() if now is None else now
        crc = zlib.crc32(key.encode())
        phase = (self.index * 7 + crc % 13) % 60
        wobble = ((int(now / 10) + phase) % 7 - 3) / 3.0
        offset = ((crc ^ (self.index * 2654435761)) % 2001 - 1000) / 1000.0
        return round(base + spread * (wobble + offset), digits)

    def power_watts(self) -> int:
        if self.power == "On":
            return self.profile.load_watts
        if self.power in ("PoweringOn", "PoweringOff"):
            return self.profile.idle_watts
        return 0

    def rollup(self, prefix: str) -> str:
        """Worst health of components whose key starts with ``prefix`` (``psu:``, ``dimm:``...)."""
        return worst(*(h for k, h in self.health.items() if k.startswith(prefix)))

    def chassis_health(self) -> str:
        redundancy = "Warning" if self.redundancy_lost else "OK"
        return worst(self.rollup("psu:"), self.rollup("fan:"), self.rollup("temp:"), self.rollup("volt:"), redundancy)

    def system_health(self) -> str:
        return worst(self.rollup("cpu:"), self.rollup("dimm:"), self.storage.health(), self.chassis_health())

    # ------------------------------------------------------------------ request log
    def log_request(self, method: str, path: str, status: int, who: str) -> None:
        self.request_count += 1
        self.requests.append((next(self._request_seq), self.clock(), method, path, status, who))

    def summary(self) -> dict[str, Any]:
        """What the control API shows for this BMC."""
        return {
            "name": self.name, "index": self.index, "profile": self.profile.name, "vendor": self.flavour.vendor,
            "rack": self.rack, "power": self.power, "boot_progress": self.boot_progress,
            "health": self.system_health(), "reachable": self.net.reachable, "down": sorted(self.net.down),
            "sessions": len(self.sessions), "sessions_created": self.sessions_created,
            "sessions_deleted": self.sessions_deleted, "sessions_expired": self.sessions_expired,
            "requests": self.request_count, "faults": sorted(self.faults),
            "serial": self.serial, "uuid": self.uuid,
        }

    def details(self) -> dict[str, Any]:
        data = self.summary()
        data.update({
            "boot_override": dict(self.boot), "last_boot": dict(self.last_boot),
            "install": dict(self.install),
            "bios_pending": dict(self.bios_pending), "bios_changed": dict(self.bios_current),
            "bios_failed": list(self.bios_failed), "tasks_vanished": list(self.vanished_tasks),
            "firmware": self.firmware.versions(), "firmware_staged": dict(self.firmware.staged),
            "virtual_media": {k: {"image": v.image, "inserted": v.inserted} for k, v in self.vmedia.items()},
            "volumes": [v.summary() for v in self.storage.volumes],
            "tasks": {t.id: {"name": t.name, "state": t.state} for t in self.tasks.values()},
            "sel_entries": len(self.sel),
            "net": {"latency": self.net.latency, "extra_latency": self.net.extra_latency,
                    "error_rate": self.net.error_rate, "malformed_rate": self.net.malformed_rate,
                    "down": sorted(self.net.down), "down_mode": self.net.down_mode},
            "faults": {k: {"kind": f.kind, "target": f.target, "args": f.args, "since": iso(f.since)}
                       for k, f in self.faults.items()},
        })
        return data
