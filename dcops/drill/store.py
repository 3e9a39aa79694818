"""Drill runs in the state store (table ``drill_runs``, migration m0023_heartbeat_drills)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    select,
)

from dcops.drill.score import DrillScore
from dcops.store.db import Store

metadata = MetaData()
drill_runs = Table(
    "drill_runs", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("scenario", String(200), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("score", Float, nullable=False),
    Column("result", JSON, nullable=False),
)


def save_run(store: Store, result: DrillScore) -> int:
    with store.begin() as conn:
        row = conn.execute(drill_runs.insert().values(
            scenario=result.scenario[:200], mode=result.mode, started_at=result.started_at,
            finished_at=result.finished_at, passed=result.passed, score=result.score, result=result.to_json()))
        return int(row.inserted_primary_key[0])  # type: ignore[index]


def runs_since(store: Store, since: dt.datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Stored runs, newest first: id, scenario, mode, started_at, passed, score and the result."""
    stmt = select(drill_runs).order_by(drill_runs.c.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(drill_runs.c.started_at >= since)
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def latest_per_scenario(store: Store) -> list[dict[str, Any]]:
    """The newest run of each scenario (what the exporter publishes)."""
    seen: dict[str, dict[str, Any]] = {}
    for row in runs_since(store, None, limit=10_000):
        seen.setdefault(row["scenario"], row)
    return sorted(seen.values(), key=lambda r: r["scenario"])
