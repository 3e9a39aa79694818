"""The power policy file: validated on load (errors name the file and the key)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dcops.errors import InvalidInputError, Problem

EXAMPLE = Path(__file__).with_name("policy.example.yaml")
ACTIONS = ("open", "close")


@dataclass(frozen=True)
class Policy:
    order_open: tuple[str, ...] = ("storage", "db", "*", "app", "web")
    order_close: tuple[str, ...] | None = None  # None: the reverse of order_open
    global_limit: int = 40
    per_rack: int = 4
    pause_seconds: float = 20.0
    max_failed: int | None = 5
    max_failed_ratio: float | None = 0.05
    graceful_timeout: float = 300.0
    verify_timeout: float = 600.0
    poll_seconds: float = 5.0

    def order(self, action: str) -> tuple[str, ...]:
        if action == "open":
            return self.order_open
        return self.order_close if self.order_close is not None else tuple(reversed(self.order_open))


def _num(data: dict[str, Any], key: str, file: str, problems: list[Problem], *, minimum: float = 0,
         integer: bool = False) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        problems.append(Problem(file, 0, f"{key}: must be a {'whole ' if integer else ''}number"))
        return None
    if value < minimum:
        problems.append(Problem(file, 0, f"{key}: must be at least {minimum}"))
        return None
    return value


def parse_policy(data: Any, file: str = "<policy>") -> Policy:
    """Build a Policy from a mapping; raises InvalidInputError listing every problem."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise InvalidInputError(f"{file}: a power policy must be a mapping", [Problem(file, 0, "not a mapping")])
    known = {"order", "concurrency", "pause_seconds", "stop_on_failure", "graceful_timeout_seconds",
             "verify_timeout_seconds", "poll_seconds"}
    for key in sorted(set(data) - known):
        problems.append(Problem(file, 0, f"unknown key {key!r} (known: {', '.join(sorted(known))})"))
    order = data.get("order") or {}
    orders: dict[str, tuple[str, ...] | None] = {"open": None, "close": None}
    for action in ACTIONS:
        value = order.get(action) if isinstance(order, dict) else None
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(Problem(file, 0, f"order.{action}: must be a list of roles"))
        elif len(set(value)) != len(value):
            problems.append(Problem(file, 0, f"order.{action}: a role is listed twice"))
        else:
            orders[action] = tuple(value)
    conc = data.get("concurrency") or {}
    stop = data.get("stop_on_failure") or {}
    glob = _num(conc, "global", file, problems, minimum=1, integer=True)
    rack = _num(conc, "per_rack", file, problems, minimum=1, integer=True)
    ratio = _num(stop, "max_failed_ratio", file, problems)
    if ratio is not None and ratio > 1:
        problems.append(Problem(file, 0, "stop_on_failure.max_failed_ratio: must be between 0 and 1"))
    pause = _num(data, "pause_seconds", file, problems)
    has_stop = isinstance(data.get("stop_on_failure"), dict)
    max_failed = _num(stop, "max_failed", file, problems, integer=True) if has_stop else Policy.max_failed
    policy = Policy(
        order_open=orders["open"] or Policy.order_open,
        order_close=orders["close"],
        global_limit=glob or Policy.global_limit,
        per_rack=rack or Policy.per_rack,
        pause_seconds=Policy.pause_seconds if pause is None else float(pause),
        max_failed=max_failed,
        max_failed_ratio=ratio if has_stop else Policy.max_failed_ratio,
        graceful_timeout=_num(data, "graceful_timeout_seconds", file, problems) or Policy.graceful_timeout,
        verify_timeout=_num(data, "verify_timeout_seconds", file, problems) or Policy.verify_timeout,
        poll_seconds=_num(data, "poll_seconds", file, problems, minimum=0.01) or Policy.poll_seconds,
    )
    if problems:
        raise InvalidInputError(f"{file}: invalid power policy", problems)
    return policy


def load_policy(path: str | None) -> Policy:
    """Read a policy file (the shipped example when ``path`` is None)."""
    file = Path(path) if path else EXAMPLE
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"{file}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{file}: not valid YAML: {exc}") from None
    return parse_policy(data, str(file))
