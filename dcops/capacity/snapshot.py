"""The snapshot file: a cloud's compute nodes at one time, for review and for CI without cloud
access (``dcops capacity snapshot -o FILE``, ``dcops capacity check --from-file FILE``).

Schema ``dcops.capacity.snapshot/v1`` (documented in docs/capacity.md)::

    {
      "schema": "dcops.capacity.snapshot/v1",
      "taken_at": "2025-03-01T06:00:00+00:00",          # ISO 8601 with offset
      "source": {"cloud": "prod-fra"},                   # strings, informative only
      "azs": ["az1", "az2"],                             # AZ names Nova knows
      "problems": ["..."], "incomplete": ["..."],        # optional, as collected
      "nodes": [{
        "name": "cmp-a01-01",                            # Nova service host
        "az": "az1",
        "rack": "A01",                                   # or null: no rack known
        "state": "up",                                   # up | disabled | down
        "reason": null,                                  # Nova's disabled_reason
        "hypervisor": "cmp-a01-01.example.net",          # optional
        "provider": "3f2b...-uuid",                      # optional, Placement RP UUID
        "resources": {"MEMORY_MB": {"total": 262144, "reserved": 6144,
                                    "allocation_ratio": 1.0, "used": 153600}}
      }]
    }

A newer minor revision may add keys; readers ignore keys they do not know. A different schema
name is refused.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dcops.capacity.errors import SnapshotError
from dcops.capacity.model import Node, NodeState, Resource, Snapshot, as_fraction
from dcops.errors import Problem

SNAPSHOT_SCHEMA = "dcops.capacity.snapshot/v1"
MAX_AMOUNT = 2**53  # total/reserved/used: beyond any real inventory, and exact in a float
MAX_RATIO = 3.40282e38  # Placement's own maximum allocation ratio
_FILE_STATES = {NodeState.UP.value, NodeState.DISABLED.value, NodeState.DOWN.value}


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as schema-v1 JSON data (what-if states are not written: they are not facts)."""
    nodes = []
    for node in sorted(snapshot.nodes, key=lambda n: (n.az, n.name)):
        if node.state.value not in _FILE_STATES:
            continue
        nodes.append({
            "name": node.name,
            "az": node.az,
            "rack": node.rack,
            "state": node.state.value,
            "reason": node.reason,
            "hypervisor": node.hypervisor,
            "provider": node.provider,
            "resources": {
                rc: {"total": r.total, "reserved": r.reserved,
                     "allocation_ratio": float(r.allocation_ratio), "used": r.used}
                for rc, r in sorted(node.resources.items())
            },
        })
    return {
        "schema": SNAPSHOT_SCHEMA,
        "taken_at": snapshot.taken_at.isoformat(),
        "source": dict(snapshot.source),
        "azs": sorted(snapshot.azs),
        "problems": list(snapshot.problems),
        "incomplete": list(snapshot.incomplete),
        "nodes": nodes,
    }


def write_snapshot(snapshot: Snapshot, path: str | Path) -> None:
    """Write the snapshot atomically (a reader never sees half a file).

    Raises ``SnapshotError`` when the file cannot be written.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(json.dumps(snapshot_to_json(snapshot), indent=1) + "\n", encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SnapshotError(f"{target}: cannot write snapshot: {exc.strerror}") from None


def read_snapshot(path: str | Path) -> Snapshot:
    """Read and validate a snapshot file.

    Raises ``SnapshotError`` (exit 3) naming every problem found.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(f"{source}: cannot read snapshot: {exc.strerror}") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        problem = Problem(source, exc.lineno, f"not valid JSON: {exc.msg}")
        raise SnapshotError(str(problem), [problem]) from None
    except (ValueError, RecursionError) as exc:
        # NaN/Infinity (Python's json takes them; JSON has no such numbers), an integer of more
        # than 4,300 digits, or nesting deeper than the stack: input errors, not crashes.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        problem = Problem(source, 0, f"not valid JSON: {reason}")
        raise SnapshotError(str(problem), [problem]) from None
    return snapshot_from_json(data, source)


def snapshot_from_json(data: Any, source: str = "<snapshot>") -> Snapshot:
    """Build a ``Snapshot`` from schema-v1 data. Raises ``SnapshotError`` listing every problem."""
    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(source, 0, f"{where}: {message}"))

    if not isinstance(data, Mapping):
        raise SnapshotError(f"{source}: a snapshot is a JSON object")
    if data.get("schema") != SNAPSHOT_SCHEMA:
        raise SnapshotError(f"{source}: schema is {data.get('schema')!r}, expected {SNAPSHOT_SCHEMA!r}")
    taken_at = _when(data.get("taken_at"))
    if taken_at is None:
        bad("taken_at", "must be an ISO 8601 time with an offset")
    nodes = []
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list):
        bad("nodes", "must be a list")
        raw_nodes = []
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(raw_nodes):
        node = _node(raw, f"nodes[{index}]", bad)
        if node is None:
            continue
        if (node.az, node.name) in seen:
            bad(f"nodes[{index}]", f"{node.name} appears twice in {node.az}")
        seen.add((node.az, node.name))
        nodes.append(node)
    azs = data.get("azs", [])
    if not isinstance(azs, list) or not all(isinstance(a, str) for a in azs):
        bad("azs", "must be a list of names")
        azs = []
    if problems:
        raise SnapshotError(f"{source}: {len(problems)} problem(s) in snapshot", problems)
    assert taken_at is not None
    return Snapshot(
        taken_at=taken_at,
        nodes=tuple(nodes),
        azs=tuple(azs),
        source={str(k): str(v) for k, v in (data.get("source") or {}).items()},
        problems=tuple(str(p) for p in data.get("problems") or ()),
        incomplete=tuple(str(p) for p in data.get("incomplete") or ()),
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _node(raw: Any, where: str, bad: Any) -> Node | None:
    if not isinstance(raw, Mapping):
        bad(where, "must be an object")
        return None
    ok = True
    for key in ("name", "az"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            bad(f"{where}.{key}", "must be a non-empty string")
            ok = False
    state = raw.get("state", "up")
    if not isinstance(state, str) or state not in _FILE_STATES:
        bad(f"{where}.state", f"must be one of {', '.join(sorted(_FILE_STATES))}")
        ok = False
    rack = raw.get("rack")
    if rack is not None and (not isinstance(rack, str) or not rack):
        bad(f"{where}.rack", "must be a non-empty string or null")
        ok = False
    resources: dict[str, Resource] = {}
    raw_resources = raw.get("resources")
    if not isinstance(raw_resources, Mapping):
        bad(f"{where}.resources", "must be an object")
        return None
    for rc, inv in raw_resources.items():
        here = f"{where}.resources.{rc}"
        if not isinstance(inv, Mapping):
            bad(here, "must be an object")
            ok = False
            continue
        values = {}
        for key, default in (("total", None), ("reserved", 0), ("used", 0)):
            value = inv.get(key, default)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                bad(f"{here}.{key}", "must be a non-negative integer")
                ok = False
            elif value > MAX_AMOUNT:
                # Placement keeps amounts in 32-bit columns; 2**53 leaves every sum exact in a float.
                bad(f"{here}.{key}", f"{value} is larger than any inventory ({MAX_AMOUNT})")
                ok = False
            values[key] = value
        ratio = inv.get("allocation_ratio", 1.0)
        if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not math.isfinite(ratio) or ratio <= 0 \
                or ratio > MAX_RATIO:
            bad(f"{here}.allocation_ratio", f"must be a positive number up to {MAX_RATIO:g} (Placement's maximum)")
            ok = False
            continue
        if ok:
            resources[str(rc)] = Resource(total=values["total"], reserved=values["reserved"],
                                          allocation_ratio=as_fraction(ratio), used=values["used"])
    if not ok:
        return None
    return Node(
        name=raw["name"], az=raw["az"], resources=resources, state=NodeState(state), rack=rack,
        hypervisor=str(raw.get("hypervisor") or ""), provider=str(raw.get("provider") or ""),
        reason=raw.get("reason") if isinstance(raw.get("reason"), str) else None,
    )
