"""The current shape of the core tables (schema bookkeeping, audit log, capacity results), for
queries. Migrations (``migrations/``) create them; this module only describes them, so it must
match the newest migration. Capabilities with tables of their own describe them in their own
store module (``<capability>/store.py``) next to their migration."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

schema_migrations = Table(
    "dcops_schema_migrations",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
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
    # m0006: the hash chain (see store/chain.py) and the intent an outcome entry closes.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=True, unique=True),
    Column("prev_hash", String(64), nullable=True),
    Column("hash", String(64), nullable=True),
    Column("intent_id", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Column("on_behalf_of", String(200), nullable=True),  # $DCOPS_ACTOR; ``actor`` is the OS user
)

# m0006: the last chained entry (one row, id 1), so deleting the newest entries is detected.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("hash", String(64), nullable=False),
)

capacity_results = Table(
    "capacity_results",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("checked_at", DateTime(timezone=True), nullable=False, index=True),
    Column("policy_met", Boolean, nullable=False),
    Column("require", String(100), nullable=False),
    Column("source", String(200), nullable=True),
    Column("result", JSON, nullable=False),
)
