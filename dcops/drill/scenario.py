"""A drill scenario file -> ``Scenario``. Pure apart from reading the file; every problem names
the file and line.

::

    name: management-switch-loss
    description: the management switch of rack A01 dies; BMCs go dark, hosts keep running
    fleet: {hosts: 8, racks: 2, networks: [mgmt, biz-a, storage]}      # the simulator's layout
    patrol: {interval: 1s, open_after: 2, escalation: [0s, 2s, 4s]}     # the drill's patrol (sim)
    heartbeat: {timeout: 1s}                                             # the drill's heartbeat (sim)
    inject:                                                              # simulator faults
      - {fault: network_down, rack: A01, args: {network: mgmt}}
    live: [bmc_reset]                  # with --live: the safe real actions, on the --hosts given
    expect:                            # the root causes patrol must find (one incident each)
      - {condition: rack_unreachable, rack: A01, cause: management network}
    tiers: [1, 2]                      # time the first notification of these escalation tiers
    detect_within: 30s                 # slower detection fails the drill
    timeout: 60s                       # give up waiting after this long
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcops.errors import InvalidInputError, Problem
from dcops.timeparse import parse_duration

TOP = ("name", "description", "fleet", "patrol", "heartbeat", "inject", "live", "expect", "tiers",
       "detect_within", "timeout")
FLEET = ("hosts", "racks", "networks", "profiles")
INJECT = ("fault", "action", "hosts", "rack", "args", "after")
EXPECT = ("condition", "host", "rack", "kind", "cause", "network")
LIVE_ACTIONS = ("bmc_reset", "power_off")  # the only real actions a drill may take (both recoverable)


@dataclass(frozen=True)
class Injection:
    """A simulator fault (``fault``), or one of the safe real actions (``action``: the live code,
    performed over Redfish against the simulated BMCs)."""

    fault: str
    hosts: tuple[str, ...] = ()
    rack: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    after: float = 0.0  # seconds after the drill's start of injection (a second fault later)
    action: str | None = None


@dataclass(frozen=True)
class Expectation:
    """An incident patrol must open: every field given must match (``rack``: the last part of
    the incident's rack path or location; ``host``: its host; ``kind``: the part kind)."""

    condition: str | None = None
    host: str | None = None
    rack: str | None = None
    kind: str | None = None
    cause: str | None = None
    network: str | None = None

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.__dict__.items() if v is not None) or "any incident"


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    description: str = ""
    hosts: int = 8
    racks: int = 2
    networks: tuple[str, ...] = ("mgmt", "biz-a", "storage")
    profiles: tuple[str, ...] = ()
    patrol: Mapping[str, Any] = field(default_factory=dict)
    heartbeat: Mapping[str, Any] = field(default_factory=dict)
    inject: tuple[Injection, ...] = ()
    live: tuple[str, ...] = ()
    expect: tuple[Expectation, ...] = ()
    tiers: tuple[int, ...] = (1,)
    detect_within: float | None = None
    timeout: float = 120.0


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, message))

    def keys(self, data: Any, known: Sequence[str], what: str) -> bool:
        if not isinstance(data, dict):
            self.error(getattr(data, "line", 0), f"{what} must be a mapping")
            return False
        from dcops.inventory.schema import unknown_field

        for key in data:
            if key not in known:
                self.error(_line(data, key), f"{what}: {unknown_field(key, known)}")
        return True

    def seconds(self, data: Any, key: str, default: float | None) -> float | None:
        if key not in data:
            return default
        value = data[key]
        try:
            seconds = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
                else parse_duration(str(value)).total_seconds()
        except Exception:  # noqa: BLE001 - reported with the line
            self.error(_line(data, key), f"{key}: not a duration: {value!r}")
            return default
        if seconds < 0:
            self.error(_line(data, key), f"{key}: must not be negative")
        return seconds

    def names(self, data: Any, key: str, what: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.error(_line(data, key), f"{what} must be a list of names")
            return ()
        return tuple(value)


def _line(data: Any, key: Any) -> int:
    line_of = getattr(data, "line_of", None)
    return int(line_of(key)) if line_of is not None else int(getattr(data, "line", 0))


def _int(check: _Checker, data: Any, key: str, default: int, low: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        check.error(_line(data, key), f"{key} must be a whole number of {low} or more, not {value!r}")
        return default
    return value


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; InvalidInputError listing every problem (file:line)."""
    from dcops.inventory.yamlload import read_yaml_file

    file = str(path)
    data, problems = read_yaml_file(Path(path), file)
    if problems:
        raise InvalidInputError("; ".join(str(p) for p in problems), problems)
    return parse_scenario(data, file)


def parse_scenario(data: Any, file: str) -> Scenario:
    from dcops.sim.faults import FAULT_KINDS

    check = _Checker(file)
    if not check.keys(data, TOP, "scenario"):
        raise InvalidInputError(str(check.problems[0]), check.problems)
    name = data.get("name") or Path(file).stem
    if not isinstance(name, str):
        check.error(_line(data, "name"), "name must be a string")
        name = Path(file).stem
    fleet = data.get("fleet") or {}
    hosts, racks = 8, 2
    networks: tuple[str, ...] = ("mgmt", "biz-a", "storage")
    profiles: tuple[str, ...] = ()
    if check.keys(fleet, FLEET, "fleet"):
        hosts = _int(check, fleet, "hosts", 8, 1)
        racks = _int(check, fleet, "racks", 2, 1)
        networks = check.names(fleet, "networks", "fleet.networks") if "networks" in fleet else networks
        profiles = check.names(fleet, "profiles", "fleet.profiles")
    for key in ("patrol", "heartbeat"):
        if key in data and not isinstance(data[key], dict):
            check.error(_line(data, key), f"{key} must be a mapping (the config section's keys)")
        elif key in data:
            # The drill's own patrol and heartbeat take these keys: check them now, with the line.
            from dcops.heartbeat.config import load_heartbeat_config
            from dcops.patrol.config import load_patrol_config

            try:
                (load_patrol_config if key == "patrol" else load_heartbeat_config)(dict(data[key]))
            except InvalidInputError as exc:
                check.error(_line(data, key), str(exc).removeprefix("config "))
    injections: list[Injection] = []
    raw_inject = data.get("inject") or []
    if not isinstance(raw_inject, list):
        check.error(_line(data, "inject"), "inject must be a list of faults")
        raw_inject = []
    for item in raw_inject:
        if not check.keys(item, INJECT, "inject"):
            continue
        action = item.get("action")
        fault = item.get("fault")
        if action is not None:
            if fault is not None or action not in LIVE_ACTIONS:
                check.error(_line(item, "action"), f"inject: action must be one of {', '.join(LIVE_ACTIONS)} "
                                                   "(and no fault beside it)")
                continue
            fault = ""
        elif fault not in FAULT_KINDS:
            from dcops.inventory.schema import suggest

            check.error(_line(item, "fault") if "fault" in item else item.line,
                        f"inject: unknown fault {fault!r}{suggest(str(fault), FAULT_KINDS)}")
            continue
        targets = check.names(item, "hosts", "inject.hosts")
        rack = item.get("rack")
        if not targets and not rack:
            check.error(item.line, f"inject {fault or action}: name hosts or a rack")
        args = item.get("args") or {}
        if not isinstance(args, dict):
            check.error(_line(item, "args"), "inject.args must be a mapping")
            args = {}
        injections.append(Injection(str(fault), targets, str(rack) if rack else None,
                                    {str(k): str(v) for k, v in args.items()}, check.seconds(item, "after", 0.0) or 0.0,
                                    str(action) if action else None))
    expectations: list[Expectation] = []
    raw_expect = data.get("expect") or []
    if not isinstance(raw_expect, list) or not raw_expect:
        check.error(_line(data, "expect") if "expect" in data else data.line,
                    "expect must list at least one incident the drill must see")
        raw_expect = []
    for item in raw_expect:
        if check.keys(item, EXPECT, "expect"):
            expectations.append(Expectation(**{k: str(item[k]) for k in EXPECT if item.get(k) is not None}))
    live = check.names(data, "live", "live")
    for action in live:
        if action not in LIVE_ACTIONS:
            check.error(_line(data, "live"), f"live: {action!r} is not a safe action ({', '.join(LIVE_ACTIONS)})")
    tiers: tuple[int, ...] = (1,)
    if "tiers" in data:
        raw = data["tiers"]
        if not isinstance(raw, list) or not all(isinstance(t, int) and not isinstance(t, bool) and 1 <= t <= 9
                                                 for t in raw):
            check.error(_line(data, "tiers"), "tiers must be a list of escalation tiers (1, 2, 3)")
        else:
            tiers = tuple(raw)
    detect_within = check.seconds(data, "detect_within", None)
    timeout = check.seconds(data, "timeout", 120.0) or 120.0
    if check.problems:
        raise InvalidInputError("; ".join(str(p) for p in check.problems), check.problems)
    return Scenario(
        name=name, file=file, description=str(data.get("description") or ""), hosts=hosts, racks=racks,
        networks=networks, profiles=profiles, patrol=dict(data.get("patrol") or {}),
        heartbeat=dict(data.get("heartbeat") or {}), inject=tuple(injections), live=live,
        expect=tuple(expectations), tiers=tiers, detect_within=detect_within, timeout=timeout)
