"""Hash-chain the audit log, link outcomes to intents, and close the ways around append-only.

Before this migration the audit log was append-only by row triggers alone: on PostgreSQL
``TRUNCATE`` skipped them (row triggers do not fire on TRUNCATE) and the table's owner, which was
also the role dcops ran as, could ``ALTER TABLE ... DISABLE TRIGGER``; on SQLite ``DROP TRIGGER``
and then ``DELETE`` worked. This migration:

* adds ``seq``, ``prev_hash`` and ``hash``: entry N carries the SHA-256 of its content and of
  entry N-1's hash, so a deleted, altered or forged entry breaks the chain (``dcops audit verify``);
  existing entries are chained here, in id order;
* adds ``intent_id``: an outcome entry names the "started" entry written before the action, so a
  crash between the two leaves "started, outcome unknown" rather than nothing;
* adds ``audit_head`` (one row: the last seq and hash), so deleting the newest entries is detected
  too, and nothing may update or delete it except the chained insert;
* on PostgreSQL, a ``BEFORE TRUNCATE`` statement trigger (raises for the owner too), and revokes
  UPDATE/DELETE/TRUNCATE from PUBLIC. The runtime role is a separate, non-owner role granted only
  SELECT and INSERT on the log (``dcops state grant``): it cannot TRUNCATE, DROP or disable triggers,
  which PostgreSQL reserves for the owner.
"""

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
    select,
    text,
)

from dcops.store.chain import GENESIS, entry_hash

DESCRIPTION = "audit log hash chain, intents, head, truncate guard"


def apply(conn: Connection) -> None:
    dialect = conn.dialect.name
    big = BigInteger().with_variant(Integer, "sqlite")
    for column, kind in (("seq", "BIGINT"), ("prev_hash", "VARCHAR(64)"), ("hash", "VARCHAR(64)"),
                         ("intent_id", "BIGINT")):
        conn.execute(text(f"ALTER TABLE audit_log ADD COLUMN {column} {kind}"))
    md = MetaData()
    Table("audit_head", md,
          Column("id", Integer, primary_key=True, autoincrement=False),
          Column("seq", big, nullable=False),
          Column("hash", String(64), nullable=False))
    # The roles `dcops state grant` gave runtime rights, so each later migration re-grants them on
    # the tables it adds (PostgreSQL; the table exists on SQLite too, and stays empty there).
    Table("dcops_runtime_roles", md, Column("role", String(63), primary_key=True))
    md.create_all(conn)

    # Chain what is there. The append-only triggers forbid the UPDATE, so lift them for the
    # duration of this transaction (the migration runs as the owner, in one transaction).
    if dialect == "sqlite":
        for op in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS audit_log_no_{op}"))
    else:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    # Read through typed columns so JSON and timestamps come back as record() wrote them.
    log = Table("audit_log", MetaData(),
                Column("id", big, primary_key=True), Column("at", DateTime(timezone=True)),
                Column("actor", String), Column("host", String), Column("action", String),
                Column("result", String), Column("before", JSON), Column("after", JSON),
                Column("details", Text), Column("run_id", String))
    prev, seq = GENESIS, 0
    for row in conn.execute(select(log).order_by(log.c.id)).mappings().all():
        seq += 1
        digest = entry_hash(dict(row, intent_id=None), seq, prev)
        conn.execute(text("UPDATE audit_log SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"),
                     {"s": seq, "p": prev, "h": digest, "i": row["id"]})
        prev = digest
    conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :s, :h)"), {"s": seq, "h": prev})
    conn.execute(text("CREATE UNIQUE INDEX ix_audit_log_seq ON audit_log (seq)"))

    if dialect == "sqlite":
        for op in ("UPDATE", "DELETE"):
            conn.execute(text(
                f"CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            ))
        conn.execute(text(
            "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
            "BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END"
        ))
        # The head only moves forward, one entry at a time, to an entry that exists.
        conn.execute(text(
            "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head "
            "WHEN NEW.seq != OLD.seq + 1 OR NOT EXISTS "
            "(SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash) "
            "BEGIN SELECT RAISE(ABORT, 'audit_head only follows the chain'); END"
        ))
    else:
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        conn.execute(text(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION dcops_audit_append_only()"
        ))
        conn.execute(text(
            "CREATE FUNCTION dcops_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP <> 'UPDATE' OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS "
            "(SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash) THEN "
            "RAISE EXCEPTION 'audit_head only follows the chain'; END IF; RETURN NEW; END $$"
        ))
        conn.execute(text(
            "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION dcops_audit_head_forward()"
        ))
        conn.execute(text(
            "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION dcops_audit_append_only()"
        ))
        conn.execute(text("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_head FROM PUBLIC"))
