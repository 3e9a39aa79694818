"""The golden table of Redfish reads: every capture in tests/fixtures/redfish, the same captures
with their sensors perturbed (readings past each threshold, placeholder thresholds, every health),
and documents a ``dcops sim`` fleet served on steady patrol visits, each read the ways patrol and
the CLI read them (``read_observation`` with every section and with the minute tier's, with and
without ``$expand``; ``read_health``), then checked (``check_host``).

What each read gives is kept as ``repr`` (exact types and order, not just JSON-equal) in
tests/fixtures/golden/reads.json.gz. The table exists so that the parsing and checking code can be
made cheaper without changing what it says (issue 19); regenerate it only for a change of
behaviour that is meant, and say so in the commit:

    .venv/bin/python -m tests.unit.bmc.golden_reads --write
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import gzip
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dcops.bmc.redfish.docs import FetchError, cache_key, normalize, run_sync
from dcops.bmc.redfish.read import read_health, read_observation
from dcops.observation import Observation
from dcops.patrol.checks import check_host
from dcops.patrol.model import HostMemory, Policy
from tests.unit.bmc.mockups import CAPTURES, fetcher, load

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden"
EXPECTED = GOLDEN / "reads.json.gz"
# Documents as a dcops sim fleet served them to the fleet reader on a steady (4th) minute visit:
# host -> [[path asked, document], ...] (recorded with tests/unit/bmc/golden_sim.py).
SIM_DOCS = GOLDEN / "sim_minute_docs.json.gz"
MINUTE = ("sensors", "logs")
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# The ways a capture is read: name -> read step for a host.
READS: dict[str, Callable[[str], Any]] = {
    "all": lambda host: read_observation(host),
    "all-expand": lambda host: read_observation(host, expand=True),
    "minute": lambda host: read_observation(host, sections=MINUTE),
    "minute-expand": lambda host: read_observation(host, sections=MINUTE, expand=True),
    "health": lambda host: read_health(host),
    "health-nodrill": lambda host: read_health(host, drill=False, expand=False),
}
# check_host's memory of the previous round: the host was on (a power-off now is unexpected).
WAS_ON = HostMemory(power="on", last_reachable=True)


def _steady(obs: Observation) -> Observation:
    """The observation without what differs from run to run (when it was taken, how long it took)."""
    return dataclasses.replace(obs, taken_at=NOW, duration_seconds=None)


def outputs(docs: dict[str, Any], fetch: Callable[[str], Any], reads: dict[str, Callable[[str], Any]],
            host: str) -> dict[str, str]:
    """``repr`` of each read of ``docs`` and of its checks (minute sections, and all sections)."""
    out: dict[str, str] = {}
    for name, step in reads.items():
        try:
            obs = _steady(run_sync(step(host), fetch))
        except FetchError as exc:
            out[name] = f"FetchError {exc}"
            continue
        out[name] = repr(obs)
        sections = MINUTE if name.startswith("minute") else ("components", "sensors", "logs")
        for memory_name, memory in (("fresh", HostMemory()), ("was-on", WAS_ON)):
            check = check_host(host, obs, memory, NOW, Policy(), sections=sections,
                               location={"site": "s", "room": "r", "rack": "R1"})
            # Sets print in hash order, which changes from run to run: sorted here.
            check = dataclasses.replace(check, scopes=tuple(sorted(check.scopes)),  # type: ignore[arg-type]
                                        seen=tuple(sorted(check.seen)))  # type: ignore[arg-type]
            out[f"{name}/check/{memory_name}"] = repr(check)
    return out


# --------------------------------------------------------------------------- perturbed captures

_LEGACY_LIMITS = ("LowerThresholdFatal", "LowerThresholdCritical", "LowerThresholdNonCritical",
                  "UpperThresholdNonCritical", "UpperThresholdCritical", "UpperThresholdFatal")
_LEGACY_READINGS = ("ReadingCelsius", "Reading", "ReadingVolts", "PowerConsumedWatts")
_HEALTHS = ("OK", "Warning", "Critical", None, "ok", "Bogus")


def _sensor_like(value: Any) -> Iterator[dict[str, Any]]:
    """Every dict (at any depth) that carries a reading: legacy Thermal/Power entries and Sensors."""
    if isinstance(value, dict):
        if any(k in value for k in _LEGACY_READINGS) or "Thresholds" in value:
            yield value
        for item in value.values():
            yield from _sensor_like(item)
    elif isinstance(value, list):
        for item in value:
            yield from _sensor_like(item)


def _perturb_one(doc: dict[str, Any], n: int) -> None:
    """Push one sensor into case ``n``: a reading at, past or below each threshold, placeholder or
    zero-filled thresholds, no reading, no status, each health (the branches of the reader's and
    the checks' verdicts)."""
    key = next((k for k in _LEGACY_READINGS if k in doc), "Reading")
    limits: dict[str, Any] = {}
    if isinstance(doc.get("Thresholds"), dict):
        for name, entry in doc["Thresholds"].items():
            if isinstance(entry, dict) and isinstance(entry.get("Reading"), (int, float)):
                limits[name] = entry
    legacy = [k for k in _LEGACY_LIMITS if isinstance(doc.get(k), (int, float))]
    case = n % 11
    status = doc.get("Status") if isinstance(doc.get("Status"), dict) else None
    health = _HEALTHS[(n // 11) % len(_HEALTHS)]
    if case == 0:
        return  # as captured
    if case == 1 and legacy:
        doc[key] = doc[legacy[-1]]  # exactly at the highest threshold
    elif case == 2 and legacy:
        doc[key] = doc[legacy[0]] - 1  # below the lowest threshold
    elif case == 2 and limits:
        first = next(iter(limits.values()))
        doc[key] = first["Reading"] - 1
    elif case == 3:
        doc[key] = 0  # reads 0
    elif case == 4:
        doc.pop(key, None)  # no reading
    elif case == 5:
        for name in legacy:
            doc[name] = 255  # all-ones placeholders
        for entry in limits.values():
            entry["Reading"] = -1
    elif case == 6:
        doc.pop("Status", None)
        status = None
    elif case == 7:
        doc[key] = 1e6  # past every upper threshold
    elif case == 8:
        for name in legacy:
            doc[name] = 0  # zero-filled
        for entry in limits.values():
            entry["Reading"] = 0
    elif case == 9:
        doc[key] = True  # a boolean is no reading
    elif case == 10 and legacy:
        doc[legacy[0]] = doc.get(key) if isinstance(doc.get(key), (int, float)) else 0  # at a lower limit
    if status is not None:
        if health is None:
            status.pop("Health", None)
        else:
            status["Health"] = health
        if n % 7 == 3:
            status["State"] = "Absent"


def perturbed(docs: dict[str, Any]) -> dict[str, Any]:
    """A deterministic copy of ``docs`` with every sensor pushed into one of the cases above."""
    result = copy.deepcopy(docs)
    n = 0
    for path in sorted(result):
        for doc in _sensor_like(result[path]):
            _perturb_one(doc, n)
            n += 1
    return result


# --------------------------------------------------------------------------- sim documents


def sim_docs() -> dict[str, list[list[Any]]]:
    with gzip.open(SIM_DOCS, "rt", encoding="utf-8") as handle:
        data: dict[str, list[list[Any]]] = json.load(handle)
    return data


def replay(pairs: list[list[Any]] | list[tuple[str, Any]], *, copied: bool = True) -> Callable[[str], Any]:
    """A ``fetch`` that answers each path as the sim did (exact path and query first, then by key;
    a query the documents do not hold, as a capture holds no ``$expand`` answers, without it).
    ``copied``: a deep copy each time (a reader that wrote into it could not change the next
    read); the parsing benchmark passes False, as the parser never writes."""
    exact = {path: doc for path, doc in pairs}
    keyed = {cache_key(path): doc for path, doc in pairs}
    plain = {normalize(path): doc for path, doc in pairs}

    def fetch(path: str) -> Any:
        doc = exact.get(path) or keyed.get(cache_key(path))
        if doc is None and "?" in path and "$skip" not in path:
            doc = plain.get(normalize(path))
        if doc is None:
            raise FetchError(path, "404 Not Found", 404)
        return copy.deepcopy(doc) if copied else doc

    return fetch


# --------------------------------------------------------------------------- the table


def cases() -> Iterator[tuple[str, Callable[[], dict[str, str]]]]:
    """(case name, a function computing its outputs) for every row of the golden table."""
    for name in CAPTURES:
        yield f"capture/{name}", lambda name=name: outputs(load(name), fetcher(load(name)), READS, name)
        yield f"perturbed/{name}", lambda name=name: _perturbed_outputs(name)
    if SIM_DOCS.exists():
        for host, pairs in sorted(sim_docs().items()):
            # Served as the fleet reader hands them over: Chassis with Thermal/Power inline, the
            # Sensors collection expanded, only the log entries new since the cursor.
            minute = {"minute-expand": READS["minute-expand"], "health": READS["health"]}
            yield f"sim/{host}", lambda pairs=pairs, host=host, minute=minute: outputs(
                {}, replay(pairs), minute, host)


def _perturbed_outputs(name: str) -> dict[str, str]:
    docs = perturbed(load(name))
    return outputs(docs, fetcher(docs), READS, name)


def expected() -> dict[str, dict[str, str]]:
    with gzip.open(EXPECTED, "rt", encoding="utf-8") as handle:
        data: dict[str, dict[str, str]] = json.load(handle)
    return data


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    table = {name: compute() for name, compute in cases()}
    with gzip.open(EXPECTED, "wt", encoding="utf-8") as handle:
        json.dump(table, handle, indent=0, sort_keys=True)
    print(f"{EXPECTED}: {len(table)} cases, {sum(len(v) for v in table.values())} outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
