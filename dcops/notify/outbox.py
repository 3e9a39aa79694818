"""The notification outbox: which receivers hear of which message (pure ``plan``), and the
delivery loop that sends what is due, retries with back-off and never forgets (``deliver_due``).

Rows are written in the same transaction as the incident change that causes them, so a crash
between deciding and sending loses nothing; a row is marked delivered only after the peer
accepted it, so nothing already delivered is sent again after a restart (except the one row in
flight at the instant of a SIGKILL: at-least-once, once its claim has expired). A row is claimed
with a lease before it is sent, so deliverers running at once never send it twice.

Alertmanager is different: it forgets alerts it is not told about again, so ``sync_alertmanager``
re-sends every firing incident each round (``endsAt`` a few rounds ahead); only the *resolution*
of an incident goes through the outbox, with ``endsAt`` set, so it survives a restart too.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dcops.notify import render
from dcops.notify.config import NotifyConfig, Receiver
from dcops.notify.message import Message, Notifiable
from dcops.notify.send import DeliveryError, post_alerts, send
from dcops.notify.silence import Silence, silenced

log = logging.getLogger(__name__)
BACKOFF_START = 15.0
BACKOFF_MAX = 900.0
RATE_WINDOW = 60.0  # rate limits are per minute


def over_rate(receiver: Receiver, sent_in_window: int) -> bool:
    """Has ``receiver`` had its ``rate_per_minute`` in the current window? Pure."""
    return receiver.rate_per_minute is not None and sent_in_window >= receiver.rate_per_minute


def _row(message: Message, receiver: Receiver, now: dt.datetime) -> dict[str, Any]:
    # The payload keeps its historical key "incident": rows queued by an older dcops are delivered too.
    return {"created_at": now, "incident": message.ref, "receiver": receiver.name, "kind": message.event,
            "payload": {"event": message.event, "incident": dict(message.body)}, "attempts": 0,
            "next_attempt_at": now}


def plan(config: NotifyConfig, now: dt.datetime, *, opened: Iterable[Notifiable] = (),
         escalated: Iterable[Notifiable] = (), updated: Iterable[Notifiable] = (),
         resolved: Iterable[Notifiable] = (), acked: Iterable[Notifiable] = (),
         silences: Sequence[Silence] = ()) -> list[dict[str, Any]]:
    """Outbox rows for one batch of changes (patrol's incidents, as messages). Silenced messages
    are not notified (their resolution is, to receivers that route them, so nobody is left with a
    stale page)."""
    rows: list[dict[str, Any]] = []
    for event, items, explicit in (("opened", opened, False), ("escalated", escalated, True),
                                   ("updated", updated, False)):
        for item in items:
            message = item.message(event)
            if silenced(message, silences, now):
                continue
            for receiver in config.receivers_for(message.severity, message.tier, explicit_tier=explicit,
                                                 alertmanager=False, kind=message.kind):
                rows.append(_row(message, receiver, now))
    for item in [*resolved, *acked]:
        message = item.message("resolved")
        if message.firing:
            message = item.message("acked")
        names: dict[str, Receiver] = {}
        for tier in range(1, message.tier + 1):
            for receiver in config.receivers_for(message.severity, tier, kind=message.kind):
                if receiver.is_alertmanager and message.event == "acked":
                    continue
                names.setdefault(receiver.name, receiver)
        for receiver in names.values():
            rows.append(_row(message, receiver, now))
    return rows


def backoff(attempts: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_START * (2 ** max(0, attempts - 1)))


def lease_for(receiver: Receiver | None) -> dt.timedelta:
    """How long a claim on a row holds: well past the longest a send to ``receiver`` can take, so
    a claim never expires under a delivery still in flight (a second deliverer would send again)."""
    timeout = receiver.timeout if receiver is not None else 10.0
    return dt.timedelta(seconds=2 * timeout + 60)


def deliverer_id() -> str:
    """Who claims rows: host, process and a random part (two deliverers of one process differ)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def release_dead_claims(store: Any, now: dt.datetime) -> int:
    """Release the claims of deliverers on this machine whose process is gone (a SIGKILLed run):
    their rows need not wait for the lease to run out. Claims of other machines, and of live
    processes, are left to their lease."""
    from dcops.notify import store as outbox_store

    here = socket.gethostname()[:40]
    released = 0
    for owner in outbox_store.live_claimants(store, now):
        host, _, rest = owner.partition(":")
        pid = rest.partition(":")[0]
        if host != here or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            released += outbox_store.release_claims(store, owner)
            log.info("notify: released the claims of %s (the process is gone)", owner)
        except PermissionError:
            pass  # alive, another user's
    return released


def deliver_due(store: Any, config: NotifyConfig, now: dt.datetime | None = None, *, limit: int = 200,
                sender: Callable[[Receiver, str, dict[str, Any]], None] = send,
                deadline: float | None = None, workers: int = 8) -> dict[str, int]:
    """Send the due outbox rows, each by exactly one deliverer, within each receiver's rate limit
    (rows beyond it wait a minute, in order); returns counts (delivered, failed, given_up, deferred).

    Rows are claimed one at a time with a lease (``patrol.store.claim_next``) and sent only by the
    claimant, so two deliverers running at once (a round that outlived its interval, a second
    process) never send the same row. Each receiver is drained by its own worker: a receiver
    that hangs holds up its own rows, not the others'. No new row is claimed after ``deadline``
    (``time.monotonic()``); at most ``limit`` rows per receiver.
    """
    from dcops.notify import store as outbox_store

    now = now or dt.datetime.now(dt.UTC)
    owner = deliverer_id()
    started = time.monotonic()
    counts = {"delivered": 0, "failed": 0, "given_up": 0, "deferred": 0}
    # Sent per receiver within the rate window; each receiver's worker alone touches its entry.
    recent = outbox_store.delivered_since(store, now - dt.timedelta(seconds=RATE_WINDOW))
    lock = threading.Lock()

    def count(key: str) -> None:
        with lock:
            counts[key] += 1

    def drain(name: str) -> None:
        receiver = config.receivers.get(name)
        for _ in range(limit):
            if deadline is not None and time.monotonic() >= deadline:
                return
            # The lease runs from the moment of the claim (the round's ``now`` plus the time spent).
            at = now + dt.timedelta(seconds=time.monotonic() - started)
            item = outbox_store.claim_next(store, receiver=name, now=now, owner=owner, until=at + lease_for(receiver))
            if item is None:
                return
            if receiver is not None and over_rate(receiver, recent.get(name, 0)):
                # Over the receiver's rate limit: queued for the next minute, in order.
                outbox_store.defer(store, [int(item["id"])], now + dt.timedelta(seconds=RATE_WINDOW))
                count("deferred")
                continue

            def counted(key: str, name: str = name) -> None:
                count(key)
                if key == "delivered":
                    recent[name] = recent.get(name, 0) + 1

            _deliver_one(store, config, receiver, item, now, sender, counted)

    release_dead_claims(store, now)
    names = outbox_store.due_receivers(store, now)
    if names:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names))), thread_name_prefix="notify") as pool:
            for future in [pool.submit(drain, name) for name in names]:
                future.result()
    return counts


def _deliver_one(store: Any, config: NotifyConfig, receiver: Receiver | None, item: dict[str, Any],
                 now: dt.datetime, sender: Callable[[Receiver, str, dict[str, Any]], None],
                 count: Callable[[str], None]) -> None:
    from dcops.notify import store as outbox_store

    attempts = int(item["attempts"]) + 1
    created = outbox_store.aware(item["created_at"]) or now
    if receiver is None:
        outbox_store.mark_failed(store, item["id"], attempts=attempts, next_at=now, give_up=True, now=now,
                           error=f"receiver {item['receiver']!r} is no longer configured")
        count("given_up")
        return
    payload = item["payload"]
    try:
        sender(receiver, payload["event"], payload["incident"])
    except DeliveryError as exc:
        give_up = (now - created).total_seconds() >= config.max_age_seconds
        outbox_store.mark_failed(store, item["id"], attempts=attempts, error=str(exc), give_up=give_up, now=now,
                           next_at=now + dt.timedelta(seconds=backoff(attempts)))
        log.warning("notify %s: incident %s %s: %s%s", receiver.name, item["incident"], payload["event"], exc,
                    " (giving up)" if give_up else f" (retry in {backoff(attempts):.0f}s)")
        count("given_up" if give_up else "failed")
        return
    # Mark at once: a SIGKILL after this line must not send it again.
    outbox_store.mark_delivered(store, [int(item["id"])], now)
    count("delivered")


def sync_alertmanager(config: NotifyConfig, items: Iterable[Notifiable], now: dt.datetime, *,
                      silences: Sequence[Silence] = (), hold_seconds: float = 300.0) -> dict[str, str]:
    """Re-send every firing message (patrol's open incidents) to each Alertmanager receiver whose
    routes match it. ``endsAt`` is ``hold_seconds`` ahead: if dcops dies, Alertmanager resolves the
    alerts on its own a little later rather than keep them forever (the DcopsPatrolStale rule
    pages for that). Returns receiver -> error for receivers that failed (retried next round)."""
    errors: dict[str, str] = {}
    ends = now + dt.timedelta(seconds=hold_seconds)
    firing = [m for m in (i.message("opened") for i in items) if m.firing and not silenced(m, silences, now)]
    for receiver in config.alertmanagers:
        batch = [render.alertmanager_alert(m.body, ends_at=ends) for m in firing
                 if receiver in config.receivers_for(m.severity, m.tier, alertmanager=True, kind=m.kind)]
        try:
            for start in range(0, len(batch), 500):
                post_alerts(receiver, batch[start:start + 500])
        except DeliveryError as exc:
            errors[receiver.name] = str(exc)
            log.warning("alertmanager %s: %s", receiver.name, exc)
    return errors
