"""The dependency model (patrol.depends) as a table: which bad part owns a symptom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.patrol.depends import explained_by_shutdown, owner_of
from dcops.patrol.model import Condition, Event, PartInfo, Severity

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cases" / "patrol" / "depends.yaml").read_text())["cases"]


def event(spec: str) -> Event:
    """``"part condition kind|location[|chassis]"`` (the part may contain spaces)."""
    head, _, tail = spec.partition("|")
    part, condition, kind = head.rsplit(" ", 2)
    location, _, chassis = tail.partition("|")
    return Event("h1", part, Condition(condition), Severity.CRITICAL, part,
                 PartInfo(kind=kind, location=location or None, chassis=chassis or None))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_owner_of(case: dict[str, Any]) -> None:
    owner = owner_of(event(case["symptom"]), [event(o) for o in case["owners"]])
    assert (owner.part if owner else None) == case["owner"]


@pytest.mark.parametrize(("spec", "explained"), [
    ("cpu:1:CPU1 health cpu|CPU1", True),
    ("dimm:1:A1 health dimm|A1", True),
    ("system rollup system|", True),
    ("psu:1:PSU1 health psu|PSU1", False),
    ("fan:1:Fan1 health fan|Fan1", False),
    ("drive:1:Bay1 health drive|Bay1", False),
    ("sensor:1:voltage:12V sensor_low sensor/voltage|12V", True),
    ("sensor:1:temperature:Inlet sensor_high sensor/temperature|Inlet", False),
])
def test_what_a_shutdown_explains(spec: str, explained: bool) -> None:
    assert explained_by_shutdown(event(spec)) is explained
