"""PostgreSQL roles: the owner migrates, a separate runtime role runs dcops.

PostgreSQL lets only a table's owner (or a superuser) ``DROP`` it, ``ALTER TABLE ... DISABLE
TRIGGER`` or change its grants; ``TRUNCATE`` needs its own privilege. So the audit log is
out of the runtime role's reach exactly when dcops does not run as the owner: the owner runs
``dcops state migrate`` and ``dcops state grant ROLE``, and every other command connects as ROLE,
which gets read/write on the working tables and only SELECT and INSERT on the audit log.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from dcops.errors import StateStoreError
from dcops.store.db import Store

# Tables the runtime role may read and append to, never change.
APPEND_ONLY = ("audit_log",)
# The chain's head: the runtime role moves it forward (a trigger allows nothing else).
HEAD = ("audit_head",)
# Bookkeeping only the owner writes.
OWNER_ONLY = ("dcops_schema_migrations", "dcops_runtime_roles")


def grant_runtime(store: Store, role: str) -> None:
    """Give ``role`` the rights dcops needs at run time and no more, and remember it so later
    migrations extend the grant to the tables they add.

    Raises ``StateStoreError`` on SQLite (no roles), for a role that does not exist, and for a
    role that owns the tables or is a superuser (it would keep every right this takes away).
    """
    if store.dialect != "postgresql":
        raise StateStoreError("state grant: only PostgreSQL has roles; on SQLite the audit chain "
                              "(`dcops audit verify`) detects tampering, and file permissions protect the file")
    with store.begin() as conn:
        row = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if row is None:
            raise StateStoreError(f"state grant: role {role!r} does not exist; create it first "
                                  f"(CREATE ROLE {role} LOGIN PASSWORD '...')")
        owner = conn.execute(text("SELECT pg_get_userbyid(relowner) FROM pg_class "
                                  "WHERE oid = 'audit_log'::regclass")).scalar()
        if row[0] or owner == role:
            raise StateStoreError(f"state grant: role {role!r} is {'a superuser' if row[0] else 'the owner'}; "
                                  "the runtime role must be a separate, ordinary role")
        conn.execute(text("INSERT INTO dcops_runtime_roles (role) VALUES (:r) ON CONFLICT DO NOTHING"), {"r": role})
        apply_grants(conn)


def apply_grants(conn: Connection) -> list[str]:
    """(Re)apply the runtime grants to every remembered role; returns the roles. Run inside the
    migration transaction after each migration, as the owner."""
    roles = [r[0] for r in conn.execute(text("SELECT role FROM dcops_runtime_roles ORDER BY role"))]
    quote = conn.dialect.identifier_preparer.quote
    schema = quote(str(conn.execute(text("SELECT current_schema()")).scalar()))
    for role in roles:
        who = quote(role)
        conn.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {who}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}"))
        conn.execute(text(f"REVOKE TRUNCATE ON ALL TABLES IN SCHEMA {schema} FROM {who}"))
        for table in APPEND_ONLY:
            conn.execute(text(f"REVOKE UPDATE, DELETE ON {quote(table)} FROM {who}"))
        for table in HEAD:
            conn.execute(text(f"REVOKE INSERT, DELETE ON {quote(table)} FROM {who}"))
        for table in OWNER_ONLY:
            conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON {quote(table)} FROM {who}"))
    return roles
