"""Open the state store, apply pending migrations, hand out connections."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from dcops.errors import StateStoreError
from dcops.secrets import remember
from dcops.store import schema
from dcops.store.migrations import MIGRATIONS

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
    # Python's sqlite3 module commits implicitly before DDL, so a failed migration would leave
    # half its tables behind. Take over transaction control (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL: one writer and many readers at once (patrol writes while the exporter reads).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _first_line(reason: object) -> str:
    """Database errors come with hints on further lines; the CLI prints one line per problem."""
    return str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__


def _sqlite_begin(conn: Connection) -> None:
    # A write transaction takes the write lock up front (IMMEDIATE): a deferred one that reads
    # first and writes later fails at once with "database is locked" when another writer got
    # in between, and busy_timeout cannot help it. Reads stay deferred, so WAL readers never
    # wait for a writer.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("dcops_write") else "BEGIN")


class Store:
    """An opened, migrated state store."""

    def __init__(self, engine: Engine, url: str = "") -> None:
        self.engine = engine
        self.url = redacted_url(url) if url else str(engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed on success, rolled back on error."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(dcops_write=True)
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            raise StateStoreError(f"state store {self.url}: {_first_line(exc.orig)}") from None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads."""
        with self.engine.connect() as conn:
            yield conn

    def applied(self) -> list[dict[str, Any]]:
        """The migrations applied to this store (id, description, applied_at), in order."""
        with self.connect() as conn:
            if not inspect(conn).has_table(schema.schema_migrations.name):
                return []
            rows = conn.execute(select(schema.schema_migrations).order_by(schema.schema_migrations.c.id))
            return [dict(r._mapping) for r in rows]

    def pending(self) -> list[str]:
        """Ids of the migrations this dcops knows and the store has not had yet."""
        done = {row["id"] for row in self.applied()}
        return [m.id for m in MIGRATIONS if m.id not in done]

    def close(self) -> None:
        self.engine.dispose()


def _applied_ids(conn: Connection) -> set[str]:
    return {row[0] for row in conn.execute(select(schema.schema_migrations.c.id))}


def json_text(value: Any) -> str:
    """JSON columns as text, by orjson: a patrol round writes every host's row (its memory and
    compact observation), and ``json.dumps`` was a third of that cost. Keys that are not strings
    become strings as ``json.dumps`` makes them; NaN and infinities (never valid JSON, refused by
    PostgreSQL) are written as null. What orjson cannot write (an integer past 64 bits a BMC sent)
    is written by ``json.dumps`` as before."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        import json

        return json.dumps(value)


def json_value(text_: str | bytes) -> Any:
    """A JSON column's value; rows an older dcops wrote with ``json.dumps`` may hold ``NaN``,
    which orjson refuses: those are read by ``json.loads`` as they always were."""
    try:
        return orjson.loads(text_)
    except orjson.JSONDecodeError:
        import json

        return json.loads(text_)


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
    kwargs: dict[str, Any] = {"future": True, "json_serializer": json_text, "json_deserializer": json_value}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file where the directory should be, a read-only mount
                raise StateStoreError(f"state store {redacted_url(url)}: cannot create its directory: "
                                      f"{exc.strerror or exc}") from None
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
        if parsed.get_backend_name() == "postgresql":
            # SQLAlchemy only says "Can't load plugin ...psycopg": name the missing piece.
            raise StateStoreError(f"state store: {redacted_url(url)}: the PostgreSQL driver (psycopg 3) is not "
                                  "installed; install dcops with its postgres extra: pip install 'dcops[postgres]'"
                                  ) from None
        raise StateStoreError(f"state store: {redacted_url(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    store = Store(engine, url)
    try:
        if migrate:
            migrate_store(store)
        else:
            store.applied()
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = getattr(exc, "orig", None) or exc
        hint = ""
        if "permission denied" in str(reason) or "must be owner" in str(reason):
            # A runtime role (see store/roles.py) cannot apply migrations: that is the owner's job.
            hint = " (pending schema migrations need the store's owner: run `dcops state migrate` as the owner)"
        raise StateStoreError(f"state store {redacted_url(url)}: {_first_line(reason)}{hint}") from None
    return store


def migrate_store(store: Store) -> list[str]:
    """Apply every pending migration, in name order, all in one transaction (a failure leaves
    the store as it was). Returns the ids applied.

    Raises ``StateStoreError`` when the store has migrations this dcops does not know: it was
    written by a newer dcops, and an older one must not write to it.
    """
    applied: list[str] = []
    with store.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        schema.schema_migrations.create(conn, checkfirst=True)
        done = _applied_ids(conn)
        unknown = sorted(done - {m.id for m in MIGRATIONS})
        if unknown:
            raise StateStoreError(
                f"state store has migrations newer than this dcops knows ({', '.join(unknown)}): "
                "upgrade dcops before using this store"
            )
        for migration in MIGRATIONS:
            if migration.id in done:
                continue
            log.info("state store: applying migration %s (%s)", migration.id, migration.description)
            migration.apply(conn)
            conn.execute(schema.schema_migrations.insert().values(
                id=migration.id, description=migration.description, applied_at=dt.datetime.now(dt.UTC)))
            applied.append(migration.id)
        if applied and store.dialect == "postgresql" and inspect(conn).has_table("dcops_runtime_roles"):
            # Tables a migration added get the runtime role's grants in the same transaction.
            from dcops.store.roles import apply_grants

            apply_grants(conn)
    return applied
