"""The audit trail nobody can erase (issue 15, item 2), on SQLite and on a real PostgreSQL.

* the chain: every way of erasing, altering or forging an entry that the database lets through is
  detected by ``audit.verify`` (and ``dcops audit verify`` exits 1);
* PostgreSQL: the runtime role made by ``dcops state grant`` cannot TRUNCATE, DELETE, UPDATE, DROP
  or disable triggers; the owner's TRUNCATE is refused by a statement trigger;
* a store written before the chain existed is chained by the migration and verifies;
* concurrent writers keep one unbroken chain.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dcops.cli.main import main
from dcops.errors import StateStoreError
from dcops.store import audit, open_store
from dcops.store.chain import GENESIS, ChainCheck, entry_hash
from dcops.store.db import Store
from dcops.store.schema import audit_log


def _entries(store: Store, n: int = 5) -> None:
    t0 = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    for i in range(n):
        audit.record(store, "power.cycle", host=f"h{i}", before={"power": "On", "w": 1.25, "ü": [i]},
                     after="On", actor="alice", at=t0 + dt.timedelta(minutes=i), details=f"entry {i}")


def _tamper(store: Store, *sql: str) -> None:
    """Run SQL as the database's superuser / file owner would, around dcops."""
    raw = create_engine(store.engine.url)
    try:
        with raw.begin() as conn:
            for statement in sql:
                conn.execute(text(statement))
    finally:
        raw.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def test_intact_chain_verifies_and_intents_without_outcome_are_listed(store: Store) -> None:
    _entries(store)
    done = audit.start(store, "power.on", host="h1")
    audit.finish(store, done, "power.on", host="h1", after="On")
    open_ = audit.start(store, "power.cycle", host="h2", details="then the process died")
    found = audit.verify(store)
    assert found.intact and found.problems == [] and found.entries == 8
    assert found.head is not None and found.head[0] == 8
    assert [e.id for e in found.unfinished] == [open_]
    entries = audit.query(store, limit=3)
    assert entries[1].intent_id == done and entries[0].seq == 8


TAMPERING = {
    "delete a middle entry": ["DELETE FROM audit_log WHERE seq = 3"],
    "delete the newest entries": ["DELETE FROM audit_log WHERE seq >= 4"],
    "delete everything": ["DELETE FROM audit_log"],
    "alter an entry's result": ["UPDATE audit_log SET result = 'failed' WHERE seq = 2"],
    "alter a JSON value": ["UPDATE audit_log SET before = '{\"power\": \"Off\"}' WHERE seq = 4"],
    "insert a forged entry outside the chain": [
        "INSERT INTO audit_log (at, actor, host, action, result) VALUES ('2026-11-01 09:00:00', 'x', 'h', 'a', 'ok')"],
    "insert a forged entry with a made-up seq": [
        "INSERT INTO audit_log (at, actor, host, action, result, seq, prev_hash, hash) "
        "VALUES ('2026-11-01 09:00:00', 'x', 'h', 'a', 'ok', 6, 'aa', 'bb')"],
    "delete the head": ["DELETE FROM audit_head"],
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampering_is_detected(store: Store, case: str) -> None:
    _entries(store)
    assert audit.verify(store).intact
    lift = (["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_head_no_delete"]
            if store.dialect == "sqlite" else
            ["ALTER TABLE audit_log DISABLE TRIGGER USER", "ALTER TABLE audit_head DISABLE TRIGGER USER"])
    _tamper(store, *lift, *TAMPERING[case])
    found = audit.verify(store)
    assert not found.intact, case
    assert found.warnings, "a lifted guard is reported too"


def test_tampering_then_more_entries_still_detected(store: Store) -> None:
    """Deleting the newest entries and letting dcops carry on does not hide the hole: the next
    entry continues from the head, which still remembers them."""
    _entries(store)
    lift = ("DROP TRIGGER audit_log_no_delete" if store.dialect == "sqlite"
            else "ALTER TABLE audit_log DISABLE TRIGGER USER")
    _tamper(store, lift, "DELETE FROM audit_log WHERE seq >= 4")
    audit.record(store, "power.on", host="h9")
    problems = audit.verify(store).problems
    assert problems == ["entries 4..5 are missing (deleted)"]


def test_a_rewritten_chain_is_caught_by_an_anchor(store: Store) -> None:
    """Someone who recomputes every hash after an edit makes a self-consistent chain: only a head
    noted elsewhere earlier (``--anchor``) catches that."""
    _entries(store)
    head = audit.verify(store).head
    assert head is not None
    lift = ("DROP TRIGGER audit_log_no_update" if store.dialect == "sqlite"
            else "ALTER TABLE audit_log DISABLE TRIGGER USER")
    prev = GENESIS
    statements = [lift]
    with store.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings().all()
    for row in rows:
        content = dict(row)
        if row["seq"] == 2:
            content["result"] = "ok (rewritten)"
        digest = entry_hash(content, row["seq"], prev)
        statements.append(f"UPDATE audit_log SET result = '{content['result']}', prev_hash = '{prev}', "
                          f"hash = '{digest}' WHERE seq = {row['seq']}")
        prev = digest
    _tamper(store, *statements)
    # The head trigger only lets the head move forward: rewrite it as the owner would.
    _tamper(store, "DROP TRIGGER audit_head_forward" if store.dialect == "sqlite"
            else "ALTER TABLE audit_head DISABLE TRIGGER USER",
            f"UPDATE audit_head SET hash = '{prev}'")
    assert audit.verify(store).problems == []  # self-consistent
    found = audit.verify(store, anchors={head[0]: head[1]})
    assert len(found.problems) == 1 and "the log was rewritten" in found.problems[0]


def test_the_head_only_moves_forward(store: Store) -> None:
    _entries(store)
    with pytest.raises((SQLAlchemyError, StateStoreError), match="only follows the chain"), store.begin() as conn:
        conn.execute(text("UPDATE audit_head SET seq = 2"))


def test_record_refuses_without_a_head(store: Store) -> None:
    _entries(store, 1)
    _tamper(store, "DROP TRIGGER audit_head_no_delete" if store.dialect == "sqlite"
            else "ALTER TABLE audit_head DISABLE TRIGGER USER", "DELETE FROM audit_head")
    with pytest.raises(StateStoreError, match="head is missing"):
        audit.record(store, "power.on", host="h1")


def test_concurrent_writers_keep_one_chain(store: Store) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(15):
                audit.record(store, "power.on", host=f"w{worker}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    found = audit.verify(store)
    assert found.intact and found.entries == 60 and found.head is not None and found.head[0] == 60


def test_a_store_from_before_the_chain_is_chained_by_the_migration(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import dcops.store.db as db
    from dcops.store.migrations import MIGRATIONS

    before = tuple(m for m in MIGRATIONS if m.id < "m0006")
    monkeypatch.setattr(db, "MIGRATIONS", before)
    old = open_store(store_url)
    with old.begin() as conn:
        for i in range(4):
            conn.execute(text("INSERT INTO audit_log (at, actor, host, action, result, before, details) "
                              "VALUES (:at, 'bob', :h, 'power.off', 'ok', :b, 'legacy')"),
                         {"at": dt.datetime(2026, 1, 1, 1, i, tzinfo=dt.UTC), "h": f"h{i}",
                          "b": json.dumps({"power": "On", "n": i})})
    old.close()
    monkeypatch.setattr(db, "MIGRATIONS", MIGRATIONS)
    new = open_store(store_url)
    try:
        found = audit.verify(new)
        assert found.intact and found.entries == 4 and found.head is not None and found.head[0] == 4
        audit.record(new, "power.on", host="h9")
        assert audit.verify(new).intact
    finally:
        new.close()


@pytest.mark.parametrize("rows, head, wrong", [
    ([], (0, GENESIS), []),
    ([], None, ["the audit head is missing (deleted)"]),
])
def test_chain_check_edges(rows: list[dict[str, object]], head: tuple[int, str] | None, wrong: list[str]) -> None:
    check = ChainCheck()
    for row in rows:
        check.feed(row)
    assert check.problems(head) == wrong


def test_cli_verify_exit_codes_and_anchor(store_url: str, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", store_url)
    store = open_store(store_url)
    _entries(store)
    assert main(["audit", "verify", "-o", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    head = out["summary"]["head"]
    assert out["summary"]["intact"] is True and head.startswith("5:")
    assert main(["audit", "verify", "--anchor", head]) == 0
    capsys.readouterr()
    assert main(["audit", "verify", "--anchor", "5:nothex"]) == 2
    capsys.readouterr()
    _tamper(store, "DROP TRIGGER audit_log_no_delete" if store.dialect == "sqlite"
            else "ALTER TABLE audit_log DISABLE TRIGGER USER", "DELETE FROM audit_log WHERE seq = 2")
    store.close()
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "audit log tampered: entry 2 is missing (deleted)" in err


# --------------------------------------------------------------------------- PostgreSQL roles


def _runtime_role(postgres_url: str) -> tuple[str, str]:
    """A fresh ordinary login role and the URL that connects as it."""
    role, password = f"rt_{uuid.uuid4().hex[:10]}", "rt-Pass-31d9"
    owner = create_engine(make_url(postgres_url).set(drivername="postgresql+psycopg"))
    with owner.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
    owner.dispose()
    url = make_url(postgres_url).set(username=role, password=password)
    return role, url.render_as_string(hide_password=False)


@pytest.mark.postgres
def test_runtime_role_cannot_erase_the_audit(postgres_url: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    role, runtime_url = _runtime_role(postgres_url)
    monkeypatch.setenv("DCOPS_STATE", postgres_url)
    assert main(["state", "migrate"]) == 0
    assert main(["state", "grant", role]) == 0
    capsys.readouterr()
    store = open_store(runtime_url)
    try:
        _entries(store)
        for attack in ("TRUNCATE audit_log", "TRUNCATE audit_head", "DELETE FROM audit_log",
                       "UPDATE audit_log SET result = 'ok'", "ALTER TABLE audit_log DISABLE TRIGGER USER",
                       "ALTER TABLE audit_log DISABLE TRIGGER ALL", "DROP TRIGGER audit_log_append_only ON audit_log",
                       "DROP TABLE audit_log CASCADE", "DELETE FROM audit_head", "INSERT INTO audit_head VALUES (2, 0, 'x')",
                       "DELETE FROM dcops_schema_migrations", "INSERT INTO dcops_runtime_roles VALUES ('x')"):
            with pytest.raises(SQLAlchemyError), store.begin() as conn:
                conn.execute(text(attack))
        found = audit.verify(store)
        assert found.intact and found.entries == 5 and found.warnings == []
    finally:
        store.close()
    # The runtime role runs ordinary commands.
    monkeypatch.setenv("DCOPS_STATE", runtime_url)
    assert main(["audit", "verify"]) == 0
    capsys.readouterr()
    assert main(["audit", "list", "-o", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["items"]) == 5


@pytest.mark.postgres
def test_owner_truncate_is_refused_and_owner_use_is_warned(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        _entries(store, 2)
        with pytest.raises(SQLAlchemyError, match="append-only"), store.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
        found = audit.verify(store)
        assert found.intact and any("superuser" in w for w in found.warnings)
    finally:
        store.close()


@pytest.mark.postgres
def test_grant_refuses_sqlite_missing_and_superuser_roles(postgres_url: str, tmp_path) -> None:
    from dcops.store.roles import grant_runtime

    store = open_store(postgres_url)
    try:
        with pytest.raises(StateStoreError, match="does not exist"):
            grant_runtime(store, "nobody_here")
        with pytest.raises(StateStoreError, match="superuser"):
            grant_runtime(store, "dcops")
    finally:
        store.close()
    lite = open_store(f"sqlite:///{tmp_path}/s.db")
    try:
        with pytest.raises(StateStoreError, match="only PostgreSQL has roles"):
            grant_runtime(lite, "x")
    finally:
        lite.close()


@pytest.mark.postgres
def test_later_migrations_are_granted_and_runtime_cannot_migrate(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store granted before a migration: the migration (run by the owner) re-grants its new
    tables; the runtime role opening a store with pending migrations gets a clear error."""
    import dcops.store.db as db
    from dcops.store.migrations import MIGRATIONS, Migration
    from dcops.store.roles import grant_runtime

    role, runtime_url = _runtime_role(postgres_url)
    owner = open_store(postgres_url)
    grant_runtime(owner, role)
    owner.close()

    def add_table(conn: object) -> None:
        conn.execute(text("CREATE TABLE later_things (id serial PRIMARY KEY, v text)"))  # type: ignore[attr-defined]

    later = (*MIGRATIONS, Migration("m9000_later", "later", add_table))
    monkeypatch.setattr(db, "MIGRATIONS", later)
    with pytest.raises(StateStoreError, match="run `dcops state migrate` as the owner"):
        open_store(runtime_url)
    open_store(postgres_url).close()  # the owner migrates
    runtime = open_store(runtime_url)
    try:
        with runtime.begin() as conn:
            conn.execute(text("INSERT INTO later_things (v) VALUES ('x')"))
    finally:
        runtime.close()
