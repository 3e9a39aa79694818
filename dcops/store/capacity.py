"""Capacity check results in the state store: every check is kept (for trends), the newest is
what the exporter publishes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from dcops.store.db import Store
from dcops.store.schema import capacity_results


def save_result(store: Store, result: dict[str, Any]) -> int:
    """Store one capacity result document (``CapacityResult.to_json()``); returns its id."""
    checked = dt.datetime.fromisoformat(result["checked_at"])
    if checked.tzinfo is None:
        checked = checked.replace(tzinfo=dt.UTC)
    source = result.get("source") or {}
    with store.begin() as conn:
        row = conn.execute(capacity_results.insert().values(
            checked_at=checked,
            policy_met=all(az.get("policy_met") for az in result.get("azs", [])),
            require=result.get("require", ""),
            source=str(source.get("kind") or source.get("file") or source.get("cloud") or "")[:200] or None,
            result=result,
        ))
        return int(row.inserted_primary_key[0])  # type: ignore[index]


def latest_result(store: Store) -> dict[str, Any] | None:
    """The newest stored result document, or None when no check has run."""
    with store.connect() as conn:
        row = conn.execute(
            select(capacity_results.c.result).order_by(capacity_results.c.id.desc()).limit(1)
        ).first()
    return dict(row.result) if row else None
