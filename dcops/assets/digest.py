"""The daily warranty digest: what ``dcops assets warranty --remind`` does once, run every day at a
set time inside ``dcops serve`` (or by a systemd timer calling the command: docs/deploy/).

``remind`` is the one pass (reminders due -> queued per receiver in the outbox -> delivered), shared
by the CLI and the daily loop; each reminder is recorded as sent per threshold and warranty end, so
a pass run twice on one day, or by both the loop and a timer, sends nothing twice. ``next_run`` is
the pure schedule; ``daily`` the asyncio loop that waits for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import UsageError

log = logging.getLogger(__name__)

DEFAULT_AT = "08:00"


@dataclass
class RemindResult:
    due: list[Any] = field(default_factory=list)  # the Reminders due this pass
    channels: dict[Any, str] = field(default_factory=dict)  # reminder key -> receivers (or "report")
    delivery: Any = None  # dcops.assets.notify.Delivery


def remind(store: Any, hosts: Sequence[Any], levels: Sequence[int], config: Any, now: dt.datetime,
           today: dt.date | None = None, *, within: int | None = None) -> RemindResult:
    """One reminder pass over ``hosts`` (the book's): queue the reminders due and deliver every
    queued one, also those an interrupted or failed earlier pass left behind."""
    from dcops.assets import store as asset_store
    from dcops.assets.notify import deliver_reminders, plan_reminders
    from dcops.assets.warranty import due_reminders, warranty_rows

    rows = warranty_rows(hosts, today or now.date(), within=within)
    due = due_reminders(rows, levels, sent=asset_store.sent_reminders(store))
    queued, channels = plan_reminders(due, config, now)
    asset_store.queue_reminders(store, channels, queued, at=now)
    return RemindResult(due, channels, deliver_reminders(store, config, now))


def parse_at(text: str | None) -> dt.time | None:
    """``HH:MM`` (local time of the serving machine) -> a time; ``off`` -> None."""
    value = (text or DEFAULT_AT).strip().lower()
    if value in ("off", "no", "false", "none"):
        return None
    try:
        hours, minutes = value.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise UsageError(f"warranty digest time: expected HH:MM or off, got {text!r}") from None


def next_run(now: dt.datetime, at: dt.time) -> dt.datetime:
    """The first ``at`` strictly after ``now`` (same timezone as ``now``). Pure."""
    candidate = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + dt.timedelta(days=1)


async def daily(stop: asyncio.Event, at: dt.time, run: Callable[[], Any],
                now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone()) -> None:
    """Call ``run`` (blocking; run in a thread) every day at ``at`` until ``stop`` is set. A failed
    pass is logged and retried the next day: the outbox keeps what it could not deliver, and the
    patrol's deliverer or the next pass sends it."""
    while not stop.is_set():
        wait = (next_run(now(), at) - now()).total_seconds()
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.0))
            return
        except TimeoutError:
            pass
        try:
            await asyncio.get_running_loop().run_in_executor(None, run)
        except Exception as exc:  # a dead mail server must not end dcops serve
            log.warning("warranty digest: %s", exc)


def start_in_serve(stop: asyncio.Event, hosts: Sequence[Any], open_store: Callable[[], Any],
                   assets_config: dict[str, Any], notify_config: dict[str, Any],
                   now: Callable[[], dt.datetime] | None = None) -> asyncio.Task[None] | None:
    """``dcops serve``'s hook: the daily digest as a task of the running loop (it ends with ``stop``
    or with the loop). Config ``assets.warranty_digest_at`` (HH:MM local, default 08:00, ``off``),
    ``assets.warranty_thresholds`` (default 90d,30d,7d,0d). Not started without a book, or when no
    receiver has a ``kind: warranty`` route: a pass would then record the reminders as given in a
    report nobody reads."""
    from dcops.assets.notify import KIND
    from dcops.assets.warranty import parse_thresholds
    from dcops.notify.config import load_notify_config

    at = parse_at(assets_config.get("warranty_digest_at"))
    if at is None or not hosts:
        return None
    config = load_notify_config(notify_config)
    if not config.receivers_for("warning", 1, alertmanager=False, kind=KIND):
        log.info("warranty digest: no receiver has a kind: warranty route; not scheduled")
        return None
    levels = parse_thresholds(str(assets_config.get("warranty_thresholds") or "90d,30d,7d,0d"))

    def run() -> None:
        store = open_store()
        try:
            result = remind(store, hosts, levels, config, dt.datetime.now(dt.UTC))
        finally:
            store.close()
        log.info("warranty digest: %d reminder(s) due, %d notification(s) sent", len(result.due),
                 result.delivery.notifications)
        for problem in result.delivery.problems:
            log.warning("warranty digest: %s", problem)

    log.info("warranty digest: daily at %s", at.strftime("%H:%M"))
    clock = now or (lambda: dt.datetime.now().astimezone())
    return asyncio.get_running_loop().create_task(daily(stop, at, run, clock), name="warranty-digest")
