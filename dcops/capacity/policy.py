"""What an AZ must survive, and how full survivors may get: the capacity policy.

* Ceilings ``q`` per resource class: ``MEMORY_MB=0.8,VCPU=1.0``. A class given as ``off`` is not
  checked. Defaults: MEMORY_MB 0.8 (the practice the rule comes from), VCPU 1.0 and DISK_GB 1.0
  (Placement's allocation ratio already sets how far those may be overcommitted).
* Requirements: ``nodes=K`` (any K nodes may fail), ``rack`` (the worst rack may fail),
  ``rack+K`` (the worst rack and then the K worst other nodes); comma-separated, all must hold.
  Default ``rack``: AZs are spread over racks so that a rack losing power does not take the
  zone down.

Command-line values override the ``capacity:`` section of the config file
(``q: {MEMORY_MB: 0.8}``, ``require: rack+1``), which overrides the defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from dcops.capacity.model import as_fraction
from dcops.capacity.units import resource_class
from dcops.errors import UsageError

DEFAULT_CEILINGS: dict[str, Fraction] = {
    "MEMORY_MB": Fraction(4, 5),
    "VCPU": Fraction(1),
    "DISK_GB": Fraction(1),
}
_REQUIREMENT = re.compile(r"^(?:nodes=(\d+)|rack(?:\+(\d+))?)$")


@dataclass(frozen=True, order=True)
class Requirement:
    """``nodes=K`` (``rack=False``) or ``rack+K`` (``rack=True``; K may be 0)."""

    rack: bool
    count: int

    def __str__(self) -> str:
        if not self.rack:
            return f"nodes={self.count}"
        return "rack" if self.count == 0 else f"rack+{self.count}"


@dataclass(frozen=True)
class Policy:
    """Ceilings per resource class (the classes checked) and the requirements every AZ must meet."""

    ceilings: Mapping[str, Fraction] = field(default_factory=lambda: dict(DEFAULT_CEILINGS))
    requirements: tuple[Requirement, ...] = (Requirement(rack=True, count=0),)

    @property
    def needs_racks(self) -> bool:
        return any(r.rack for r in self.requirements)

    def describe(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def describe_ceilings(self) -> str:
        return ",".join(f"{k}={float(v):g}" for k, v in self.ceilings.items())


def parse_requirements(text: str) -> tuple[Requirement, ...]:
    """Parse ``nodes=1``, ``rack``, ``rack+1`` or a comma-separated mix.

    Raises ``UsageError`` on anything else.
    """
    found: list[Requirement] = []
    for part in (p.strip() for p in text.split(",")):
        match = _REQUIREMENT.match(part.lower())
        if not part or not match:
            raise UsageError(f"--require: {part!r} is not nodes=K, rack or rack+K")
        if match.group(1) is not None:
            found.append(Requirement(rack=False, count=int(match.group(1))))
        else:
            found.append(Requirement(rack=True, count=int(match.group(2) or 0)))
    return tuple(sorted(set(found)))


def parse_ceiling(value: Any, where: str) -> Fraction | None:
    """One ceiling: a number in (0, 1], or ``off``/None (not checked). Raises ``UsageError``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("off", "none")):
        return None
    try:
        q = as_fraction(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError, ZeroDivisionError):
        raise UsageError(f"{where}: {value!r} is not a number") from None
    if not 0 < q <= 1:
        raise UsageError(f"{where}: q must be in (0, 1], not {value}")
    return q


def parse_ceilings(text: str) -> dict[str, Fraction | None]:
    """Parse ``MEMORY_MB=0.8,VCPU=1.0`` (``memory``, ``vcpu``, ``disk`` accepted as names).

    Raises ``UsageError`` on malformed input.
    """
    result: dict[str, Fraction | None] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--q: {part!r} is not CLASS=RATIO (e.g. MEMORY_MB=0.8)")
        result[resource_class(name)] = parse_ceiling(value, f"--q {name.strip()}")
    return result


def build_policy(config: Mapping[str, Any] | None = None, q: str | None = None,
                 require: str | None = None) -> Policy:
    """The policy from the config section ``capacity`` and the command line (which wins).

    Raises ``UsageError`` when a value is malformed.
    """
    config = config or {}
    ceilings: dict[str, Fraction | None] = dict(DEFAULT_CEILINGS)
    configured = config.get("q") or {}
    if not isinstance(configured, Mapping):
        raise UsageError("config capacity.q must be a mapping of resource class to ratio")
    for name, value in configured.items():
        ceilings[resource_class(str(name))] = parse_ceiling(value, f"config capacity.q.{name}")
    if q:
        ceilings.update(parse_ceilings(q))
    text = require or config.get("require")
    requirements = parse_requirements(str(text)) if text else Policy().requirements
    checked = {k: v for k, v in ceilings.items() if v is not None}
    if not checked:
        raise UsageError("--q: every resource class is off; nothing to check")
    return Policy(ceilings=checked, requirements=requirements)
