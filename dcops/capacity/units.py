"""Quantities of Placement resource classes: parsing sizes and formatting amounts for people.

Placement counts MEMORY_MB in MiB and DISK_GB in GiB (both binary, despite the names); VCPU and
PCPU in CPUs; other classes in plain units.
"""

from __future__ import annotations

import re
from fractions import Fraction

from dcops.errors import UsageError

_BINARY = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5}
# Bytes per unit of each class that measures bytes.
BYTES_PER_UNIT: dict[str, int] = {"MEMORY_MB": 1 << 20, "DISK_GB": 1 << 30}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B?)?\s*$", re.IGNORECASE)

# Short names people type, mapped to Placement's resource classes.
ALIASES: dict[str, str] = {
    "memory": "MEMORY_MB", "mem": "MEMORY_MB", "ram": "MEMORY_MB",
    "vcpu": "VCPU", "cpu": "VCPU", "vcpus": "VCPU",
    "disk": "DISK_GB",
}


def resource_class(name: str) -> str:
    """Normalise a resource class name (``memory`` → ``MEMORY_MB``; others upper-cased)."""
    name = name.strip()
    return ALIASES.get(name.lower(), name.upper())


def parse_size(text: str, resource: str) -> int:
    """Parse an amount of ``resource`` given by a person, in that class's own units.

    ``512G`` for MEMORY_MB is 524288 (MiB); ``2T`` for DISK_GB is 2048 (GiB); a bare number is
    taken in the class's own unit. Suffixes are binary (K, M, G, T, P; ``GiB``/``GB`` alike),
    because memory and disk sizes of servers are quoted that way.

    Raises ``UsageError`` when the text is not a size or the size is not a whole unit.
    """
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"{text!r} is not a size (e.g. 512G, 1.5T, 65536)")
    number = Fraction(match.group(1))
    suffix = match.group(2).upper()
    per_unit = BYTES_PER_UNIT.get(resource)
    if suffix and per_unit is None:
        raise UsageError(f"{resource} is counted in units; give a plain number, not {text!r}")
    if suffix and per_unit is not None:
        number = number * (1 << (10 * _BINARY[suffix])) / per_unit
    if number.denominator != 1 or number <= 0:
        raise UsageError(f"{text!r} is not a positive whole number of {unit_name(resource)}")
    return int(number)


def unit_name(resource: str) -> str:
    """The unit a class is counted in, for messages."""
    return {"MEMORY_MB": "MiB", "DISK_GB": "GiB", "VCPU": "vCPU", "PCPU": "pCPU"}.get(resource, "units")


def format_amount(value: Fraction | float | int, resource: str) -> str:
    """An amount of ``resource`` for people: ``2.1 TiB``, ``60.0 GiB``, ``96 vCPU``, ``-1.5 GiB``."""
    per_unit = BYTES_PER_UNIT.get(resource)
    if per_unit is None:
        number = float(value)
        text = f"{number:.0f}" if number == int(number) else f"{number:.1f}"
        return f"{text} {unit_name(resource)}"
    size = float(value) * per_unit
    sign = "-" if size < 0 else ""
    size = abs(size)
    for suffix in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or suffix == "TiB":
            break
        size /= 1024
    if suffix == "TiB" and size >= 1024:
        size, suffix = size / 1024, "PiB"
    return f"{sign}{size:.1f} {suffix}" if suffix != "B" else f"{sign}{size:.0f} B"


def format_ratio(value: Fraction | float | None) -> str:
    """A ratio as people write q and p: ``0.8``, ``0.625``; ``-`` when unknown."""
    if value is None:
        return "-"
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return text or "0"
