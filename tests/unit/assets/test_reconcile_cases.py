"""The reconciliation table: tests/cases/assets/reconcile.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.assets.reconcile import reconcile
from tests.unit.assets.helpers import book_row, expectation, snapshot

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "cases" / "assets" / "reconcile.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reconcile_case(case: dict[str, Any]) -> None:
    book = [book_row(r) for r in case["book"]]
    snaps = [snapshot(s) for s in case["snapshots"]]
    profiles = {k: expectation(v) for k, v in (case.get("profiles") or {}).items()}
    result = reconcile(book, snaps, profiles=profiles)
    got_matches = {m.book: [m.observed, m.decided_by] for m in result.matches}
    assert got_matches == case["expect"]["matches"]
    got = sorted([d.kind.value, d.host, d.observed, d.field] for d in result.discrepancies)
    want = sorted(list(d) for d in case["expect"]["discrepancies"])
    assert got == want, [d.to_json() for d in result.discrepancies]
    for d in result.discrepancies:
        if d.host is not None and d.observed is not None:
            assert d.matched_by == got_matches[d.host][1], "every discrepancy names the key that decided its match"
