"""Baseline compliance results and the provisioning workflow: runs, per-host workflows, step
attempts with their write-ahead journal."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

DESCRIPTION = "baseline results and provisioning workflows"


def apply(conn: Connection) -> None:
    md = MetaData()
    Table(
        "baseline_results",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("host", String(255), nullable=False, index=True),
        Column("kind", String(20), nullable=False),
        Column("baseline", String(100), nullable=False),
        Column("compliant", Boolean, nullable=False),
        Column("differences", Integer, nullable=False),
        Column("checked_at", DateTime(timezone=True), nullable=False, index=True),
        Column("details", JSON, nullable=True),
    )
    Table(
        "provision_runs",
        md,
        Column("id", String(64), primary_key=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("command", String(40), nullable=False),
        Column("args", JSON, nullable=True),
        Column("owner", String(200), nullable=True),  # hostname:pid of the process running it
        Column("heartbeat_at", DateTime(timezone=True), nullable=True),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Column("status", String(20), nullable=False),
    )
    Table(
        "provision_hosts",
        md,
        Column("host", String(255), primary_key=True),
        Column("workflow_id", String(64), nullable=False),
        Column("profile", String(100), nullable=True),
        Column("rack", String(100), nullable=True),
        Column("status", String(20), nullable=False),  # pending running failed aborted delivered
        Column("step", String(40), nullable=True),  # the current (or failed) step
        Column("run_id", String(64), nullable=True),
        Column("owner", String(200), nullable=True),
        Column("error", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("delivered_at", DateTime(timezone=True), nullable=True),
        Column("data", JSON, nullable=True),
    )
    Table(
        "provision_steps",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("workflow_id", String(64), nullable=False, index=True),
        Column("host", String(255), nullable=False, index=True),
        Column("step", String(40), nullable=False),
        Column("attempt", Integer, nullable=False),
        Column("attempt_id", String(64), nullable=False, unique=True),
        Column("status", String(20), nullable=False),  # started done failed skipped
        Column("run_id", String(64), nullable=True),
        Column("started_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Column("before", JSON, nullable=True),
        Column("after", JSON, nullable=True),
        Column("journal", JSON, nullable=True),
        Column("error", Text, nullable=True),
        Column("reason", Text, nullable=True),
        UniqueConstraint("workflow_id", "step", "attempt", name="uq_provision_step_attempt"),
    )
    md.create_all(conn)
