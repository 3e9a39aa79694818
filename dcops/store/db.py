"""Open the state store, apply pending migrations, hand out connections."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from dcops.errors import StateStoreError
from dcops.secrets import remember
from dcops.store import schema
from dcops.store.migrations import LATEST, MIGRATIONS

log = logging.getLogger(__name__)

# A stable key for PostgreSQL's advisory lock: two dcops processes starting at once must not
# both run the same migration.
_MIGRATION_LOCK_KEY = 0x6463_6F70  # "dcop"


def redacted_url(url: str) -> str:
    """The URL with any password replaced, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable state URL>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL: one writer and many readers at once (patrol writes while the exporter reads).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Store:
    """An opened, migrated state store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed on success, rolled back on error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise StateStoreError(f"state store: {exc.orig}") from None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads."""
        with self.engine.connect() as conn:
            yield conn

    def version(self) -> int:
        with self.connect() as conn:
            return _current_version(conn)

    def applied(self) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute(select(schema.schema_version).order_by(schema.schema_version.c.version))
            return [dict(r._mapping) for r in rows]

    def close(self) -> None:
        self.engine.dispose()


def _current_version(conn: Connection) -> int:
    if not inspect(conn).has_table(schema.schema_version.name):
        return 0
    value = conn.execute(text("SELECT MAX(version) FROM dcops_schema_version")).scalar()
    return int(value or 0)


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url`` (``sqlite:///PATH`` or ``postgresql://...``) and apply pending
    migrations.

    Raises ``StateStoreError`` when the URL is malformed, the database cannot be reached, or its
    schema is newer than this dcops (refusing rather than corrupting a newer store).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StateStoreError(f"state store: not a database URL: {redacted_url(url)}") from None
    if parsed.password:
        remember(str(parsed.password))
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
    elif parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            # psycopg 3 is what we ship; SQLAlchemy's default for bare postgresql:// is psycopg2.
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["pool_pre_ping"] = True
    else:
        raise StateStoreError(f"state store: unsupported database {parsed.get_backend_name()!r} "
                              "(use sqlite:///PATH or postgresql://...)")
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise StateStoreError(f"state store: {redacted_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine)
    try:
        if migrate:
            migrate_store(store)
        else:
            store.version()
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = getattr(exc, "orig", None) or exc
        raise StateStoreError(f"state store {redacted_url(url)}: {reason}") from None
    return store


def migrate_store(store: Store) -> list[int]:
    """Apply every pending migration, each in its own transaction. Returns the versions applied."""
    applied: list[int] = []
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        schema.schema_version.create(conn, checkfirst=True)
        current = _current_version(conn)
        if current > LATEST:
            raise StateStoreError(
                f"state store schema is version {current}, newer than this dcops knows ({LATEST}): "
                "upgrade dcops before using this store"
            )
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            log.info("state store: applying migration %d (%s)", migration.version, migration.description)
            with conn.begin_nested():
                migration.apply(conn)
                conn.execute(schema.schema_version.insert().values(
                    version=migration.version, description=migration.description,
                    applied_at=dt.datetime.now(dt.UTC)))
            applied.append(migration.version)
    return applied
