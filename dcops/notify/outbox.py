"""The notification outbox: which receivers hear of which incident change (pure ``plan``), and the
delivery loop that sends what is due, retries with back-off and never forgets (``deliver_due``).

Rows are written in the same transaction as the incident change that causes them, so a crash
between deciding and sending loses nothing; a row is marked delivered only after the peer
accepted it, so nothing already delivered is sent again after a restart (except the one row in
flight at the instant of a SIGKILL: at-least-once).

Alertmanager is different: it forgets alerts it is not told about again, so ``sync_alertmanager``
re-sends every firing incident each round (``endsAt`` a few rounds ahead); only the *resolution*
of an incident goes through the outbox, with ``endsAt`` set, so it survives a restart too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dcops.notify import render
from dcops.notify.config import NotifyConfig, Receiver
from dcops.notify.send import DeliveryError, post_alerts, send
from dcops.patrol.escalate import Silence, silenced
from dcops.patrol.model import Incident

log = logging.getLogger(__name__)
BACKOFF_START = 15.0
BACKOFF_MAX = 900.0
RATE_WINDOW = 60.0  # rate limits are per minute


def over_rate(receiver: Receiver, sent_in_window: int) -> bool:
    """Has ``receiver`` had its ``rate_per_minute`` in the current window? Pure."""
    return receiver.rate_per_minute is not None and sent_in_window >= receiver.rate_per_minute


def _row(incident: Incident, receiver: Receiver, event: str, now: dt.datetime) -> dict[str, Any]:
    return {"created_at": now, "incident": incident.id, "receiver": receiver.name, "kind": event,
            "payload": {"event": event, "incident": incident.to_json()}, "attempts": 0, "next_attempt_at": now}


def plan(config: NotifyConfig, now: dt.datetime, *, opened: Iterable[Incident] = (),
         escalated: Iterable[Incident] = (), updated: Iterable[Incident] = (), resolved: Iterable[Incident] = (),
         acked: Iterable[Incident] = (), silences: Sequence[Silence] = ()) -> list[dict[str, Any]]:
    """Outbox rows for one batch of incident changes. Silenced incidents are not notified (their
    resolution is, to receivers that route them, so nobody is left with a stale page)."""
    rows: list[dict[str, Any]] = []
    for incident in opened:
        if silenced(incident, silences, now):
            continue
        for receiver in config.receivers_for(incident.severity, incident.tier, alertmanager=False):
            rows.append(_row(incident, receiver, "opened", now))
    for incident in escalated:
        if silenced(incident, silences, now):
            continue
        for receiver in config.receivers_for(incident.severity, incident.tier, explicit_tier=True,
                                             alertmanager=False):
            rows.append(_row(incident, receiver, "escalated", now))
    for incident in updated:
        if silenced(incident, silences, now):
            continue
        for receiver in config.receivers_for(incident.severity, incident.tier, alertmanager=False):
            rows.append(_row(incident, receiver, "updated", now))
    for incident in [*resolved, *acked]:
        event = "resolved" if not incident.is_open else "acked"
        names: dict[str, Receiver] = {}
        for tier in range(1, incident.tier + 1):
            for receiver in config.receivers_for(incident.severity, tier):
                if receiver.is_alertmanager and event == "acked":
                    continue
                names.setdefault(receiver.name, receiver)
        for receiver in names.values():
            rows.append(_row(incident, receiver, event, now))
    return rows


def backoff(attempts: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_START * (2 ** max(0, attempts - 1)))


def deliver_due(store: Any, config: NotifyConfig, now: dt.datetime | None = None, *, limit: int = 200,
                sender: Callable[[Receiver, str, dict[str, Any]], None] = send) -> dict[str, int]:
    """Send every due outbox row once, within each receiver's rate limit (rows beyond it wait a
    minute, in order); returns counts (delivered, failed, given_up, deferred)."""
    from dcops.store import patrol as pstore

    now = now or dt.datetime.now(dt.UTC)
    counts = {"delivered": 0, "failed": 0, "given_up": 0, "deferred": 0}
    delivered: list[int] = []
    deferred: list[int] = []
    recent = pstore.delivered_since(store, now - dt.timedelta(seconds=RATE_WINDOW))
    for item in pstore.due_notifications(store, now, limit):
        receiver = config.receivers.get(item["receiver"])
        attempts = int(item["attempts"]) + 1
        created = pstore.aware(item["created_at"]) or now
        if receiver is not None and over_rate(receiver, recent.get(receiver.name, 0)):
            deferred.append(int(item["id"]))  # queued for the next minute, in order
            continue
        if receiver is None:
            pstore.mark_failed(store, item["id"], attempts=attempts, next_at=now, give_up=True, now=now,
                               error=f"receiver {item['receiver']!r} is no longer configured")
            counts["given_up"] += 1
            continue
        payload = item["payload"]
        try:
            sender(receiver, payload["event"], payload["incident"])
        except DeliveryError as exc:
            give_up = (now - created).total_seconds() >= config.max_age_seconds
            pstore.mark_failed(store, item["id"], attempts=attempts, error=str(exc), give_up=give_up, now=now,
                               next_at=now + dt.timedelta(seconds=backoff(attempts)))
            log.warning("notify %s: incident %s %s: %s%s", receiver.name, item["incident"], payload["event"], exc,
                        " (giving up)" if give_up else f" (retry in {backoff(attempts):.0f}s)")
            counts["given_up" if give_up else "failed"] += 1
            continue
        delivered.append(int(item["id"]))
        # Mark each at once: a SIGKILL after this line must not send it again.
        pstore.mark_delivered(store, [int(item["id"])], now)
        counts["delivered"] += 1
        recent[receiver.name] = recent.get(receiver.name, 0) + 1
    pstore.defer(store, deferred, now + dt.timedelta(seconds=RATE_WINDOW))
    counts["deferred"] = len(deferred)
    return counts


def sync_alertmanager(config: NotifyConfig, incidents: Iterable[Incident], now: dt.datetime, *,
                      silences: Sequence[Silence] = (), hold_seconds: float = 300.0) -> dict[str, str]:
    """Re-send every firing incident to each Alertmanager receiver whose routes match it.
    ``endsAt`` is ``hold_seconds`` ahead: if dcops dies, Alertmanager resolves the alerts on its
    own a little later rather than keep them forever (the DcopsPatrolStale rule pages for that).
    Returns receiver -> error for receivers that failed (retried next round)."""
    errors: dict[str, str] = {}
    ends = now + dt.timedelta(seconds=hold_seconds)
    for receiver in config.alertmanagers:
        batch = [render.alertmanager_alert(i.to_json(), ends_at=ends) for i in incidents
                 if i.is_open and not silenced(i, silences, now)
                 and receiver in config.receivers_for(i.severity, i.tier, alertmanager=True)]
        try:
            for start in range(0, len(batch), 500):
                post_alerts(receiver, batch[start:start + 500])
        except DeliveryError as exc:
            errors[receiver.name] = str(exc)
            log.warning("alertmanager %s: %s", receiver.name, exc)
    return errors
