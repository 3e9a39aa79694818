"""Baseline compliance results (``dcops baseline verify``) in the state store: every check is
kept; the newest per host and kind is what the exporter publishes (created by m0005_provision)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)

from dcops.report import jsonable
from dcops.store.db import Store

metadata = MetaData()

baseline_results = Table(
    "baseline_results", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("baseline", String(100), nullable=False),
    Column("compliant", Boolean, nullable=False),
    Column("differences", Integer, nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("details", JSON, nullable=True),
)


def save_results(store: Store, results: Iterable[Mapping[str, Any]]) -> int:
    """Store results: each has host, kind, baseline, compliant, differences, checked_at, details."""
    rows = []
    for r in results:
        checked = r.get("checked_at") or dt.datetime.now(dt.UTC)
        rows.append({"host": r["host"], "kind": r["kind"], "baseline": r["baseline"],
                     "compliant": bool(r["compliant"]), "differences": int(r["differences"]),
                     "checked_at": checked, "details": jsonable(r.get("details"))})
    if not rows:
        return 0
    with store.begin() as conn:
        conn.execute(baseline_results.insert(), rows)
    return len(rows)


def latest_results(store: Store) -> list[dict[str, Any]]:
    """The newest result of each (host, kind)."""
    newest = (select(baseline_results.c.host, baseline_results.c.kind, func.max(baseline_results.c.id).label("id"))
              .group_by(baseline_results.c.host, baseline_results.c.kind).subquery())
    with store.connect() as conn:
        rows = conn.execute(select(baseline_results).join(newest, baseline_results.c.id == newest.c.id)
                            .order_by(baseline_results.c.host, baseline_results.c.kind)).all()
    out = []
    for r in rows:
        item = dict(r._mapping)
        if item["checked_at"] is not None and item["checked_at"].tzinfo is None:
            item["checked_at"] = item["checked_at"].replace(tzinfo=dt.UTC)
        out.append(item)
    return out
