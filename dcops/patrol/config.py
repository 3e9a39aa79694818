"""The ``patrol:`` section of the config file -> ``PatrolConfig`` (validated; docs/patrol.md).

::

    patrol:
      interval: 60s            # one round a minute
      inventory_every: 60m     # full inventory (every part, firmware) per host, spread over rounds
      concurrency: 400         # requests in flight fleet-wide (one per BMC at most)
      bmc_deadline: 20s        # a BMC that has not answered by then is unreachable this round
      ipmi_deadline: 20s       # the same for IPMI reads (default: bmc_deadline); RMCP+ over UDP is slower
      round_deadline: 55s      # hosts not done by then are "missed" (unknown), never a hang
      open_after: 2            # bad rounds before an incident opens
      close_after: 3           # good rounds before it resolves
      open_after_by_condition: {abnormal_shutdown: 1, rack_power_loss: 1, rack_unreachable: 1, log: 1}
      rack_loss_ratio: 0.5
      rack_loss_min_hosts: 3
      shutdown_window: 15m
      operator_window: 15m
      log_ttl: 24h
      log_hold: 1                             # rounds a part's log entry waits for its part
      escalation: [0s, 15m, 30m]
      severity: {bmc_unreachable: critical}   # per-condition overrides
      ignore_sensors: ["*Virtual*"]
      flap_window: 10          # flap detection (patrol.flap): verdicts kept per problem,
      flap_start: 0.5          # share of state changes that starts flapping,
      flap_stop: 0.25          # ... and that ends it
      flap_min_rounds: 4
      inband_port: 22          # hosts of a dark rack are probed on their in-band address (patrol.inband)
      inband_timeout: 3s
      maintenance:             # recurring silences (patrol.maintenance)
        - {name: close, days: mon-fri, from: "15:30", to: "17:00", timezone: Asia/Shanghai, rack: "A*"}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import InvalidInputError
from dcops.patrol.maintenance import MaintenanceWindow, load_windows
from dcops.patrol.model import Condition, Hysteresis, Policy, Severity
from dcops.timeparse import parse_duration


@dataclass(frozen=True)
class PatrolConfig:
    policy: Policy = field(default_factory=Policy)
    interval: float = 60.0
    inventory_every: float = 3600.0
    concurrency: int = 400
    bmc_deadline: float = 20.0
    # IPMI visits get their own bound: an RMCP+ session is set up over UDP with retransmits, so old
    # BMCs (and a busy poller) need longer than a Redfish visit, and an ``auto`` host's IPMI read
    # after a silent Redfish must not inherit the time Redfish already wasted. None: bmc_deadline.
    ipmi_deadline: float | None = None
    round_deadline: float = 55.0
    read_timeout: float = 15.0
    ipmi_workers: int = 32
    log_limit: int = 50
    keep_history_days: float = 90.0
    maintenance: tuple[MaintenanceWindow, ...] = ()
    inband_port: int = 22  # the in-band probe's port when the book gives none (patrol.inband)
    inband_timeout: float = 3.0


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return parse_duration(str(value)).total_seconds()
    except Exception:  # noqa: BLE001 - re-raised with the key's name
        raise InvalidInputError(f"config patrol.{name}: not a duration: {value!r}") from None


def load_patrol_config(section: Mapping[str, Any] | None, *, overrides: Mapping[str, Any] | None = None) -> PatrolConfig:
    data = {**dict(section or {}), **{k: v for k, v in (overrides or {}).items() if v is not None}}
    known = {"interval", "inventory_every", "concurrency", "bmc_deadline", "ipmi_deadline", "round_deadline",
             "read_timeout", "ipmi_workers", "log_limit", "open_after", "close_after", "open_after_by_condition",
             "close_after_by_condition", "rack_loss_ratio", "rack_loss_min_hosts", "shutdown_window",
             "operator_window", "log_ttl", "log_hold", "escalation", "severity", "ignore_sensors", "keep_history_days",
             "flap_window", "flap_start", "flap_stop", "flap_min_rounds", "maintenance", "inband_port",
             "inband_timeout"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInputError(f"config patrol: unknown key(s): {', '.join(unknown)}")
    defaults = Hysteresis()
    by_condition = {**dict(defaults.open_after_by_condition), **dict(data.get("open_after_by_condition") or {})}
    for name in [*by_condition, *(data.get("close_after_by_condition") or {}), *(data.get("severity") or {})]:
        if name not in {c.value for c in Condition}:
            raise InvalidInputError(f"config patrol: unknown condition {name!r}")
    try:
        severity = {k: Severity(v).value for k, v in (data.get("severity") or {}).items()}
    except ValueError as exc:
        raise InvalidInputError(f"config patrol.severity: {exc}") from None
    hysteresis = Hysteresis(open_after=int(data.get("open_after", defaults.open_after)),
                            close_after=int(data.get("close_after", defaults.close_after)),
                            open_after_by_condition=by_condition,
                            close_after_by_condition=dict(data.get("close_after_by_condition") or {}))
    if hysteresis.open_after < 1 or hysteresis.close_after < 1:
        raise InvalidInputError("config patrol: open_after and close_after must be at least 1")
    escalation = tuple(_seconds(v, "escalation") for v in data.get("escalation", (0, 900, 1800)))
    policy = Policy(
        hysteresis=hysteresis,
        rack_loss_ratio=float(data.get("rack_loss_ratio", 0.5)),
        rack_loss_min_hosts=int(data.get("rack_loss_min_hosts", 3)),
        shutdown_window=_seconds(data.get("shutdown_window", 900), "shutdown_window"),
        operator_window=_seconds(data.get("operator_window", 900), "operator_window"),
        log_ttl=_seconds(data.get("log_ttl", 86400), "log_ttl"),
        log_hold=int(data.get("log_hold", 1)),
        escalation=escalation or (0.0,),
        severity_overrides=severity,
        ignore_sensors=tuple(data.get("ignore_sensors") or ()),
        flap_window=int(data.get("flap_window", 10)), flap_start=float(data.get("flap_start", 0.5)),
        flap_stop=float(data.get("flap_stop", 0.25)), flap_min_rounds=int(data.get("flap_min_rounds", 4)),
    )
    if policy.log_hold < 0:
        raise InvalidInputError("config patrol: log_hold must be 0 or more rounds")
    if not (0 < policy.flap_stop <= policy.flap_start <= 1) or policy.flap_window < 2:
        raise InvalidInputError("config patrol: need 0 < flap_stop <= flap_start <= 1 and flap_window >= 2")
    interval = _seconds(data.get("interval", 60), "interval")
    config = PatrolConfig(
        policy=policy, interval=interval,
        inventory_every=_seconds(data.get("inventory_every", 3600), "inventory_every"),
        concurrency=int(data.get("concurrency", 400)),
        bmc_deadline=_seconds(data.get("bmc_deadline", min(20.0, interval / 3)), "bmc_deadline"),
        ipmi_deadline=(_seconds(data["ipmi_deadline"], "ipmi_deadline") if data.get("ipmi_deadline") is not None
                       else None),
        round_deadline=_seconds(data.get("round_deadline", max(interval - 5, interval * 0.9)), "round_deadline"),
        read_timeout=_seconds(data.get("read_timeout", 15), "read_timeout"),
        ipmi_workers=int(data.get("ipmi_workers", 32)), log_limit=int(data.get("log_limit", 50)),
        keep_history_days=float(data.get("keep_history_days", 90)),
        maintenance=load_windows(data.get("maintenance")),
        inband_port=int(data.get("inband_port", 22)),
        inband_timeout=_seconds(data.get("inband_timeout", 3), "inband_timeout"),
    )
    if (config.concurrency < 1 or config.bmc_deadline <= 0 or config.round_deadline <= 0
            or (config.ipmi_deadline is not None and config.ipmi_deadline <= 0)):
        raise InvalidInputError("config patrol: concurrency and deadlines must be positive")
    return config
