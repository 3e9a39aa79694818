"""Asset management: snapshots per host per collection, part events, the serial index, the
latest reconciliation and the warranty reminders sent."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

DESCRIPTION = "asset snapshots, part events, serial index, reconcile results, warranty reminders"


def apply(conn: Connection) -> None:
    md = MetaData()
    big_id = BigInteger().with_variant(Integer, "sqlite")
    Table(
        "asset_snapshots", md,
        Column("id", big_id, primary_key=True, autoincrement=True),
        Column("host", String(255), nullable=False),
        Column("taken_at", DateTime(timezone=True), nullable=False, index=True),
        Column("run_id", String(64), nullable=True, index=True),
        Column("protocol", String(20), nullable=False),
        Column("serial", String(200), nullable=True, index=True),
        Column("summary", JSON, nullable=False),
        Column("parts", JSON, nullable=False),
        Column("firmware", JSON, nullable=False),
        Index("ix_asset_snapshots_host_id", "host", "id"),
    )
    Table(
        "asset_hosts", md,
        Column("host", String(255), primary_key=True),
        Column("last_attempt_at", DateTime(timezone=True), nullable=False),
        Column("last_success_at", DateTime(timezone=True), nullable=True),
        Column("last_error", Text, nullable=True),
        Column("last_snapshot_id", big_id, nullable=True),
    )
    Table(
        "asset_part_events", md,
        Column("id", big_id, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, index=True),
        Column("run_id", String(64), nullable=True),
        Column("host", String(255), nullable=False, index=True),
        Column("event", String(20), nullable=False),
        Column("part_kind", String(40), nullable=False),
        Column("slot", String(300), nullable=False),
        Column("serial", String(200), nullable=True, index=True),
        Column("old_serial", String(200), nullable=True, index=True),
        Column("from_host", String(255), nullable=True, index=True),
        Column("from_slot", String(300), nullable=True),
        Column("model", String(300), nullable=True),
        Column("old_model", String(300), nullable=True),
    )
    Table(
        "asset_parts_seen", md,
        Column("part_kind", String(40), primary_key=True),
        Column("serial", String(200), primary_key=True),
        Column("host", String(255), nullable=False, index=True),
        Column("slot", String(300), nullable=False),
        Column("model", String(300), nullable=True),
        Column("present", Boolean, nullable=False),
        Column("first_seen", DateTime(timezone=True), nullable=False),
        Column("last_seen", DateTime(timezone=True), nullable=False),
    )
    Table(
        "asset_reconcile_results", md,
        Column("id", big_id, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, index=True),
        Column("book", Text, nullable=True),
        Column("counts", JSON, nullable=False),
        Column("summary", JSON, nullable=False),
        Column("items", JSON, nullable=False),
    )
    Table(
        "asset_reminders", md,
        Column("host", String(255), primary_key=True),
        Column("threshold", Integer, primary_key=True),
        Column("warranty_end", Date, primary_key=True),
        Column("sent_at", DateTime(timezone=True), nullable=False),
        Column("channel", String(100), nullable=True),
    )
    md.create_all(conn)
