"""Task monitors: how a Redfish service reports a long operation, and waiting for one.

A long operation (volume create/delete, SimpleUpdate, some resets) answers ``202 Accepted`` with
a task monitor URI in ``Location`` (and often the Task in the body). Polling the monitor answers
``202`` while the task runs (``Retry-After`` says when to ask again) and, once it ended, ``200``
with the Task (or the operation's own result), ``204``, or ``404`` when the BMC has forgotten the
task (it rebooted during its own update, or prunes finished tasks). ``wait_task`` polls within a
deadline and turns all of that into a ``TaskOutcome``; a monitor that vanishes is an outcome, not
an error, because the caller can confirm the result another way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dcops.bmc.redfish.connector import Response, retry_after
from dcops.bmc.redfish.docs import Doc, most_severe_message
from dcops.bmc.redfish.keys import ODATA_ID, TASK_DONE_OK, TASK_FAILED, TASK_MONITOR, TASK_RUNNING
from dcops.bmc.state import TaskOutcome
from dcops.errors import ApplyError, UnreachableError


@dataclass(frozen=True)
class Pacing:
    """How often to poll and how long to wait. Real BMCs: poll every few seconds (they break under
    load); the simulator: a fraction of a second."""

    poll: float = 2.0  # between polls when the BMC gives no Retry-After (and the most we wait)
    task_timeout: float = 3600.0  # a task (firmware update, volume create)
    bmc_timeout: float = 900.0  # a BMC rebooting after its own update
    busy_timeout: float = 600.0  # a storage controller busy with another operation
    reboot_timeout: float = 1200.0  # a host reset until POST (or the OS) is reached
    bios_apply_timeout: float = 300.0  # after POST, until the BMC shows the applied BIOS attributes
    settle: float = 10.0  # without BootProgress: how long after power-on POST is assumed done


class Clock:
    """Monotonic time and sleep, swappable in tests."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


def monitor_of(resp: Response | None) -> str | None:
    """The task monitor of a 202 answer: ``Location`` (made a path), else the Task body's
    ``TaskMonitor`` or its own URI. None when the BMC gave neither (the operation was synchronous)."""
    if resp is None:
        return None
    location = resp.header("Location")
    if location:
        return "/" + location.split("://", 1)[1].partition("/")[2] if "://" in location else location
    body = resp.body if isinstance(resp.body, dict) else {}
    monitor = body.get(TASK_MONITOR) or (body.get(ODATA_ID) if "TaskState" in body else None)
    return str(monitor) if monitor else None


def outcome_of(body: Doc | None, status: int, uri: str | None) -> TaskOutcome | None:
    """The outcome a monitor answer says, or None while the task still runs."""
    doc = body if isinstance(body, dict) else {}
    task_state = doc.get("TaskState") if isinstance(doc.get("TaskState"), str) else None
    task_status = doc.get("TaskStatus") if isinstance(doc.get("TaskStatus"), str) else None
    percent = doc.get("PercentComplete") if isinstance(doc.get("PercentComplete"), int) else None
    raw = [m for m in doc.get("Messages") or [] if isinstance(m, dict)]
    messages = tuple(str(m.get("Message") or m.get("MessageId") or "") for m in raw)
    ids = tuple(str(m.get("MessageId") or "") for m in raw)
    if status == 202 or (task_state in TASK_RUNNING):
        return None
    if status in (404, 410):
        return TaskOutcome("vanished", (f"task {uri} is gone",), uri=uri)
    if status >= 400:
        said = most_severe_message(body) or f"HTTP {status}"
        return TaskOutcome("failed", (said,), task_state=task_state, uri=uri)
    await_reset = any("awaittoactivate" in i.lower() or "awaitingaction" in i.lower() for i in ids)
    if task_state is None:
        # 200/204 with the operation's result rather than a Task: it is done.
        return TaskOutcome("completed", messages, await_reset, uri=uri, message_ids=ids)
    ok = task_state in TASK_DONE_OK and (task_status or "OK").lower() in ("ok", "warning")
    if task_state in TASK_FAILED or not ok:
        worst = most_severe_message({"@Message.ExtendedInfo": raw}) if raw else None
        messages = ((worst,) if worst else ()) + tuple(m for m in messages if m and m != worst)
    return TaskOutcome("completed" if ok else "failed", messages, await_reset, task_state, task_status, percent,
                       uri, ids)


def task_pause(pacing: Pacing, percent: int | None, elapsed: float, retry: float | None = None) -> float:
    """How long to wait before the next poll of a task: ``Retry-After`` (at most ``poll``), or,
    when ``PercentComplete`` says more is left, that estimate (up to 10 polls), so a long firmware
    task costs a few requests rather than hundreds."""
    wait = pacing.poll if retry is None else min(retry, pacing.poll)
    if percent is not None and 5 <= percent < 100 and elapsed > 0:
        left = elapsed * (100 - percent) / percent
        return min(max(wait, left * 0.8), pacing.poll * 10)
    return wait


def wait_task(conn: Any, monitor: str | None, *, timeout: float | None = None, pacing: Pacing | None = None,
              clock: Clock | None = None, on_poll: Callable[[int | None], None] | None = None) -> TaskOutcome:
    """Poll ``monitor`` until the task ends, within ``timeout`` (default ``pacing.task_timeout``).

    A BMC that stops answering while its task runs (it reboots into new firmware) is polled on
    until the deadline; a monitor that disappears is ``vanished``. The pause between polls follows
    ``Retry-After`` and ``PercentComplete`` (``task_pause``). Raises ApplyError when the deadline
    passes with the task still running (or the BMC still away)."""
    pacing = pacing or Pacing()
    clock = clock or Clock()
    if monitor is None:
        return TaskOutcome("vanished", ("the BMC returned no task monitor",))
    limit = timeout if timeout is not None else pacing.task_timeout
    started = clock.now()
    deadline = started + limit
    last = "not polled yet"
    percent: int | None = None
    while True:
        wait = pacing.poll
        remaining = max(1.0, deadline - clock.now())
        try:
            # The connector's deadline is on the real monotonic clock (``clock`` may be a test's).
            resp = conn.request("GET", monitor, deadline=time.monotonic() + min(remaining, conn.timeouts.deadline))
        except UnreachableError as exc:
            last = f"BMC not answering ({exc})"
        else:
            outcome = outcome_of(resp.body, resp.status, monitor)
            if outcome is not None:
                return outcome
            body = resp.body if isinstance(resp.body, dict) else {}
            percent = body.get("PercentComplete") if isinstance(body.get("PercentComplete"), int) else percent
            last = f"{body.get('TaskState') or 'running'}" + (f" {percent}%" if percent is not None else "")
            wait = task_pause(pacing, percent, clock.now() - started, retry_after(resp.header("Retry-After"),
                                                                                 pacing.poll))
        if on_poll is not None:
            on_poll(percent)
        if clock.now() + wait > deadline:
            raise ApplyError(f"{conn.host}: task {monitor} did not end within {limit:g}s (last: {last})")
        clock.sleep(wait)


def task_monitor(task: Mapping[str, Any]) -> str | None:
    """Where to poll a Task listed by the TaskService: its ``TaskMonitor``, else its own URI."""
    value = task.get(TASK_MONITOR) or task.get(ODATA_ID)
    return str(value) if value else None


def task_name(task: Mapping[str, Any]) -> str:
    """A Task's ``Name`` (BMCs name an update task after its image file)."""
    return str(task.get("Name") or "")
