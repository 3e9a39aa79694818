"""Plain records of the simulator's state (timings, sessions, tasks, SEL records, network
behaviour, faults, credentials) and two helpers, ``worst`` and ``iso``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

Clock = Callable[[], float]
HEALTH_ORDER = {"OK": 0, "Warning": 1, "Critical": 2}


def worst(*values: str) -> str:
    """The most severe of Redfish health values (OK < Warning < Critical)."""
    result = "OK"
    for value in values:
        if HEALTH_ORDER.get(value, 0) > HEALTH_ORDER[result]:
            result = value
    return result


def iso(ts: float) -> str:
    """Epoch seconds as a Redfish date-time (UTC, with offset)."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass(frozen=True)
class Timings:
    """How long things take, in seconds. ``fast`` for tests, ``demo`` to watch, ``real`` for realism."""

    power_on: float = 2.0  # PoweringOn -> On
    power_off: float = 2.0  # GracefulShutdown: PoweringOff -> Off
    boot: float = 6.0  # On -> OSRunning
    restart_gap: float = 1.0  # Off time inside a restart
    task: float = 6.0  # a firmware update task
    bmc_reboot: float = 8.0  # BMC unreachable after its own update or a Manager.Reset
    raid: float = 2.0  # a volume create/delete keeps the controller busy
    rebuild: float = 6.0  # hot-spare rebuild
    ac_restore: float = 2.0  # BMC boot time after AC returns
    install: float = 10.0  # an OS installer's run (install_poweroff fault): OSRunning -> it powers off
    task_linger: float = 60.0  # iDRAC: how long a finished task stays readable before it disappears

    @classmethod
    def preset(cls, name: str) -> Timings:
        return TIMING_PRESETS[name]

    def with_overrides(self, overrides: dict[str, float]) -> Timings:
        unknown = set(overrides) - set(self.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown timing(s): {', '.join(sorted(unknown))}")
        return replace(self, **overrides)


TIMING_PRESETS: dict[str, Timings] = {
    "fast": Timings(power_on=0.1, power_off=0.1, boot=0.2, restart_gap=0.05, task=0.3, bmc_reboot=0.3,
                    raid=0.1, rebuild=0.3, ac_restore=0.1, install=0.3, task_linger=3.0),
    "demo": Timings(),
    "real": Timings(power_on=5, power_off=30, boot=90, restart_gap=3, task=120, bmc_reboot=180, raid=10,
                    rebuild=600, ac_restore=60, install=900, task_linger=600),
}


@dataclass
class Session:
    id: str
    token: str
    user: str
    created: float
    last_used: float


@dataclass
class Task:
    id: str
    name: str
    kind: str  # firmware, raid
    start: float
    duration: float
    state: str = "Running"  # Pending (staged until a reset), Running, Completed, Exception, Cancelled
    status: str = "OK"
    end: float | None = None
    messages: list[tuple[str, str, str]] = field(default_factory=list)  # (MessageId, Message, Severity)
    target: str = ""  # the URI the task acts on

    def percent(self, now: float) -> int:
        if self.state == "Pending":
            return 0
        if self.state != "Running":
            return 100
        if self.duration <= 0:
            return 99
        return max(0, min(99, int((now - self.start) / self.duration * 100)))


@dataclass(slots=True)
class LogRecord:
    id: int
    created: float
    message_id: str
    message: str
    severity: str
    sensor_type: str
    entry_code: str
    sensor_number: int


@dataclass
class VirtualMediaState:
    image: str | None = None
    inserted: bool = False
    write_protected: bool = True
    protocol: str | None = None
    user: str | None = None
    # VirtualMedia v1_4 ``VerifyCertificate`` and the PEMs of its ``Certificates`` collection
    # (XCC 2.83): settings of the slot, kept across eject.
    verify_certificate: bool = False
    certificates: list[str] = field(default_factory=list)


@dataclass
class NetBehaviour:
    """How the BMC answers on the network (latency, errors, reachability)."""

    latency: tuple[float, float] = (0.0, 0.0)
    extra_latency: tuple[float, float] = (0.0, 0.0)
    # Path segments (lower case) the extra latency is limited to; empty: every request (bmc_slow paths=).
    slow_paths: tuple[str, ...] = ()
    error_rate: float = 0.0
    error_status: int = 500
    malformed_rate: float = 0.0
    errors_after_reset: int = 0  # readback_fails: the 5xx status every request gets after the next reset
    down: set[str] = field(default_factory=set)  # reasons: fault, reboot, rack
    down_mode: str = "refuse"  # refuse (connection refused) or hang (accept, never answer)
    # The host's own networks (FleetSpec.networks) whose switch/VLAN is down (fault network_down).
    links_down: set[str] = field(default_factory=set)

    @property
    def reachable(self) -> bool:
        return not self.down


@dataclass
class Fault:
    kind: str
    target: str
    args: dict[str, str]
    since: float


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
