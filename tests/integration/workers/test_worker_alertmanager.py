"""Each worker re-sends to Alertmanager only the open incidents of its shard (dcops.workers): two
`runtime.Worker`s over a real PostgreSQL store, each engine's Alertmanager receiver a real
Alertmanager of its own (so what each worker sent can be told apart; in production they share a
cluster). Every incident reaches exactly one of them, each the worker that owns the incident's
rack; an orphan (a host gone from the book) is sent by the first member by name; when one worker
leaves, the survivor re-sends everything from its next epoch."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from dcops.models import BmcEndpoint, Host, Location
from dcops.notify.config import load_notify_config
from dcops.patrol.config import load_patrol_config
from dcops.patrol.engine import Patrol
from dcops.store import open_store
from dcops.workers import ring
from dcops.workers.runtime import Worker
from tests.integration.patrol.helpers import psu_incident
from tests.integration.patrol.peers import alertmanager, http_json, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]


def _active_hosts(url: str) -> set[str]:
    return {a["labels"]["host"] for a in http_json(f"{url}/api/v2/alerts") if a["status"]["state"] == "active"}


def test_each_worker_resends_its_shard_only(tmp_path: Path, postgres_url: str) -> None:
    store = open_store(postgres_url)
    # Never patrolled here (no round runs; documentation addresses, never contacted).
    book = [Host(name=f"h{i}", bmc=BmcEndpoint(address=f"192.0.2.{i + 1}"),
                 location=Location(site="dc1", room="r1", rack=f"A{i:02d}")) for i in range(8)]
    now = dt.datetime.now(dt.UTC)
    base = psu_incident(now)
    incidents = [dataclasses.replace(base, id=i + 1, key=f"{h}:psu", host=h)
                 for i, h in enumerate([*(h.name for h in book), "gone"])]
    with contextlib.ExitStack() as stack:
        ams = {name: stack.enter_context(alertmanager(tmp_path / name)) for name in ("wa", "wb")}
        workers: dict[str, Worker] = {}
        for name, am in ams.items():
            notify = load_notify_config({"receivers": [{"name": "am", "type": "alertmanager", "url": am.url}],
                                         "routes": [{"receivers": ["am"]}]})
            engine = Patrol(store, book, load_patrol_config({"interval": 60}), notify, tune_gc=False)
            workers[name] = Worker(store, engine, name, book, ttl=600)
            workers[name].start()
            stack.callback(workers[name].close)
        # Two epochs ahead: both registrations count, whatever the clock's place in this one.
        epoch = ring.epoch_of(workers["wa"].db_time(), 60.0) + 2
        for w in workers.values():
            w.plan(epoch)
        owner = {n: w.name for w in workers.values() for n in w.plan(epoch)}
        assert set(owner.values()) == {"wa", "wb"}, "this book must give both workers racks"
        for w in workers.values():
            counts = asyncio.run(w.engine.deliver(incidents, now, silences=[]))
            assert counts.get("alertmanager_errors") == 0
        expect = {name: {h for h, o in owner.items() if o == name} for name in workers}
        expect["wa"].add("gone")  # nobody owns it: the first member by name keeps it firing
        for name, am in ams.items():
            wait_for(lambda am=am, name=name: _active_hosts(am.url) == expect[name], 20,
                     f"{name}'s Alertmanager to hold its shard's alerts")
        assert not (_active_hosts(ams["wa"].url) & _active_hosts(ams["wb"].url))

        # wb leaves (its lease ends with the current epoch): from the next, wa re-sends them all.
        workers["wb"].close()
        later = ring.epoch_of(workers["wa"].db_time(), 60.0) + 2
        assert [n for n in workers["wa"].plan(later)] == [h.name for h in book]
        asyncio.run(workers["wa"].engine.deliver(incidents, now, silences=[]))
        wait_for(lambda: _active_hosts(ams["wa"].url) == {*(h.name for h in book), "gone"}, 20,
                 "the survivor to re-send every open incident")
