"""Hardware expectations per profile, for ``dcops assets reconcile --profiles FILE``.

::

    version: 1
    profiles:
      dell-r750:                       # the inventory's `profile:` of a host
        cpus: 2
        cpu_model: Xeon Gold 6338      # a substring of what the BMC reports
        dimms: 16
        memory: 512GiB
        drives: [2 x 960GB, 6 x 2.4TB] # or just a count: drives: 8
        gpus: 0
        tolerance: 3%                  # how far a size may be off (default 3 %)

Every key is optional; a key left out is not checked. Until the baseline profiles
(baselines/profiles/) carry expected hardware, this is where it is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dcops.assets.reconcile import HardwareExpectation
from dcops.errors import InvalidInputError, Problem

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4, "pb": 1000**5,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "k": 1000, "m": 1000**2, "g": 1000**3,
          "t": 1000**4}
_SIZE = re.compile(r"^\s*(?:(\d+)\s*[x*×]\s*)?(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)
_KEYS = {"cpus", "cpu_model", "dimms", "memory", "drives", "gpus", "tolerance"}


def parse_size(text: Any) -> list[int]:
    """``960GB`` -> [960e9]; ``2 x 960GB`` -> two of them; a bare number is bytes.
    Raises ValueError."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return [int(text)]
    match = _SIZE.match(str(text))
    if not match or match.group(3).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 960GB, 2.4TB, 32GiB, 2 x 960GB)")
    count = int(match.group(1) or 1)
    return [int(float(match.group(2)) * _UNITS[match.group(3).lower()])] * count


def parse_profiles(data: Any, file: str = "<profiles>") -> dict[str, HardwareExpectation]:
    """Validate a loaded profiles document. Raises ``InvalidInputError`` listing every problem."""
    problems: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise InvalidInputError(f"{file}: expected a mapping with 'profiles:'",
                                [Problem(file, 0, "expected a mapping with 'profiles:'")])
    result: dict[str, HardwareExpectation] = {}
    for name, body in data["profiles"].items():
        where = f"profile {name}"
        if not isinstance(body, dict):
            problems.append(Problem(file, 0, f"{where}: expected a mapping"))
            continue
        unknown = sorted(set(body) - _KEYS)
        if unknown:
            problems.append(Problem(file, 0, f"{where}: unknown key(s) {', '.join(unknown)} "
                                             f"(known: {', '.join(sorted(_KEYS))})"))
        values: dict[str, Any] = {}
        try:
            for key in ("cpus", "dimms", "gpus"):
                if body.get(key) is not None:
                    if not isinstance(body[key], int) or isinstance(body[key], bool) or body[key] < 0:
                        raise ValueError(f"{key} must be a whole number, not {body[key]!r}")
                    values[key] = body[key]
            if body.get("cpu_model"):
                values["cpu_model"] = str(body["cpu_model"])
            if body.get("memory") is not None:
                values["memory_bytes"] = sum(parse_size(body["memory"]))
            drives = body.get("drives")
            if isinstance(drives, int) and not isinstance(drives, bool):
                values["drives"] = drives
            elif isinstance(drives, list):
                sizes = [s for item in drives for s in parse_size(item)]
                values["drive_sizes"] = tuple(sorted(sizes))
                values["drives"] = len(sizes)
            elif drives is not None:
                raise ValueError(f"drives must be a count or a list of sizes, not {drives!r}")
            if body.get("tolerance") is not None:
                text = str(body["tolerance"]).strip()
                values["tolerance"] = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError as exc:
            problems.append(Problem(file, 0, f"{where}: {exc}"))
            continue
        result[str(name)] = HardwareExpectation(**values)
    if problems:
        raise InvalidInputError(f"{file}: {len(problems)} problem(s)", problems)
    return result


def load_profiles(path: str | Path) -> dict[str, HardwareExpectation]:
    """Read a profiles file. Raises ``InvalidInputError`` (unreadable, not YAML, invalid)."""
    file = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"{file}: cannot read: {exc.strerror or exc}",
                                [Problem(file, 0, f"cannot read: {exc.strerror or exc}")]) from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{file}: not valid YAML", [Problem(file, 0, f"not valid YAML: {exc}")]) from None
    return parse_profiles(data, file)


def expectations_from_baselines(root: str | Path) -> dict[str, HardwareExpectation]:
    """The expected hardware of every profile under a baselines directory (``baselines/profiles``,
    owned by the baseline capability). Raises ``InvalidInputError`` when the baselines are invalid."""
    from dcops.baseline.load import load_baselines

    result: dict[str, HardwareExpectation] = {}
    for name, profile in load_baselines(root).profiles.items():
        exp = profile.expected
        sizes: tuple[int, ...] | None = None
        if exp.drives and all(g.size_gb for g in exp.drives):
            sizes = tuple(sorted(int((g.size_gb or 0) * 1000**3) for g in exp.drives for _ in range(g.count)))
        drives = exp.drive_count if exp.drive_count is not None else (
            sum(g.count for g in exp.drives) if exp.drives else None)
        result[name] = HardwareExpectation(
            cpus=exp.cpu_count, cpu_model=exp.cpu_model, dimms=exp.dimm_count,
            memory_bytes=exp.memory_gib * 1024**3 if exp.memory_gib else None,
            drives=drives, drive_sizes=sizes, tolerance=max(exp.size_tolerance, 0.0) or 0.03)
    return result
