"""The outbox under concurrency (issue 15, item 3), on SQLite and a real PostgreSQL, with real
HTTP receivers: two deliverers at once send every notification exactly once (before: 94 posts for
32 notifications); a hung receiver holds up only its own rows; a dead deliverer's claim expires."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path

import pytest

from dcops.notify import outbox
from dcops.notify import store as outbox_store
from dcops.notify.config import load_notify_config
from dcops.patrol import store as pstore
from dcops.store import open_store
from tests.helpers.receivers import webhook
from tests.helpers.simfleet import wait_for
from tests.integration.patrol.helpers import psu_incident

pytestmark = pytest.mark.timeout(120)
N = 32


def _queue(store, config, n: int = N) -> dt.datetime:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    for i in range(n):
        incident = psu_incident(now, host=f"db-{i:02d}")
        pstore.save_incident(store, incident, outbox.plan(config, now, opened=[incident]))
    return now


def test_two_deliverers_at_once_send_each_notification_once(store_url: str) -> None:
    with webhook() as slow, webhook() as fast:
        slow.delay = 0.05  # slow enough that the two deliverers overlap on every row
        config = load_notify_config({
            "receivers": [{"name": "slow", "type": "webhook", "url": slow.url + "/slow"},
                          {"name": "fast", "type": "webhook", "url": fast.url + "/fast"}],
            "routes": [{"receivers": ["slow", "fast"]}]})
        store = open_store(store_url)
        try:
            now = _queue(store, config)
            results: list[dict[str, int]] = []
            barrier = threading.Barrier(3)

            def deliverer() -> None:
                barrier.wait()
                results.append(outbox.deliver_due(store, config, now))

            threads = [threading.Thread(target=deliverer) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(100)
            assert sum(r["delivered"] for r in results) == 2 * N
            posts = Counter((path, body["incident"]["host"]) for hook in (slow, fast) for path, body in hook.received)
            assert len(posts) == 2 * N and set(posts.values()) == {1}, posts.most_common(3)
            assert outbox_store.outbox_counts(store) == {"pending": 0, "given_up": 0, "delivered": 2 * N}
            assert outbox.deliver_due(store, config, now + dt.timedelta(minutes=1))["delivered"] == 0
        finally:
            store.close()


def test_a_hung_receiver_holds_up_only_its_own_rows(tmp_path: Path) -> None:
    with webhook() as hung, webhook() as fast:
        hung.hold = True
        config = load_notify_config({
            "receivers": [{"name": "hung", "type": "webhook", "url": hung.url + "/hung", "timeout": 20},
                          {"name": "fast", "type": "webhook", "url": fast.url + "/fast"}],
            "routes": [{"receivers": ["hung", "fast"]}]})
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        try:
            now = _queue(store, config, 8)
            worker = threading.Thread(target=outbox.deliver_due, args=(store, config, now), daemon=True)
            worker.start()
            # Every fast row arrives while the hung receiver still holds its first request.
            wait_for(lambda: len(fast.received) == 8, 30, "the fast receiver's 8 notifications")
            assert len(hung.held) == 1 and worker.is_alive()
            # A second deliverer now: the hung receiver's rows are claimed (one in flight) or
            # due for it; it does not send the in-flight one again.
            counts = outbox.deliver_due(store, config, now, deadline=None, limit=1)
            assert counts["delivered"] == 0
        finally:
            hung.hold = False
            store.close()


def test_a_dead_deliverers_claim_expires(tmp_path: Path) -> None:
    with webhook() as hook:
        config = load_notify_config({"receivers": [{"name": "hook", "type": "webhook", "url": hook.url}],
                                     "routes": [{"receivers": ["hook"]}]})
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        try:
            now = _queue(store, config, 1)
            lease = outbox.lease_for(config.receivers["hook"])
            claimed = outbox_store.claim_next(store, receiver="hook", now=now, owner="dead", until=now + lease)
            assert claimed is not None  # ...and its deliverer was SIGKILLed before sending
            assert outbox.deliver_due(store, config, now)["delivered"] == 0  # the claim is live
            assert hook.received == []
            later = now + lease + dt.timedelta(seconds=1)
            assert outbox.deliver_due(store, config, later)["delivered"] == 1
            assert len(hook.received) == 1
        finally:
            store.close()
