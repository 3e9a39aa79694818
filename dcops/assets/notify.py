"""Warranty reminders through the notifiers (``notify:`` in the config file) and their outbox.

Reminders are a **digest**: the reminders due in one run go to each receiver as one message
(one row per receiver), through the routes that carry ``kind: [warranty]`` only: procurement is
not on call, and 174 reminders must not become 174 chat posts through the incident routes. A
reminder's severity is ``warning`` (``critical`` once expired) and routes may filter on it; the
digest takes the worst of its reminders. A digest is not an incident (nothing to acknowledge): it is
a notify ``Message`` of kind ``warranty`` whose hint (shown in chat messages and the webhook JSON)
is the ``dcops assets warranty --within ...`` command that lists the same warranties.
Alertmanager receivers are skipped: for Prometheus alerting use the exporter's
``dcops_assets_warranty_remaining_seconds`` instead.

Delivery goes through the notification outbox (``patrol_outbox``, see docs/patrol.md): the
reminders due are recorded as sent *and* queued, one outbox row per receiver, in one transaction
(``dcops.assets.store.queue_reminders``); then the rows are delivered and marked one by one. A run
interrupted before or during delivery loses nothing: the next ``--remind`` run (or a running
``dcops serve``) delivers what is still queued, and never queues the same reminder twice. A row
is marked delivered only after the peer accepted it (at-least-once for the row in flight at a
SIGKILL). Queued rows are due only after ``LEASE_SECONDS``, so a ``dcops serve`` delivering the
outbox meanwhile leaves them to the run that queued them.

With no receivers configured (or none routed) the reminders are only listed in the command's
report; they are still recorded as sent (channel ``report``), because the person who ran
``--remind`` saw them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.assets.warranty import Reminder
from dcops.notify.config import NotifyConfig, Receiver
from dcops.notify.message import Message
from dcops.notify.render import title

KIND = "warranty"  # the outbox rows' kind (and the notifications' event)
LEASE_SECONDS = 120.0


def digest_document(reminders: Sequence[Reminder], now: dt.datetime) -> dict[str, Any]:
    """One message for several reminders: a summary line (how many expired, how many ending and
    how soon) and one item per warranty, soonest first. Pure."""
    ordered = sorted(reminders, key=lambda r: (r.days_left, r.host))
    expired = sum(1 for r in ordered if r.days_left < 0)
    ending = [r for r in ordered if r.days_left >= 0]
    parts = []
    if expired:
        parts.append(f"{expired} expired")
    if ending:
        parts.append(f"{len(ending)} ending within {max(r.days_left for r in ending)} days")
    return {
        "id": None, "host": f"{len(ordered)} server{'s' if len(ordered) != 1 else ''}",
        "summary": "warranty digest: " + ", ".join(parts),
        "severity": "critical" if expired else "warning", "tier": 1,
        "opened_at": now.isoformat(timespec="seconds"), "info": {"kind": "warranty"},
        "digest": [{"host": r.host, "site": r.site, "rack": r.rack, "warranty_end": r.warranty_end.isoformat(),
                    "days_left": r.days_left, "threshold": r.threshold, "serial": r.serial, "contract": r.contract,
                    "service_provider": r.service_provider, "supplier": r.supplier} for r in ordered],
    }


def digest_message(reminders: Sequence[Reminder], now: dt.datetime) -> Message:
    """The reminders as one notify message (``kind: warranty``); its hint is the command that
    lists these warranties (``dcops assets warranty``: a reminder is not an incident, there is
    nothing to acknowledge). Pure."""
    body = digest_document(reminders, now)
    within = max(0, max(r.days_left for r in reminders)) if reminders else 0
    body["hint"] = f"dcops assets warranty --within {within}d"
    return Message(kind=KIND, event=KIND, severity=str(body["severity"]), title=title(KIND, body), body=body,
                   dedup_key="warranty:" + ",".join(sorted(f"{r.host}/{r.threshold}" for r in reminders)),
                   hint=str(body["hint"]))


def plan_reminders(due: Sequence[Reminder], config: NotifyConfig, now: dt.datetime) -> \
        tuple[list[dict[str, Any]], dict[tuple[str, int, dt.date], str]]:
    """Outbox rows for the reminders ``due`` (one digest per receiver that a ``kind: warranty``
    route gives any of them) and, per reminder, the channel it is recorded under (receiver names,
    or ``report`` when none is routed). Pure."""
    channels: dict[tuple[str, int, dt.date], str] = {}
    per_receiver: dict[str, list[Reminder]] = {}
    for reminder in due:
        severity = "critical" if reminder.days_left < 0 else "warning"
        receivers = config.receivers_for(severity, 1, alertmanager=False, kind=KIND)
        channels[reminder.key] = ",".join(r.name for r in receivers) or "report"
        for receiver in receivers:
            per_receiver.setdefault(receiver.name, []).append(reminder)
    rows = []
    for name, items in per_receiver.items():
        message = digest_message(items, now)
        rows.append({"created_at": now, "incident": message.ref, "receiver": name, "kind": message.event,
                     "payload": {"event": message.event, "incident": dict(message.body),
                                 "reminders": [r.to_json() for r in items]},
                     "attempts": 0, "next_attempt_at": now + dt.timedelta(seconds=LEASE_SECONDS)})
    return rows, channels


@dataclass
class Delivery:
    """What one delivery pass did: reminders (their JSON) delivered to at least one receiver,
    notifications delivered / failed / given up / still pending, and one line per problem."""

    delivered: list[dict[str, Any]] = field(default_factory=list)
    notifications: int = 0
    failed: int = 0
    given_up: int = 0
    pending: int = 0
    problems: list[str] = field(default_factory=list)


def deliver_reminders(store: Any, config: NotifyConfig, now: dt.datetime | None = None, *,
                      sender: Callable[[Receiver, str, Mapping[str, Any]], None] | None = None) -> Delivery:
    """Send every queued warranty reminder now (back-off does not apply: someone asked), marking
    each row delivered as soon as its peer accepted it. A row whose receiver is gone, or that has
    failed for longer than the config's ``max_age_seconds``, is given up (still listed by
    ``dcops alerts outbox``). Raises nothing for a peer's failure: it is in ``problems``."""
    from dcops.assets import store as asset_store
    from dcops.notify import store as outbox_store
    from dcops.notify.outbox import (
        RATE_WINDOW,
        backoff,
        deliverer_id,
        lease_for,
        over_rate,
        release_dead_claims,
    )
    from dcops.notify.send import DeliveryError, send

    sender = sender or send
    now = now or dt.datetime.now(dt.UTC)
    result = Delivery()
    seen: set[tuple[Any, ...]] = set()
    owner = deliverer_id()
    release_dead_claims(store, now)
    recent = outbox_store.delivered_since(store, now - dt.timedelta(seconds=RATE_WINDOW))
    for item in asset_store.queued_reminders(store, KIND):
        receiver = config.receivers.get(item["receiver"])
        if receiver is not None and over_rate(receiver, recent.get(receiver.name, 0)):
            result.pending += 1  # over the receiver's rate limit: the next run (or dcops serve) sends it
            result.problems.append(f"{item['receiver']}: warranty reminder queued: the receiver is at its rate limit")
            continue
        # Claimed first: a patrol deliverer (or another --remind) sending the same row meanwhile
        # keeps it; this run leaves it to them.
        if not outbox_store.claim_row(store, int(item["id"]), now=now, owner=owner, until=now + lease_for(receiver)):
            continue
        attempts = int(item["attempts"]) + 1
        payload = item["payload"]
        # A digest lists its reminders; rows queued before digests carry one ``reminder``.
        reminders = list(payload.get("reminders") or ([payload["reminder"]] if payload.get("reminder") else []))
        first = reminders[0] if reminders else {}
        what = f"{payload['incident'].get('host') or first.get('host')}: warranty reminder to {item['receiver']}"
        if receiver is None:
            outbox_store.mark_failed(store, item["id"], attempts=attempts, next_at=now, give_up=True, now=now,
                               error=f"receiver {item['receiver']!r} is no longer configured")
            result.given_up += 1
            result.problems.append(f"{what}: the receiver is no longer configured (given up)")
            continue
        try:
            sender(receiver, payload["event"], payload["incident"])
        except DeliveryError as exc:
            created = outbox_store.aware(item["created_at"]) or now
            give_up = (now - created).total_seconds() >= config.max_age_seconds
            outbox_store.mark_failed(store, item["id"], attempts=attempts, error=str(exc), give_up=give_up, now=now,
                               next_at=now + dt.timedelta(seconds=backoff(attempts)))
            result.given_up += int(give_up)
            result.failed += int(not give_up)
            result.problems.append(f"{what}: {exc}" + (" (given up)" if give_up else " (queued for the next run)"))
            continue
        # Marked at once: a run killed after this line does not send it again.
        outbox_store.mark_delivered(store, [int(item["id"])], now)
        result.notifications += 1
        recent[receiver.name] = recent.get(receiver.name, 0) + 1
        for reminder in reminders:
            key = (reminder.get("host"), reminder.get("threshold"), reminder.get("warranty_end"))
            if key not in seen:
                seen.add(key)
                result.delivered.append(reminder)
    result.pending += result.failed
    return result
