"""JSON columns are written by orjson and read back as ``json`` would have: the same values for
non-string keys, an integer orjson cannot write, and rows an older dcops wrote with NaN."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from dcops.store import open_store
from dcops.store.db import json_text, json_value

CASES: list[tuple[str, Any, Any]] = [
    ("plain", {"a": [1, 2.5, None, True, "é"]}, {"a": [1, 2.5, None, True, "é"]}),
    ("non-string keys", {1: "x", False: "y", None: "z", 1.5: "w"}, {"1": "x", "false": "y", "null": "z", "1.5": "w"}),
    ("tuple", {"t": (1, 2)}, {"t": [1, 2]}),
    ("integer past 64 bits", {"n": 2**70}, {"n": 2**70}),
    ("NaN is null", {"x": math.nan}, {"x": None}),
]


@pytest.mark.parametrize(("value", "want"), [(v, w) for _, v, w in CASES], ids=[c[0] for c in CASES])
def test_written_and_read_back(value: Any, want: Any) -> None:
    assert json_value(json_text(value)) == want


def test_rows_written_by_json_dumps_still_read() -> None:
    legacy = json.dumps({"reading": float("nan"), "k": [1, 2]})
    got = json_value(legacy)
    assert math.isnan(got["reading"]) and got["k"] == [1, 2]


def test_a_store_round_trips_through_its_columns(tmp_path: Any) -> None:
    from sqlalchemy import JSON, Column, MetaData, String, Table

    store = open_store(f"sqlite:///{tmp_path}/s.db")
    table = Table("t_json", MetaData(), Column("name", String(20), primary_key=True), Column("value", JSON))
    table.create(store.engine)
    value = {"memory": {7: "seven"}, "big": 2**70}
    with store.begin() as conn:
        conn.execute(table.insert().values(name="t", value=value))
    with store.connect() as conn:
        row = conn.execute(table.select().where(table.c.name == "t")).one()
    assert row.value == {"memory": {"7": "seven"}, "big": 2**70}
    store.close()
