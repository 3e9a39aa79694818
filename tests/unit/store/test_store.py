"""The state store on SQLite and on a real PostgreSQL: migrations, audit log, append-only, WAL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dcops import secrets
from dcops.errors import ExitCode, StateStoreError
from dcops.store import audit, open_store, redacted_url
from dcops.store.migrations import MIGRATIONS


def test_open_creates_and_migrates_once(store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert store.pending() == []
        assert [row["id"] for row in store.applied()] == [m.id for m in MIGRATIONS]
        assert [m.id for m in MIGRATIONS][:2] == ["m0001_audit_log", "m0002_capacity_results"]
    finally:
        store.close()
    again = open_store(store_url)
    try:
        assert [row["id"] for row in again.applied()] == [m.id for m in MIGRATIONS]
    finally:
        again.close()


def test_refuses_a_store_newer_than_the_code(store_url: str) -> None:
    store = open_store(store_url)
    with store.begin() as conn:
        conn.execute(text("INSERT INTO dcops_schema_migrations (id, description, applied_at) "
                          "VALUES ('m9999_future', 'from the future', :at)"), {"at": dt.datetime.now(dt.UTC)})
    store.close()
    with pytest.raises(StateStoreError, match="m9999_future"):
        open_store(store_url)


def test_audit_record_and_query(store_url: str) -> None:
    store = open_store(store_url)
    try:
        t0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
        audit.record(store, "power.off", host="db-01", before={"power": "On"}, after={"power": "Off"},
                     actor="alice", at=t0)
        audit.record(store, "power.on", host="db-02", actor="bob", at=t0 + dt.timedelta(hours=1))
        audit.record(store, "bios.apply", host="db-01", result="failed", details="BootMode refused",
                     actor="ci", at=t0 + dt.timedelta(hours=2))
        newest_first = audit.query(store)
        assert [e.action for e in newest_first] == ["bios.apply", "power.on", "power.off"]
        assert [e.action for e in audit.query(store, host="db-01")] == ["bios.apply", "power.off"]
        assert [e.host for e in audit.query(store, action="power")] == ["db-02", "db-01"]
        since = audit.query(store, since=t0 + dt.timedelta(minutes=30))
        assert [e.action for e in since] == ["bios.apply", "power.on"]
        first = audit.query(store, action="power.off")[0]
        assert (first.actor, first.before, first.after, first.at) == ("alice", {"power": "On"}, {"power": "Off"}, t0)
        assert len(audit.query(store, limit=1)) == 1
    finally:
        store.close()


def test_audit_log_is_append_only(store_url: str) -> None:
    store = open_store(store_url)
    try:
        audit.record(store, "power.off", host="db-01")
        for statement in ("UPDATE audit_log SET result = 'ok'", "DELETE FROM audit_log"):
            with pytest.raises((StateStoreError, SQLAlchemyError), match="append-only"), store.begin() as conn:
                conn.execute(text(statement))
        assert len(audit.query(store)) == 1
    finally:
        store.close()


def test_audit_never_stores_a_known_password(store_url: str) -> None:
    secret = secrets.Secret("Sup3r-Secret-BMC")
    store = open_store(store_url)
    try:
        audit.record(store, "bmc.login", host="db-01", before={"password": secret.reveal()},
                     after={"note": f"used {secret.reveal()} twice"}, details=f"login with {secret.reveal()}")
        entry = audit.query(store)[0]
        blob = repr(entry)
        assert "Sup3r-Secret-BMC" not in blob
        assert secrets.MASK in blob
    finally:
        store.close()


def test_sqlite_runs_in_wal_mode_with_a_reader_beside_a_writer(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/wal.db"
    store = open_store(url)
    try:
        with store.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for i in range(50):
                    audit.record(store, "test.write", host=f"h{i}")
            except BaseException as exc:  # noqa: BLE001 - surfaced below
                errors.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        reads = 0
        while writer.is_alive() or reads == 0:
            audit.query(store, limit=5)
            reads += 1
        writer.join(timeout=30)
        assert not errors
        assert len(audit.query(store, limit=1000)) == 50
    finally:
        store.close()


@pytest.mark.parametrize("url, match", [
    ("not a url", "not a database URL"),
    ("mysql://u:p@127.0.0.1/db", "unsupported database"),
])
def test_bad_urls_are_invalid_input(url: str, match: str) -> None:
    with pytest.raises(StateStoreError, match=match) as info:
        open_store(url)
    assert info.value.exit_code == ExitCode.INVALID_INPUT


@pytest.mark.postgres
def test_unreachable_postgres_fails_cleanly_without_the_password(postgres_server) -> None:
    url = f"postgresql://dcops:Hidden-Pass-123@127.0.0.1:{postgres_server.port + 1 if postgres_server.port < 65535 else 1}/x"
    with pytest.raises(StateStoreError) as info:
        open_store(url)
    assert "Hidden-Pass-123" not in str(info.value)
    assert "***" in str(info.value)


@pytest.mark.postgres
def test_wrong_postgres_password_fails_without_echoing_it(postgres_server) -> None:
    with pytest.raises(StateStoreError) as info:
        open_store(postgres_server.url(password="Wrong-Pass-456"))
    assert "Wrong-Pass-456" not in str(info.value)


@pytest.mark.postgres
def test_concurrent_first_opens_migrate_once(postgres_url: str) -> None:
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_store(postgres_url).close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    store = open_store(postgres_url)
    try:
        assert [row["id"] for row in store.applied()] == [m.id for m in MIGRATIONS]
    finally:
        store.close()


def test_redacted_url_hides_the_password() -> None:
    assert redacted_url("postgresql://u:pw123@db:5432/x") == "postgresql://u:***@db:5432/x"


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dcops.store import db
    from dcops.store.migrations import Migration

    def broken(conn) -> None:
        conn.execute(text("CREATE TABLE half_done (x INTEGER)"))
        raise RuntimeError("disk full")

    monkeypatch.setattr(db, "MIGRATIONS", (*MIGRATIONS, Migration("m9000_broken", "broken", broken)))
    url = f"sqlite:///{tmp_path}/s.db"
    with pytest.raises(RuntimeError):
        open_store(url)
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    store = open_store(url)
    try:
        with store.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'")).scalar() == 0
        assert [row["id"] for row in store.applied()] == [m.id for m in MIGRATIONS]
    finally:
        store.close()


def test_sqlite_read_then_write_transactions_from_many_threads_do_not_fail_locked(tmp_path) -> None:
    """Each writer reads, then writes, in one transaction (as the provisioning state machine
    does). Deferred transactions would fail at once with "database is locked"; IMMEDIATE ones
    queue for the lock."""
    store = open_store(f"sqlite:///{tmp_path}/locks.db")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(20):
                with store.begin() as conn:
                    conn.execute(text("SELECT count(*) FROM audit_log")).scalar()
                    conn.execute(text(
                        "INSERT INTO audit_log (at, actor, host, action, result) "
                        "VALUES (:at, 't', :h, 'test.lock', 'ok')"), {"at": dt.datetime.now(dt.UTC), "h": f"h{n}-{i}"})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not errors, errors[0]
        assert len(audit.query(store, limit=1000)) == 120
    finally:
        store.close()


def test_audit_actor_is_the_os_user_and_dcops_actor_is_on_behalf_of(store_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    monkeypatch.setenv("DCOPS_ACTOR", "ci-requester-carol")
    store = open_store(store_url)
    try:
        audit.record(store, "baseline.apply", host="db-01")
        entry = audit.query(store)[0]
        # A variable anyone can set never replaces who ran the command; it is kept beside it.
        assert entry.actor == getpass.getuser() and entry.actor != "ci-requester-carol"
        assert entry.on_behalf_of == "ci-requester-carol"
        monkeypatch.delenv("DCOPS_ACTOR")
        audit.record(store, "baseline.apply", host="db-02")
        assert audit.query(store)[0].on_behalf_of is None
    finally:
        store.close()
