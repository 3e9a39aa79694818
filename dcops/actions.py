"""Running an action over hosts, as every command that acts on servers does it: in parallel with
progress, outcomes per host (one dead BMC does not stop the fleet), confirmation before a change,
and audit records of intent and outcome.

Below the front ends: the command line (``dcops.cli``) passes its ``--parallel``, its progress bar
and its terminal through a ``Frontend``; a long-running service or the web UI passes its own. This
module imports no front end.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import DcopsError, UnreachableError, UsageError
from dcops.models import Host
from dcops.report import Report

# progress(total, description) -> a context yielding advance(done=1, failed=0)
Progress = Callable[[int, str], contextlib.AbstractContextManager[Callable[[int, int], None]]]


@contextlib.contextmanager
def no_progress(_total: int, _description: str) -> Iterator[Callable[[int, int], None]]:
    def advance(done: int = 1, failed: int = 0) -> None:
        return None

    yield advance


def _nobody_to_ask(_question: str) -> None:
    raise UsageError("this changes hardware: confirm with --yes (no terminal to ask on)")


@dataclass(frozen=True)
class Frontend:
    """What a front end lends an action: how many hosts at once, how progress shows, where the
    state store (audit) is, and how to tell and ask the person (``ask`` returns when they agree
    and raises when they do not)."""

    parallel: int = 1
    progress: Progress = no_progress
    state_url: str = ""
    say: Callable[[str], None] = field(default=lambda _line: None)
    ask: Callable[[str], None] = _nobody_to_ask
    interactive: Callable[[], bool] = field(default=lambda: sys.stdin.isatty())


@dataclass
class Outcome:
    host: Host
    value: Any = None
    error: DcopsError | None = None


def run_on_hosts(hosts: Sequence[Host], action: Callable[[Host], Any], description: str,
                 via: Frontend) -> list[Outcome]:
    """Run ``action`` on every host, ``via.parallel`` at a time, with progress; errors stay per host."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    with via.progress(len(hosts), description) as advance, \
            ThreadPoolExecutor(max_workers=max(1, min(via.parallel, len(hosts)))) as pool:
        futures = {pool.submit(action, host): host for host in hosts}
        try:
            for future in as_completed(futures):
                host = futures[future]
                try:
                    outcome = Outcome(host, value=future.result())
                except DcopsError as exc:
                    outcome = Outcome(host, error=exc)
                with lock:
                    outcomes.append(outcome)
                advance(1, 1 if outcome.error else 0)
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
    order = {h.name: i for i, h in enumerate(hosts)}
    return sorted(outcomes, key=lambda o: order[o.host.name])


def confirm(summary: str, yes: bool, via: Frontend) -> None:
    """Show what will happen and ask, unless ``yes``. Without a terminal, ``yes`` is required."""
    via.say(summary)
    if yes:
        return
    if not via.interactive():
        _nobody_to_ask(summary)
    via.ask("Proceed?")


class Auditor:
    """Append audit entries, opening the store once per command."""

    def __init__(self, url: str) -> None:
        # The store URL is given, not looked up: records are written from worker threads.
        self._url = url
        self._store: Any = None
        self._lock = threading.Lock()

    def record(self, action: str, host: str | None, *, result: str = "ok", before: Any = None,
               after: Any = None, details: str | None = None, intent_id: int | None = None) -> None:
        from dcops.store import audit

        with self._lock:
            audit.record(self._opened(), action, host=host, result=result, before=before, after=after,
                         details=details, intent_id=intent_id)

    def start(self, action: str, host: str | None, *, before: Any = None, details: str | None = None) -> int:
        """Write the intent of an action before it runs (see ``store.audit.start``); returns its id."""
        from dcops.store import audit

        with self._lock:
            return int(audit.start(self._opened(), action, host=host, before=before, details=details))

    def finish(self, intent: int, action: str, host: str | None, *, result: str = "ok", before: Any = None,
               after: Any = None, details: str | None = None) -> None:
        """Write the outcome of the action ``start`` announced."""
        from dcops.store import audit

        with self._lock:
            audit.finish(self._opened(), intent, action, host=host, result=result, before=before, after=after,
                         details=details)

    @contextmanager
    def intent(self, action: str, host: str | None, *, before: Any = None,
               details: str | None = None) -> Iterator[Callable[..., None]]:
        """Audit around an action: "started" now, the outcome when the body calls ``done(result,
        after=...)``; a body that raises without calling it records "failed" (the BMC refused) or
        "unknown" (no answer: it may have acted). A crash records nothing more, which ``dcops audit
        verify`` shows as "started, outcome unknown"."""
        ident = self.start(action, host, before=before, details=details)
        finished = False

        def done(result: str = "ok", *, after: Any = None, note: str | None = None) -> None:
            nonlocal finished
            self.finish(ident, action, host, result=result, before=before, after=after, details=note or details)
            finished = True

        try:
            yield done
        except UnreachableError as exc:
            if not finished:
                self.finish(ident, action, host, result="unknown", before=before,
                            details=f"no answer, it may have been carried out: {exc}")
            raise
        except DcopsError as exc:
            if not finished:
                self.finish(ident, action, host, result="failed", before=before, details=str(exc))
            raise

    def _opened(self) -> Any:
        if self._store is None:
            from dcops.store import open_store

            self._store = open_store(self._url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def note_errors(report: Report, outcomes: Sequence[Outcome], what: str) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            report.note(outcome.error.exit_code, f"error: {outcome.host.name}: {what}: {outcome.error}"
                        if not str(outcome.error).startswith(outcome.host.name) else f"error: {outcome.error}")


