"""IPMI over RMCP+ (lanplus): this package is the only importer of pyghmi.

``IpmiSession`` holds one pyghmi session per BMC (logged out on close). ``ipmi_bmc`` returns the
IPMI concerns of a host: power, boot override, sensors (SDR), SEL, FRU, health and the serial
console (SOL through ``ipmitool``, which handles the terminal better than a Python loop).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
import shutil
import struct
import subprocess
import threading
import time
import types
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from pyghmi import exceptions as ipmi_exc
from pyghmi.ipmi import command as ipmi_command
from pyghmi.ipmi import events as ipmi_events
from pyghmi.ipmi import fru as ipmi_fru
from pyghmi.ipmi.private import session as ipmi_private_session

from dcops.bmc import base
from dcops.bmc.ipmi import locks, wakeup
from dcops.errors import ApplyError, UnreachableError
from dcops.models import BmcEndpoint
from dcops.observation import (
    Component,
    ComponentKind,
    FirmwareItem,
    Health,
    Identity,
    LogEntry,
    Observation,
    PowerState,
    ReadError,
    Sensor,
    SensorKind,
    clean_serial,
)
from dcops.secrets import Secret, redact

log = logging.getLogger(__name__)
wakeup.install()  # pyghmi's lost wake-up: each request could wait for its retry timer (see wakeup.py)
locks.install()  # pyghmi's two session-table locks taken in opposite orders: a deadlock (see locks.py)
DEFAULT_PORT = 623
# Completion codes that mean "ask for less": 0xC8 request/response length, 0xC9 parameter out of
# range, 0xCA cannot return that many bytes.
FRU_TOO_BIG = (0xC8, 0xC9, 0xCA)
FRU_FIRST_CHUNK = 224
FRU_MIN_CHUNK = 8

_PYGHMI_HEALTH = {0: Health.OK, 1: Health.WARNING, 2: Health.CRITICAL, 4: Health.CRITICAL}
_UNITS = {"°C": SensorKind.TEMPERATURE, "C": SensorKind.TEMPERATURE, "RPM": SensorKind.FAN,
          "V": SensorKind.VOLTAGE, "W": SensorKind.POWER, "A": SensorKind.CURRENT, "%": SensorKind.PERCENT}
_UNIT_NAMES = {"°C": "Cel", "C": "Cel"}
_SEVERITY = {0: Health.OK, 1: Health.WARNING, 2: Health.CRITICAL}
POWER_MAP = {"on": PowerState.ON, "off": PowerState.OFF}
BOOT_DEVICES = {"cd": "cd", "pxe": "network", "hdd": "hd", "bios": "setup", "usb": "usb", "none": "default"}


class ReadCut(Exception):  # noqa: N818 - what happened to the read, not a failure of the BMC's
    """The caller gave up on this read (its visit's deadline ran out, or its round was cancelled):
    raised before the read's next IPMI command, so the session is left between two commands, ready
    for the next read. Not a DcopsError: the readers that carry on past a BMC's refusal (a sensor
    sweep that fails, an unreadable FRU) must not carry on past this."""


class IpmiSession:
    """One RMCP+ session to one BMC, opened on first use, logged out on ``close``."""

    def __init__(self, host: str, endpoint: BmcEndpoint, password: Secret, timeout: float = 30.0) -> None:
        self.host = host
        self.endpoint = endpoint
        self.timeout = timeout
        self._password = password
        self._cmd: Any = None
        self._lock = threading.RLock()
        # Set by whoever gave up on the read in progress (IpmiFleet: its visit's deadline, or the
        # round's cancellation): the read stops at ``checkpoint``, before its next command.
        self.halt: threading.Event | None = None
        self._sent = 0  # IPMI commands sent on this session (``sent``)
        self._sent_lock = threading.Lock()

    @property
    def sent(self) -> int:
        """IPMI commands sent so far on this session, counted where pyghmi sends them
        (``_count_commands``): a read's requests are the difference, even for a read cut short,
        and pyghmi's own (SDR and FRU reads inside one call, its keepalives) are in it."""
        return self._sent

    def _one_more(self) -> None:
        with self._sent_lock:  # pyghmi's keepalive timer sends from its own thread
            self._sent += 1

    @property
    def port(self) -> int:
        # An endpoint's port is the web port unless the protocol is ipmi; ipmi_port overrides both
        # (a BMC whose RMCP+ listens elsewhere, or auto's fallback to IPMI).
        if self.endpoint.ipmi_port:
            return self.endpoint.ipmi_port
        return self.endpoint.port if self.endpoint.port and self.endpoint.protocol == "ipmi" else DEFAULT_PORT

    def _forget_stale_pyghmi_session(self) -> None:
        # Quirk (pyghmi 1.6): a session registers itself in Session.initting_sessions under the
        # user and password as text but deregisters under their UTF-8 bytes, so after a logout the
        # entry stays, and the next login to the same BMC from this process gets the dead session
        # back and fails with "TypeError: '<' not supported between 'float' and 'NoneType'".
        # Drop the entry when it belongs to a session that is neither logged in nor logging in.
        key = (self.endpoint.address, self.endpoint.username, self._password.reveal(), self.port, None)
        registry = ipmi_private_session.Session.initting_sessions
        stale = registry.get(key)
        if stale is not None and not getattr(stale, "logged", 0) and not getattr(stale, "logging", False):
            registry.pop(key, None)

    def checkpoint(self) -> None:
        """Raise ReadCut when the read in progress was given up on (``halt``): called before each
        pyghmi call and between the requests of a sweep (sensors), never inside one."""
        halt = self.halt
        if halt is not None and halt.is_set():
            raise ReadCut(f"{self.host}: IPMI read stopped before its next command: its visit gave up on it")

    def cmd(self) -> Any:
        with self._lock:
            if self._cmd is None:
                self._forget_stale_pyghmi_session()
                try:
                    self._cmd = ipmi_command.Command(bmc=self.endpoint.address, userid=self.endpoint.username,
                                                     password=self._password.reveal(), port=self.port)
                except ipmi_exc.IpmiException as exc:
                    raise UnreachableError(f"{self.host}: IPMI login failed: {redact(str(exc) or 'no answer')}") \
                        from None
                _count_commands(self._cmd, self._one_more)
                _settle_oem(self._cmd)
            return self._cmd

    def call(self, what: str, func: str, *args: Any, **kwargs: Any) -> Any:
        """Run one pyghmi call, translating its errors (UnreachableError when the BMC is gone).
        Raises ReadCut, sending nothing, when the read was given up on (``checkpoint``)."""
        self.checkpoint()
        try:
            with self._lock:
                result = getattr(self.cmd(), func)(*args, **kwargs)
                # Some pyghmi calls (get_sensor_data, get_event_log) are generators: their requests
                # go out while they are iterated, which must happen here, under the session's lock
                # and inside this error translation (else a lost BMC escapes as IpmiException).
                return self._drain(result) if isinstance(result, types.GeneratorType) else result
        except ReadCut:
            raise
        except ipmi_exc.IpmiException as exc:
            text = redact(str(exc) or "no answer")
            if "timeout" in text.lower() or "no answer" in text or "Session no longer connected" in text:
                self.close()
                raise UnreachableError(f"{self.host}: IPMI {what}: {text}") from None
            raise ApplyError(f"{self.host}: IPMI {what}: BMC said \"{text}\"") from None
        except (UnreachableError, ApplyError):
            raise
        except Exception as exc:  # noqa: BLE001 - pyghmi's own failures (socket, decoding) are not IpmiException
            self.close()
            raise UnreachableError(f"{self.host}: IPMI {what}: {type(exc).__name__} in the IPMI client") from None

    def _drain(self, items: Generator[Any, None, None]) -> list[Any]:
        """A generator call's items, one request each (after pyghmi's SDR read on the first): a read
        given up on stops between two of them (a sensor sweep of hundreds of sensors on a slow BMC
        is no longer one long wait for the next read). Closing the generator there is safe: pyghmi
        yields after a request's answer came, never with one in flight."""
        out = []
        try:
            for item in items:
                out.append(item)
                self.checkpoint()
        finally:
            items.close()
        return out

    def raw(self, netfn: int, command: int, data: Iterable[int] = ()) -> dict[str, Any]:
        result: dict[str, Any] = self.call("raw command", "raw_command", netfn=netfn, command=command,
                                           data=list(data))
        return result

    def close(self) -> None:
        with self._lock:
            cmd, self._cmd = self._cmd, None
        if cmd is not None:
            try:
                cmd.ipmi_session.logout()
            except Exception as exc:  # noqa: BLE001 - logout is best effort
                log.info("%s: IPMI logout failed: %s", self.host, type(exc).__name__)


def _count_commands(cmd: Any, count: Callable[[], None]) -> None:
    """Call ``count`` for every IPMI command pyghmi sends on ``cmd``'s session. Every command goes
    through ``Session.raw_command`` (pyghmi 1.6: ``Command.raw_command``/``xraw_command``, the SDR,
    FRU and SEL readers, the keepalive), one request each (its retransmits are not counted). A
    count by call site guessed them: "4" for a FRU read that takes 13 Read FRU Data of a 256-byte
    FRU, and nothing at all for a read given up on midway. Wrapped on the session object, not its
    class: pyghmi hands every Command of one BMC and user the same session, and this one is ours."""
    session = cmd.ipmi_session
    send = type(session).raw_command

    def raw_command(*args: Any, **kwargs: Any) -> Any:
        count()
        return send(session, *args, **kwargs)

    session.raw_command = raw_command


def _settle_oem(cmd: Any) -> None:
    """Quirk (pyghmi 1.6.19): for a BMC whose manufacturer pyghmi has no OEM module for (ipmi_sim,
    white-box boards) ``oem_init`` keeps ``_oemknown`` False, so every ``get_power`` and every
    sensor sweep sends Get Device ID again: 2 of a minute round's 9 requests. A BMC's manufacturer
    does not change within a session (a new session asks again), so ask once and keep pyghmi's
    generic handler."""
    try:
        cmd.oem_init()
    except Exception:  # noqa: BLE001 - pyghmi asks again on first use and reports the failure there
        return
    if getattr(cmd, "_oem", None) is not None:
        cmd._oemknown = True


def read_fru(session: IpmiSession, fru_id: int = 0) -> dict[str, Any]:
    """Read and parse one FRU, backing off to smaller reads when the BMC says the request is too
    big (completion code 0xC8-0xCA): ipmi_sim and some real BMCs accept 32 bytes at most."""
    info = session.raw(0x0A, 0x10, [fru_id])
    if info.get("code"):
        raise ApplyError(f"{session.host}: FRU {fru_id}: completion code {info['code']:#x}")
    size = info["data"][0] | (info["data"][1] << 8)
    chunk = min(FRU_FIRST_CHUNK, size)
    data = bytearray()
    offset = 0
    while offset < size:
        count = min(chunk, size - offset)
        resp = session.raw(0x0A, 0x11, [fru_id, offset & 0xFF, offset >> 8, count])
        code = resp.get("code", 0)
        if code in FRU_TOO_BIG:
            if chunk <= FRU_MIN_CHUNK:
                raise ApplyError(f"{session.host}: FRU {fru_id}: the BMC refuses even {chunk}-byte reads")
            chunk = max(FRU_MIN_CHUNK, chunk // 2)
            continue
        if code:
            raise ApplyError(f"{session.host}: FRU {fru_id}: completion code {code:#x}")
        got = resp["data"][0]
        if got == 0:
            break
        data.extend(resp["data"][1:1 + got])
        offset += got
    parsed = ipmi_fru.FRU(rawdata=bytes(data)).info
    return dict(parsed or {})


def sensor_of(reading: Any) -> Sensor:
    """One pyghmi SDR reading as a ``Sensor`` (units in UCUM, health from the BMC's verdict)."""
    units = str(getattr(reading, "units", "") or "")
    value = getattr(reading, "value", None)
    kind = _UNITS.get(units, SensorKind.DISCRETE if value is None else SensorKind.OTHER)
    health = _PYGHMI_HEALTH.get(int(getattr(reading, "health", 0) or 0), Health.CRITICAL)
    states = list(getattr(reading, "states", []) or [])
    return Sensor(
        kind=kind, name=str(reading.name), chassis="0", reading=float(value) if value is not None else None,
        units=_UNIT_NAMES.get(units, units or None), health=health,
        state="Unavailable" if getattr(reading, "unavailable", 0) else ("; ".join(states) or "Enabled"),
        component=str(getattr(reading, "type", "") or "") or None, source="sdr",
    )


def read_sensors(session: IpmiSession) -> list[Sensor]:
    """Every SDR sensor's current reading (Get Sensor Reading per sensor; the SDR itself is read
    once per session). Raises ApplyError/UnreachableError."""
    return [sensor_of(r) for r in session.call("sensors", "get_sensor_data")]


@dataclass(frozen=True)
class SelInfo:
    """``Get SEL Info``: how many records, and when the SEL last grew or was erased (BMC time)."""

    count: int
    added: int
    erased: int


def sel_info(session: IpmiSession) -> SelInfo:
    """One small request that says whether the SEL changed (compare ``added``/``erased``)."""
    resp = session.raw(0x0A, 0x40)  # Get SEL Info
    if resp.get("code"):
        raise ApplyError(f"{session.host}: Get SEL Info: completion code {resp['code']:#x}")
    data = bytes(resp["data"])
    return SelInfo(count=data[1] | (data[2] << 8), added=int.from_bytes(data[5:9], "little"),
                   erased=int.from_bytes(data[9:13], "little"))


SEL_FIRST, SEL_END = 0x0000, 0xFFFF
SEL_ABSENT = 0xCB  # completion code: the record asked for is not there (erased, or the SEL is empty)
SEL_MAX_RECORDS = 4096  # a BMC whose next-record chain loops must not hold a read forever


def sel_entries_since(session: IpmiSession, record_id: str | None, limit: int = 200) -> list[LogEntry]:
    """The SEL records after ``record_id`` (all of them for None), oldest first, at most the newest
    ``limit``: ``Get SEL Entry`` from that record on, following each record's next-record id, so a
    SEL of thousands of records costs one request per new record. When ``record_id`` is no longer
    in the SEL (it was cleared or wrapped), the whole SEL is new. Raises ApplyError/UnreachableError."""
    start = int(record_id) if record_id and record_id.isdigit() else SEL_FIRST
    start = SEL_FIRST if start in (SEL_FIRST, SEL_END) else start
    raw_records: list[bytes] = []
    current, skip = start, start != SEL_FIRST
    for _ in range(SEL_MAX_RECORDS):
        if current == SEL_END:
            break
        # Reservation 0 (not needed for whole-record reads), record id, offset 0, read all (0xFF).
        resp = session.raw(0x0A, 0x43, struct.pack("<HHBB", 0, current, 0, 0xFF))
        code = resp.get("code", 0)
        if code == SEL_ABSENT and current == start and skip:
            current, skip = SEL_FIRST, False  # our record is gone: read the SEL from its start
            continue
        if code == SEL_ABSENT:
            break  # empty SEL, or a record erased while we read
        if code:
            raise ApplyError(f"{session.host}: Get SEL Entry {current:#06x}: completion code {code:#x}")
        data = bytes(resp["data"])
        if not skip:
            raw_records.append(data[2:])
        skip = False
        following = int.from_bytes(data[:2], "little")
        if following == current:
            break
        current = following
    return [log_entry(rec) for rec in _decode_sel(session, raw_records[-limit:])]


def _decode_sel(session: IpmiSession, raw_records: list[bytes]) -> list[dict[str, Any]]:
    """pyghmi's decoding of SEL records (sensor names from the SDR, event texts, timestamps).
    Uses pyghmi's event handler internals (``_sel_decode``, ``_fix_sel_time``; pyghmi 1.6): its
    public ``get_event_log`` reads the whole SEL, which is what this avoids."""
    if not raw_records:
        return []

    def decode(cmd: Any) -> list[dict[str, Any]]:
        handler = ipmi_events.EventHandler(cmd.init_sdr(), cmd)
        records = [handler._sel_decode(bytearray(raw)) for raw in raw_records]
        ipmi_events._fix_sel_time(records, cmd)
        return records

    session.checkpoint()  # decoding may read the SDR (pyghmi's, once per session)
    try:
        with session._lock:
            return decode(session.cmd())
    except ipmi_exc.IpmiException as exc:
        raise ApplyError(f"{session.host}: IPMI sel: BMC said \"{redact(str(exc) or 'no answer')}\"") from None


def log_entry(rec: dict[str, Any]) -> LogEntry:
    """One decoded SEL record (pyghmi's form) as a ``LogEntry``."""
    what = " ".join(str(rec.get(k)) for k in ("component", "event") if rec.get(k))
    return LogEntry(
        id=str(rec.get("record_id", "?")), log="sel", created=rec.get("timestamp"),
        severity=_SEVERITY.get(int(rec.get("severity") or 0), Health.CRITICAL),
        message=what + (" (deasserted)" if rec.get("deassertion") else ""),
        message_id=str(rec.get("event_id")) if rec.get("event_id") else None,
        sensor=rec.get("component_type"),
    )


_PSU_NAME = re.compile(r"\b(?:psu|ps|pws|power\s*supply)\s*[-_#]?\s*(\d+)", re.IGNORECASE)


def psu_location(name: str) -> str | None:
    """``PSU<n>`` for a FRU or sensor name that names power supply n ("Power Supply 1", "PSU1
    Status", "PS2 Input Power"); None for anything else. Pure."""
    found = _PSU_NAME.search(name or "")
    return f"PSU{int(found.group(1))}" if found else None


def psu_component(name: str, info: dict[str, Any]) -> Component | None:
    """A power supply part from its FRU (named by an SDR FRU Device Locator): serial, model
    (product name), maker and part number; None when the FRU is not a PSU's or says nothing."""
    location = psu_location(name)
    raw_serial = _fru_text(info, "Serial Number", "Product Serial", "Board serial number")
    model = _fru_text(info, "Product name", "Board product name")
    if location is None or not (raw_serial or model):
        return None
    return Component(kind=ComponentKind.PSU, chassis="0", location=location, name=name, model=model,
                     manufacturer=_fru_text(info, "Manufacturer", "Board manufacturer"),
                     serial=clean_serial(raw_serial), raw_serial=raw_serial,
                     part_number=_fru_text(info, "Model", "Product part number", "Board model"),
                     source=f"fru:{location}")


def link_psu_sensors(sensors: Iterable[Sensor], components: Iterable[Component]) -> list[Sensor]:
    """Sensors of a power supply (by name: "PSU1 Status", "PSU1 Power") carry the ``source`` of
    that PSU's FRU part, so patrol puts their faults on the part and names its serial and model.
    Pure."""
    by_location = {c.location: c.source for c in components if c.kind is ComponentKind.PSU and c.source}
    out = []
    for sensor in sensors:
        where = psu_location(sensor.name)
        source = by_location.get(where) if where else None
        out.append(dataclasses.replace(sensor, source=source) if source else sensor)
    return out


def fru_locators(session: IpmiSession) -> dict[int, str]:
    """FRU device id -> name from the SDR's FRU Device Locator records (FRU 0 left out)."""
    try:
        session.call("sdr", "init_sdr")
        with session._lock:
            # pyghmi keeps the parsed FRU Device Locator records in Command._sdr.fru (id -> entry
            # with fru_name); it has no public call that gives the ids with the names.
            sdr = getattr(session.cmd(), "_sdr", None)
            found = dict(getattr(sdr, "fru", None) or {})
    except (ApplyError, UnreachableError, ReadCut):
        raise
    except Exception as exc:  # noqa: BLE001 - pyghmi's own failures while it reads the SDR
        raise ApplyError(f"{session.host}: IPMI fru list: {type(exc).__name__} in the IPMI client") from None
    return {int(fid): str(getattr(entry, "fru_name", "") or "") for fid, entry in found.items() if int(fid) != 0}


def read_psu_frus(session: IpmiSession) -> list[Component]:
    """The power supplies' FRUs: every FRU the SDR's FRU Device Locator records name (not only FRU
    0), read (with ``read_fru``'s back-off: pyghmi's own FRU read fails on ipmi_sim's and many BMCs'
    "request data field length limit exceeded") and kept when it is a PSU's. A FRU that cannot be
    read is skipped (logged): FRU 0 and the sensors still make the observation."""
    out = []
    for fru_id, name in sorted(fru_locators(session).items()):
        if psu_location(name) is None:
            continue
        try:
            info = read_fru(session, fru_id)
        except ApplyError as exc:
            log.info("%s: %s", session.host, exc)
            continue
        comp = psu_component(name, info or {})
        if comp is not None:
            out.append(comp)
    return out


def _fru_text(info: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = info.get(key)
        if isinstance(value, bytes):
            value = value.decode("latin-1", "replace")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class IpmiPower(base.PowerInterface):
    protocol = "ipmi"

    def __init__(self, session: IpmiSession) -> None:
        self.s = session

    def status(self) -> PowerState:
        result = self.s.call("power status", "get_power")
        return POWER_MAP.get(str(result.get("powerstate")), PowerState.UNKNOWN)

    def request(self, operation: str) -> None:
        if operation == "cycle":
            # pyghmi has no name for chassis control 0x02 (power cycle): send it raw.
            resp = self.s.raw(0x00, 0x02, [0x02])
            if resp.get("code"):
                raise ApplyError(f"{self.s.host}: power cycle: completion code {resp['code']:#x}")
            return
        state = {"on": "on", "off": "softoff", "force-off": "off", "reset": "reset"}[operation]
        self.s.call(f"power {operation}", "set_power", state, wait=False)


class IpmiBoot(base.BootInterface):
    protocol = "ipmi"

    def __init__(self, session: IpmiSession) -> None:
        self.s = session

    def set_once(self, target: str) -> None:
        self.s.call(f"boot --once {target}", "set_bootdev", BOOT_DEVICES[target], persist=False)

    def get(self) -> tuple[str | None, str | None]:
        result = self.s.call("boot status", "get_bootdev")
        return result.get("bootdev"), "Continuous" if result.get("persistent") else "Once"


class IpmiInventory(base.InventoryInterface, base.HealthInterface, base.LogsInterface):
    """Identity and parts from FRU, sensors from the SDR, the SEL, and the BMC's health summary."""

    protocol = "ipmi"

    def __init__(self, session: IpmiSession, host: str) -> None:
        self.s = session
        self.host = host

    def observe(self, sections: Iterable[str] | None = None, *, log_limit: int = 20) -> Observation:
        wanted = set(sections) if sections is not None else {"components", "sensors", "firmware", "logs"}
        started = time.monotonic()
        taken = dt.datetime.now(dt.UTC)
        sent = self.s.sent
        errors: list[ReadError] = []
        power = PowerState.UNKNOWN
        try:
            power = IpmiPower(self.s).status()
        except ApplyError as exc:
            errors.append(ReadError("power", str(exc)))
        device: dict[str, Any] = {}
        try:
            dev = self.s.raw(0x06, 0x01)
            if not dev.get("code"):
                data = dev["data"]
                device = {"bmc_version": f"{data[2] & 0x7F}.{data[3]:02x}",
                          "manufacturer_id": data[6] | (data[7] << 8) | (data[8] << 16)}
        except ApplyError as exc:
            errors.append(ReadError("device id", str(exc)))
        fru: dict[str, Any] = {}
        try:
            fru = read_fru(self.s, 0)
        except ApplyError as exc:
            errors.append(ReadError("fru", str(exc)))
        sensors: list[Sensor] = []
        if "sensors" in wanted or "components" in wanted:
            try:
                sensors = read_sensors(self.s)
            except ApplyError as exc:
                errors.append(ReadError("sdr", str(exc)))
        psus: list[Component] = []
        if "components" in wanted:
            try:
                psus = read_psu_frus(self.s)
            except ApplyError as exc:
                errors.append(ReadError("fru", str(exc)))
        sensors = link_psu_sensors(sensors, psus)
        entries = self.entries(log_limit, errors=errors) if "logs" in wanted and log_limit > 0 else []
        raw_serial = _fru_text(fru, "Serial Number", "Product Serial", "Board Serial")
        health = _health_of(sensors)
        identity = Identity(
            manufacturer=_fru_text(fru, "Manufacturer", "Board manufacturer"),
            model=_fru_text(fru, "Product name", "Model", "Board model"),
            serial=clean_serial(raw_serial), raw_serial=raw_serial,
            part_number=_fru_text(fru, "Model", "Product part number"),
            asset_tag=_fru_text(fru, "Asset Number"),
            bmc_version=device.get("bmc_version"), power_state=power, health=health,
        )
        components: list[Component] = []
        if "components" in wanted and fru:
            chassis_serial = _fru_text(fru, "Chassis serial number")
            components.append(Component(
                kind=ComponentKind.CHASSIS, chassis="0", location="chassis", serial=clean_serial(chassis_serial),
                raw_serial=chassis_serial, part_number=_fru_text(fru, "Chassis part number"), source="fru 0"))
            board_serial = _fru_text(fru, "Board serial number")
            components.append(Component(
                kind=ComponentKind.ASSEMBLY, chassis="0", location="system board",
                serial=clean_serial(board_serial), raw_serial=board_serial,
                model=_fru_text(fru, "Board product name"),
                manufacturer=_fru_text(fru, "Board manufacturer"),
                # pyghmi names the board part number "Board model"
                part_number=_fru_text(fru, "Board model", "Board part number"), source="fru 0"))
        components += psus
        firmware = [FirmwareItem(name="BMC", version=device["bmc_version"], id="bmc")] \
            if device.get("bmc_version") and "firmware" in wanted else []
        return Observation(
            host=self.host, taken_at=taken, protocol="ipmi", identity=identity,
            components=tuple(components), sensors=tuple(sensors) if "sensors" in wanted else (),
            firmware=tuple(firmware), log_entries=tuple(entries),
            log_cursor=max((e.id for e in entries), key=lambda i: int(i) if i.isdigit() else 0, default=None),
            errors=tuple(errors), duration_seconds=round(time.monotonic() - started, 6), requests=self.s.sent - sent,
        )

    def health(self) -> Observation:
        return self.observe(sections={"sensors"})

    def entries(self, limit: int = 50, errors: list[ReadError] | None = None) -> list[LogEntry]:
        try:
            records = list(self.s.call("sel", "get_event_log"))
        except ApplyError as exc:
            if errors is None:
                raise
            errors.append(ReadError("sel", str(exc)))
            return []
        return [log_entry(rec) for rec in records[-limit:]]


def _health_of(sensors: list[Sensor]) -> Health:
    from dcops.observation import worst_health

    return worst_health(s.health for s in sensors) if sensors else Health.UNKNOWN


class IpmiConsole(base.ConsoleInterface):
    """Serial-over-LAN through ipmitool (the password goes through the environment, not argv)."""

    protocol = "ipmi"

    def __init__(self, session: IpmiSession) -> None:
        self.s = session

    def argv(self) -> list[str]:
        tool = shutil.which("ipmitool") or "ipmitool"
        return [tool, "-I", "lanplus", "-C", "3", "-H", self.s.endpoint.address, "-p", str(self.s.port),
                "-U", self.s.endpoint.username, "-E", "sol", "activate"]

    def attach(self) -> int:
        env = dict(os.environ, IPMI_PASSWORD=self.s._password.reveal())
        self.s.close()  # SOL wants its own session; ours would hold a session slot for nothing
        try:
            return subprocess.call(self.argv(), env=env)
        except FileNotFoundError:
            raise base.UnsupportedError(f"{self.s.host}: serial console needs ipmitool installed") from None


def ipmi_bmc(host: str, endpoint: BmcEndpoint, password: Secret) -> base.Bmc:
    session = IpmiSession(host, endpoint, password)
    inventory = IpmiInventory(session, host)
    why = "IPMI has no such function"
    return base.Bmc(
        host=host, protocol="ipmi", power=IpmiPower(session), boot=IpmiBoot(session),
        vmedia=base.UnsupportedVirtualMedia(host, "ipmi", "virtual media needs Redfish"),
        inventory=inventory, health=inventory, logs=inventory,
        bios=base.UnsupportedBios(host, "ipmi", why), raid=base.UnsupportedRaid(host, "ipmi", why),
        firmware=base.UnsupportedFirmware(host, "ipmi", "only the BMC version is known over IPMI"),
        console=IpmiConsole(session), closers=[session.close],
    )
