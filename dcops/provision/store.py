"""Provisioning workflows in the state store: runs, per-host workflows, step attempts and their
write-ahead journal (created by migration m0005_provision).

Every write is one short transaction, so a process killed at any instant leaves the store
consistent: a step attempt is ``started`` before its side effects and ``done`` after; journal
entries are written before and after each BMC write inside a step.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

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
    func,
    select,
    update,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dcops.config import actor as current_actor
from dcops.errors import StateStoreError
from dcops.processes import pid_alive
from dcops.provision.workflow import HostStatus, Step, StepRecord, StepStatus, Workflow
from dcops.report import jsonable
from dcops.store.db import Store

metadata = MetaData()

provision_runs = Table(
    "provision_runs", metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("command", String(40), nullable=False),
    Column("args", JSON, nullable=True),
    Column("owner", String(200), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(20), nullable=False),
)

provision_hosts = Table(
    "provision_hosts", metadata,
    Column("host", String(255), primary_key=True),
    Column("workflow_id", String(64), nullable=False),
    Column("profile", String(100), nullable=True),
    Column("rack", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("step", String(40), nullable=True),
    Column("run_id", String(64), nullable=True),
    Column("owner", String(200), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("data", JSON, nullable=True),
)

provision_steps = Table(
    "provision_steps", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("workflow_id", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("step", String(40), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("attempt_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("run_id", String(64), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("journal", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("reason", Text, nullable=True),
)


T = TypeVar("T")


def _write(store: Store, body: Callable[[Connection], T]) -> T:
    """Run ``body`` in a write transaction, again when SQLite says the database is locked.

    Why: the store opens SQLite transactions with a deferred BEGIN; a transaction that reads and
    then writes while another connection writes gets SQLITE_BUSY at once (busy_timeout does not
    apply to that lock upgrade). Dozens of provisioning threads hit it; a short retry fixes it.
    """
    delay = 0.02
    for attempt in range(60):
        try:
            with store.begin() as conn:
                return body(conn)
        except (StateStoreError, PoolTimeout) as exc:
            if ("locked" not in str(exc) and not isinstance(exc, PoolTimeout)) or attempt == 59:
                raise
            time.sleep(delay + random.random() * delay)
            delay = min(delay * 1.5, 0.5)
    raise AssertionError("unreachable")


def record_audit(store: Store, action: str, **kwargs: Any) -> int:
    """``audit.record`` with the same retry as every other write here; returns the entry's id."""
    from dcops.store import audit

    for attempt in range(30):
        try:
            return audit.record(store, action, **kwargs)
        except (StateStoreError, PoolTimeout) as exc:
            if ("locked" not in str(exc) and not isinstance(exc, PoolTimeout)) or attempt == 29:
                raise
            time.sleep(0.05 + random.random() * 0.1)
    raise AssertionError("unreachable")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def _json(value: Any) -> Any:
    from dcops.store.audit import _scrub

    return _scrub(jsonable(value)) if value is not None else None


def process_owner(run_id: str) -> str:
    """Who holds a host: ``hostname:pid:run``."""
    return f"{socket.gethostname()}:{os.getpid()}:{run_id}"


def owner_alive(owner: str | None, heartbeat: dt.datetime | None, *, stale_after: float = 120.0) -> bool:
    """Whether the process named by ``owner`` may still be working: on this machine, its pid exists;
    elsewhere, its run's heartbeat is recent."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return True
        if not pid_alive(pid):
            return False
        # The pid exists, but pids are reused: trust it only with a fresh heartbeat.
    beat = _aware(heartbeat)
    return beat is not None and (now() - beat).total_seconds() < stale_after


# ------------------------------------------------------------------------------------ runs

def create_run(store: Store, command: str, args: Mapping[str, Any]) -> str:
    run_id = uuid.uuid4().hex[:16]
    from dcops.config import on_behalf_of

    values = dict(id=run_id, created_at=now(), actor=current_actor(), command=command,
                  args=_json({**dict(args), "on_behalf_of": on_behalf_of()}),
                  owner=process_owner(run_id), heartbeat_at=now(), status="running")
    _write(store, lambda conn: conn.execute(provision_runs.insert().values(**values)))
    return run_id


def heartbeat(store: Store, run_id: str) -> None:
    _write(store, lambda conn: conn.execute(update(provision_runs).where(provision_runs.c.id == run_id)
                                            .values(heartbeat_at=now())))


def finish_run(store: Store, run_id: str, status: str) -> None:
    _write(store, lambda conn: conn.execute(update(provision_runs).where(provision_runs.c.id == run_id)
                                            .values(finished_at=now(), status=status, heartbeat_at=now())))


def run_heartbeats(store: Store) -> dict[str, dt.datetime | None]:
    with store.connect() as conn:
        rows = conn.execute(select(provision_runs.c.id, provision_runs.c.heartbeat_at,
                                   provision_runs.c.finished_at)).all()
    return {r.id: (None if r.finished_at is not None else _aware(r.heartbeat_at)) for r in rows}


# ------------------------------------------------------------------------------------ workflows

def _workflow(row: Any, steps: Iterable[Any]) -> Workflow:
    latest: dict[Step, StepRecord] = {}
    for s in sorted(steps, key=lambda r: r.attempt):
        try:
            step = Step(s.step)
        except ValueError:
            continue
        latest[step] = StepRecord(step, s.attempt, s.attempt_id, StepStatus(s.status), s.error, s.reason)
    return Workflow(row.host, row.workflow_id, HostStatus(row.status), latest, row.profile,
                    Step(row.step) if row.step else None, row.error)


def load_workflows(store: Store, hosts: Iterable[str] | None = None) -> dict[str, Workflow]:
    """The stored workflow of each host (all hosts when ``hosts`` is None)."""
    names = None if hosts is None else list(hosts)
    with store.connect() as conn:
        stmt = select(provision_hosts)
        if names is not None:
            stmt = stmt.where(provision_hosts.c.host.in_(names))
        rows = conn.execute(stmt).all()
        ids = [r.workflow_id for r in rows]
        steps: dict[str, list[Any]] = {}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            for s in conn.execute(select(provision_steps).where(provision_steps.c.workflow_id.in_(part))):
                steps.setdefault(s.workflow_id, []).append(s)
    return {r.host: _workflow(r, steps.get(r.workflow_id, [])) for r in rows}


def host_rows(store: Store, hosts: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    with store.connect() as conn:
        stmt = select(provision_hosts)
        if hosts is not None:
            stmt = stmt.where(provision_hosts.c.host.in_(list(hosts)))
        return {r.host: dict(r._mapping) for r in conn.execute(stmt)}


def start_workflow(store: Store, host: str, profile: str | None, rack: str | None, run_id: str) -> Workflow:
    """A new workflow for ``host`` (replacing an aborted or, with --force, a delivered one)."""
    wid = uuid.uuid4().hex[:16]
    stamp = now()
    values: dict[str, Any] = dict(workflow_id=wid, profile=profile, rack=rack, status=HostStatus.PENDING.value, step=None,
                  run_id=run_id, owner=None, error=None, updated_at=stamp, delivered_at=None, data={})

    def body(conn: Connection) -> None:
        found = conn.execute(select(provision_hosts.c.host).where(provision_hosts.c.host == host)).first()
        if found:
            conn.execute(update(provision_hosts).where(provision_hosts.c.host == host).values(**values))
        else:
            conn.execute(provision_hosts.insert().values(host=host, created_at=stamp, **values))

    _write(store, body)
    return Workflow(host, wid, HostStatus.PENDING, {}, profile)


def claim(store: Store, host: str, run_id: str, expected_owner: str | None) -> bool:
    """Take ``host`` for this process when its owner is still ``expected_owner`` (compare and set)."""
    owner = process_owner(run_id)
    cond = provision_hosts.c.owner.is_(None) if expected_owner is None else provision_hosts.c.owner == expected_owner

    def body(conn: Connection) -> bool:
        result = conn.execute(update(provision_hosts).where(provision_hosts.c.host == host).where(cond)
                              .values(owner=owner, run_id=run_id, status=HostStatus.RUNNING.value, updated_at=now()))
        return bool(result.rowcount)

    return _write(store, body)


def set_host(store: Store, host: str, *, status: HostStatus | None = None, step: Step | None = None,
             error: str | None = None, release: bool = False, clear_error: bool = False,
             data: Mapping[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"updated_at": now()}
    if status is not None:
        values["status"] = status.value
        if status is HostStatus.DELIVERED:
            values["delivered_at"] = now()
    if step is not None:
        values["step"] = step.value
    if error is not None or clear_error:
        values["error"] = error
    if release:
        values["owner"] = None

    def body(conn: Connection) -> None:
        if data:
            row = conn.execute(select(provision_hosts.c.data).where(provision_hosts.c.host == host)).first()
            merged = dict(row.data or {}) if row else {}
            merged.update(_json(dict(data)))
            values["data"] = merged
        conn.execute(update(provision_hosts).where(provision_hosts.c.host == host).values(**values))

    _write(store, body)


# ------------------------------------------------------------------------------------ steps

def start_step(store: Store, wf: Workflow, step: Step, run_id: str, before: Any = None) -> StepRecord:
    """Record a new attempt of ``step`` as started (before any side effect)."""
    attempt_id = uuid.uuid4().hex

    def body(conn: Connection) -> int:
        conn.execute(update(provision_hosts).where(provision_hosts.c.host == wf.host)
                     .values(step=step.value, updated_at=now()))
        last = conn.execute(select(func.max(provision_steps.c.attempt))
                            .where(provision_steps.c.workflow_id == wf.workflow_id)
                            .where(provision_steps.c.step == step.value)).scalar()
        attempt = int(last or 0) + 1
        conn.execute(provision_steps.insert().values(
            workflow_id=wf.workflow_id, host=wf.host, step=step.value, attempt=attempt, attempt_id=attempt_id,
            status=StepStatus.STARTED.value, run_id=run_id, started_at=now(), before=_json(before), journal={}))
        return attempt

    attempt = _write(store, body)
    return StepRecord(step, attempt, attempt_id, StepStatus.STARTED)


def finish_step(store: Store, attempt_id: str, status: StepStatus, *, after: Any = None, error: str | None = None,
                reason: str | None = None) -> None:
    values = dict(status=status.value, finished_at=now(), after=_json(after), error=error, reason=reason)
    _write(store, lambda conn: conn.execute(update(provision_steps)
                                            .where(provision_steps.c.attempt_id == attempt_id).values(**values)))


def skip_step(store: Store, wf: Workflow, step: Step, reason: str, run_id: str | None) -> StepRecord:
    record = start_step(store, wf, step, run_id or "", None)
    finish_step(store, record.attempt_id, StepStatus.SKIPPED, reason=reason)
    return StepRecord(step, record.attempt, record.attempt_id, StepStatus.SKIPPED, reason=reason)


def step_rows(store: Store, host: str, workflow_id: str | None = None) -> list[dict[str, Any]]:
    with store.connect() as conn:
        stmt = select(provision_steps).where(provision_steps.c.host == host).order_by(provision_steps.c.id)
        if workflow_id:
            stmt = stmt.where(provision_steps.c.workflow_id == workflow_id)
        return [dict(r._mapping) for r in conn.execute(stmt)]


def read_journal(store: Store, attempt_id: str) -> dict[str, dict[str, Any]]:
    with store.connect() as conn:
        row = conn.execute(select(provision_steps.c.journal).where(provision_steps.c.attempt_id == attempt_id)).first()
    return dict(row.journal or {}) if row else {}


def write_journal(store: Store, attempt_id: str, key: str, record: Mapping[str, Any]) -> None:
    """Set one journal entry of an attempt (read-modify-write: one process owns a host)."""

    def body(conn: Connection) -> None:
        row = conn.execute(select(provision_steps.c.journal).where(provision_steps.c.attempt_id == attempt_id)).first()
        journal = dict(row.journal or {}) if row else {}
        journal[key] = _json(dict(record))
        conn.execute(update(provision_steps).where(provision_steps.c.attempt_id == attempt_id).values(journal=journal))

    _write(store, body)


class StepJournal:
    """The ``dcops.baseline.apply.Journal`` of one step attempt, kept in the store. Records are
    cached in memory and written through, so a resumed attempt sees what the killed one wrote."""

    def __init__(self, store: Store, attempt_id: str) -> None:
        self.store = store
        self.attempt_id = attempt_id
        self.records = read_journal(store, attempt_id)

    def before(self, key: str, info: Mapping[str, Any] | None = None) -> None:
        self.records[key] = {**(info or {}), "state": "started", "at": now().isoformat()}
        self._flush()

    def after(self, key: str, info: Mapping[str, Any] | None = None) -> None:
        self.records[key] = {**self.records.get(key, {}), **(info or {}), "state": "done",
                             "done_at": now().isoformat()}
        self._flush()

    def _flush(self) -> None:
        # One statement, no read: this process owns the attempt (it claimed the host), and the
        # in-memory records started from what the store had.
        journal = _json(self.records)
        _write(self.store, lambda conn: conn.execute(
            update(provision_steps).where(provision_steps.c.attempt_id == self.attempt_id).values(journal=journal)))

    def state(self, key: str) -> str | None:
        record = self.records.get(key)
        return None if record is None else str(record.get("state"))

    def info(self, key: str) -> Mapping[str, Any]:
        return self.records.get(key, {})


# ------------------------------------------------------------------------------------ summaries

def summary(store: Store) -> dict[str, Any]:
    """Hosts per status and per current step, and failed steps (for the exporter)."""
    with store.connect() as conn:
        rows = conn.execute(select(provision_hosts.c.host, provision_hosts.c.status, provision_hosts.c.step,
                                   provision_hosts.c.profile, provision_hosts.c.rack, provision_hosts.c.updated_at,
                                   provision_hosts.c.delivered_at)).all()
        failed = conn.execute(select(provision_steps.c.step, func.count())
                              .where(provision_steps.c.status == StepStatus.FAILED.value)
                              .group_by(provision_steps.c.step)).all()
    by_status: dict[str, int] = {}
    by_step: dict[tuple[str, str], int] = {}
    hosts = []
    for r in rows:
        by_status[r.status] = by_status.get(r.status, 0) + 1
        key = (r.status, r.step or "-")
        by_step[key] = by_step.get(key, 0) + 1
        hosts.append({"host": r.host, "status": r.status, "step": r.step, "profile": r.profile, "rack": r.rack,
                      "updated_at": _aware(r.updated_at), "delivered_at": _aware(r.delivered_at)})
    return {"by_status": by_status, "by_step": by_step, "failed_steps_total": {s: int(n) for s, n in failed},
            "hosts": hosts}
