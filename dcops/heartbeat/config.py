"""The ``heartbeat:`` section of the config file -> ``HeartbeatConfig`` (validated).

::

    heartbeat:
      ports: {mgmt: 22, biz-a: 22, biz-b: 22, storage: 3260}   # TCP port probed per network
      port: 22                 # networks not listed above
      timeout: 2s              # a connect not done by then counts as down
      concurrency: 2000        # connects in flight at once
      open_after: 2            # per network incidents follow patrol's hysteresis unless set here
      group_ratio: 0.5         # more than this share of a rack's/switch's hosts down: one group incident
      group_min_hosts: 2       # ... counted only for groups of at least this many hosts
      required:                # networks a node of the AZ must answer on to count as a capacity survivor
        az1: [biz-a, storage]
        "*": [biz-a]           # every AZ not named
      management: mgmt         # the network the BMCs share: a host answering on any OTHER network runs
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import InvalidInputError
from dcops.timeparse import parse_duration

KNOWN = {"ports", "port", "timeout", "concurrency", "group_ratio", "group_min_hosts", "required", "enabled",
         "management"}


@dataclass(frozen=True)
class HeartbeatConfig:
    ports: Mapping[str, int] = field(default_factory=dict)
    port: int = 22
    timeout: float = 2.0
    concurrency: int = 2000
    group_ratio: float = 0.5
    group_min_hosts: int = 2
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    enabled: bool = True
    management: str = "mgmt"

    def port_of(self, network: str) -> int:
        return int(self.ports.get(network, self.port))

    def required_for(self, az: str | None) -> tuple[str, ...]:
        """The networks a node of ``az`` must answer on ("*" for every AZ not named)."""
        if az is not None and az in self.required:
            return self.required[az]
        return self.required.get("*", ())


def _port(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidInputError(f"config {where}: a TCP port 1-65535, not {value!r}")
    return value


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        try:
            seconds = parse_duration(str(value)).total_seconds()
        except Exception:  # noqa: BLE001 - re-raised with the key's name
            raise InvalidInputError(f"config {where}: not a duration: {value!r}") from None
    if seconds <= 0:
        raise InvalidInputError(f"config {where}: must be positive, not {value!r}")
    return seconds


def _networks(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise InvalidInputError(f"config {where}: a list of network names, not {value!r}")
    return tuple(value)


def load_heartbeat_config(section: Mapping[str, Any] | None) -> HeartbeatConfig:
    data = dict(section or {})
    unknown = sorted(set(data) - KNOWN)
    if unknown:
        raise InvalidInputError(f"config heartbeat: unknown key(s): {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(KNOWN))})")
    ports = data.get("ports") or {}
    if not isinstance(ports, Mapping):
        raise InvalidInputError("config heartbeat.ports: a mapping of network name to TCP port")
    required = data.get("required") or {}
    if not isinstance(required, Mapping):
        raise InvalidInputError("config heartbeat.required: a mapping of AZ (or \"*\") to a list of networks")
    concurrency = data.get("concurrency", 2000)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidInputError(f"config heartbeat.concurrency: a whole number of 1 or more, not {concurrency!r}")
    ratio = data.get("group_ratio", 0.5)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
        raise InvalidInputError(f"config heartbeat.group_ratio: a share 0 <= r < 1, not {ratio!r}")
    min_hosts = data.get("group_min_hosts", 2)
    if isinstance(min_hosts, bool) or not isinstance(min_hosts, int) or min_hosts < 1:
        raise InvalidInputError(f"config heartbeat.group_min_hosts: a whole number of 1 or more, not {min_hosts!r}")
    return HeartbeatConfig(
        ports={str(k): _port(v, f"heartbeat.ports.{k}") for k, v in ports.items()},
        port=_port(data.get("port", 22), "heartbeat.port"),
        timeout=_seconds(data.get("timeout", 2), "heartbeat.timeout"),
        concurrency=concurrency, group_ratio=float(ratio), group_min_hosts=min_hosts,
        required={str(az): _networks(v, f"heartbeat.required.{az}") for az, v in required.items()},
        enabled=bool(data.get("enabled", True)),
        management=str(data.get("management") or "mgmt"),
    )
