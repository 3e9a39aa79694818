"""Patrol: latest observation per host, health-change history, rounds, convergence state,
incidents, silences and the notification outbox."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

DESCRIPTION = "patrol: observations, health history, rounds, incidents, silences, notification outbox"


def _id() -> Column:  # type: ignore[type-arg]
    return Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)


def apply(conn: Connection) -> None:
    md = MetaData()
    Table(
        "patrol_hosts", md,
        Column("host", String(255), primary_key=True),
        Column("observed_at", DateTime(timezone=True), nullable=True),
        Column("last_success_at", DateTime(timezone=True), nullable=True),
        Column("last_inventory_at", DateTime(timezone=True), nullable=True),
        Column("reachable", Boolean, nullable=False, default=False),
        Column("error", Text, nullable=True),
        Column("protocol", String(20), nullable=True),
        Column("power", String(20), nullable=True),
        Column("health", String(20), nullable=True),
        Column("duration_seconds", Float, nullable=True),
        Column("requests", Integer, nullable=True),
        Column("log_cursor", String(200), nullable=True),
        Column("memory", JSON, nullable=True),
        Column("observation", JSON, nullable=True),
        Column("inventory", JSON, nullable=True),
    )
    Table(
        "patrol_health_changes", md, _id(),
        Column("at", DateTime(timezone=True), nullable=False, index=True),
        Column("host", String(255), nullable=False, index=True),
        Column("part", String(255), nullable=False),
        Column("old", String(40), nullable=True),
        Column("new", String(40), nullable=True),
        Column("detail", Text, nullable=True),
    )
    Table(
        "patrol_rounds", md, _id(),
        Column("started_at", DateTime(timezone=True), nullable=False, index=True),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Column("hosts", Integer, nullable=False, default=0),
        Column("reachable", Integer, nullable=False, default=0),
        Column("unreachable", Integer, nullable=False, default=0),
        Column("missed", Integer, nullable=False, default=0),
        Column("events", Integer, nullable=False, default=0),
        Column("opened", Integer, nullable=False, default=0),
        Column("resolved", Integer, nullable=False, default=0),
        Column("duration_seconds", Float, nullable=True),
        Column("cpu_seconds", Float, nullable=True),
        Column("requests", Integer, nullable=True),
        Column("tier", String(40), nullable=True),
    )
    Table(
        "patrol_state", md,
        Column("name", String(100), primary_key=True),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("value", JSON, nullable=False),
    )
    Table(
        "patrol_incidents", md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
        Column("key", String(600), nullable=False, index=True),
        Column("host", String(255), nullable=False, index=True),
        Column("part", String(300), nullable=False),
        Column("condition", String(40), nullable=False),
        Column("severity", String(20), nullable=False),
        Column("status", String(20), nullable=False, index=True),
        Column("site", String(100), nullable=True),
        Column("room", String(100), nullable=True),
        Column("rack", String(100), nullable=True),
        Column("opened_at", DateTime(timezone=True), nullable=False, index=True),
        Column("resolved_at", DateTime(timezone=True), nullable=True, index=True),
        Column("acked_at", DateTime(timezone=True), nullable=True),
        Column("acked_by", String(200), nullable=True),
        Column("tier", Integer, nullable=False, default=1),
        Column("summary", Text, nullable=False),
        Column("body", JSON, nullable=False),
    )
    Table(
        "patrol_silences", md, _id(),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("until", DateTime(timezone=True), nullable=False, index=True),
        Column("host", String(255), nullable=True),
        Column("rack", String(100), nullable=True),
        Column("part", String(300), nullable=True),
        Column("condition", String(40), nullable=True),
        Column("incident", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
        Column("created_by", String(200), nullable=False),
        Column("reason", Text, nullable=True),
    )
    Table(
        "patrol_outbox", md, _id(),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("incident", BigInteger().with_variant(Integer, "sqlite"), nullable=True, index=True),
        Column("receiver", String(200), nullable=False),
        Column("kind", String(40), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, index=True),
        Column("delivered_at", DateTime(timezone=True), nullable=True, index=True),
        Column("given_up_at", DateTime(timezone=True), nullable=True),
        Column("last_error", Text, nullable=True),
    )
    md.create_all(conn)
