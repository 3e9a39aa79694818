"""The append-only audit log."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

DESCRIPTION = "audit log"


def apply(conn: Connection) -> None:
    md = MetaData()
    Table(
        "audit_log",
        md,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, index=True),
        Column("actor", String(200), nullable=False),
        Column("host", String(255), nullable=True, index=True),
        Column("action", String(100), nullable=False, index=True),
        Column("result", String(40), nullable=False),
        Column("before", JSON, nullable=True),
        Column("after", JSON, nullable=True),
        Column("details", Text, nullable=True),
        Column("run_id", String(64), nullable=True),
    )
    md.create_all(conn)
    # The audit log is append-only in the database itself, not only by convention in our code:
    # an auditor must be able to trust that nobody (including a buggy dcops) rewrote history.
    if conn.dialect.name == "sqlite":
        for op in ("UPDATE", "DELETE"):
            conn.execute(text(
                f"CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            ))
    elif conn.dialect.name == "postgresql":
        conn.execute(text(
            "CREATE FUNCTION dcops_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        ))
        conn.execute(text(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION dcops_audit_append_only()"
        ))
