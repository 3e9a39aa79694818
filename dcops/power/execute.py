"""Execute a PowerPlan: wave by wave, hosts of a wave in parallel, then verify.

Open: power on, poll until on. Close: graceful shutdown, poll until off; when the graceful
timeout passes, force off only if ``force`` was given, otherwise the host is a straggler.
Between waves: the policy's pause (cut short by Ctrl-C). Before each next wave: stop when the
failures so far exceed the policy's threshold. At the end every planned host is read once more;
those not in the target state are reported as stragglers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dcops.bmc.base import Bmc
from dcops.errors import DcopsError, UnreachableError
from dcops.observation import PowerState
from dcops.power.plan import PowerPlan
from dcops.power.policy import Policy

TARGETS = {"on": PowerState.ON, "off": PowerState.OFF}
log = logging.getLogger(__name__)


@dataclass
class HostResult:
    host: str
    wave: int
    before: str = "unknown"
    after: str = "unknown"
    result: str = "pending"  # ok | already | forced | failed | straggler | skipped | unverified | unknown
    message: str | None = None
    seconds: float = 0.0
    # Set once the BMC accepted the power request: from then on a failure is "unverified" (the
    # action was carried out, its effect not seen), never "failed", so nobody retries it blindly.
    requested: bool = False
    sending: bool = False


@dataclass
class Outcome:
    plan: PowerPlan
    results: dict[str, HostResult] = field(default_factory=dict)
    stopped_after_wave: int | None = None
    stop_reason: str | None = None
    internal_errors: list[str] = field(default_factory=list)  # hosts that hit a bug in dcops
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def failed(self) -> list[HostResult]:
        with self.lock:
            results = list(self.results.values())
        return [r for r in results if r.result in ("failed", "straggler", "unverified", "unknown")]

    def record(self, result: HostResult) -> None:
        with self.lock:
            self.results[result.host] = result


def _guarded(result: HostResult, outcome: Outcome, what: str, body: Callable[[], None]) -> None:
    """Run one host's part; a failure stays with that host.

    Expected failures (DcopsError: unreachable, refused, unreadable answer) mark the host failed.
    Anything else is a bug in dcops: it is logged with its traceback and the host marked failed
    too, so that one host's bug cannot stop a market-close sequence half-way through the racks
    (the CLI then exits 70 after the run). Before, a FetchError (a BMC answering a status read
    with a 500 or a truncated body) escaped the worker and ended the run with exit 70.
    """
    try:
        body()
    except UnreachableError as exc:
        if result.sending and not result.requested:
            # The request went out and no answer came back: the BMC may have carried it out.
            result.result, result.message = "unknown", f"{what}no answer to the power request, it may have been " \
                                                       f"carried out: {exc}"
        else:
            _failed(result, what, exc)
    except DcopsError as exc:
        _failed(result, what, exc)
    except Exception as exc:  # noqa: BLE001 - see the docstring: reported as an internal error
        log.exception("%s: internal error", result.host)
        result.result, result.message = "failed", f"{what}internal error: {type(exc).__name__}: {exc}"
        with outcome.lock:
            outcome.internal_errors.append(result.host)


def _failed(result: HostResult, what: str, exc: DcopsError) -> None:
    if result.result in ("unverified", "unknown"):  # the verification read failed too: still not known
        result.message = f"{result.message}; {what}{exc}"
    elif result.requested and not what:
        result.result = "unverified"
        result.message = f"the BMC accepted the power request; reading the state back failed: {exc}"
    else:
        result.result, result.message = "failed", f"{what}{exc}"


def too_many_failures(failed: int, planned: int, policy: Policy) -> bool:
    if policy.max_failed is not None and failed >= policy.max_failed:
        return True
    return policy.max_failed_ratio is not None and planned > 0 and failed / planned > policy.max_failed_ratio


def _switch(bmc: Bmc, target: PowerState, policy: Policy, force: bool, result: HostResult,
            stop: threading.Event, on_start: Callable[[HostResult], None] | None = None) -> None:
    started = time.monotonic()
    before = bmc.power.status()
    result.before = before.value
    if before is target:
        result.after, result.result = before.value, "already"
        return
    if on_start is not None:
        on_start(result)  # the audit intent, before the BMC is asked
    result.sending = True
    bmc.power.request("on" if target is PowerState.ON else "off")
    result.requested = True
    limit = policy.verify_timeout if target is PowerState.ON else policy.graceful_timeout
    # The host's time to get there runs from the request, not from before the audit intent was
    # written (that write may wait behind other hosts' on a busy store).
    state = _wait(bmc, target, time.monotonic() + limit, policy.poll_seconds, stop)
    if state is not target and target is PowerState.OFF and force and not stop.is_set():
        bmc.power.request("force-off")
        state = _wait(bmc, target, time.monotonic() + policy.verify_timeout, policy.poll_seconds, stop)
        result.result = "forced" if state is target else "straggler"
    else:
        result.result = "ok" if state is target else "straggler"
    result.after = state.value
    if result.result == "straggler":
        result.message = f"still {state.value} after {time.monotonic() - started:.0f}s" + (
            "" if force or target is PowerState.ON else " (graceful shutdown; --force to force off)")


def _wait(bmc: Bmc, target: PowerState, until: float, poll: float, stop: threading.Event) -> PowerState:
    state = bmc.power.status()
    while state is not target and time.monotonic() < until and not stop.is_set():
        stop.wait(min(poll, max(0.0, until - time.monotonic())))
        state = bmc.power.status()
    return state


def execute(plan: PowerPlan, policy: Policy, open_bmc: Callable[[str], Bmc], *, force: bool = False,
            parallel: int | None = None, on_host: Callable[[HostResult], None] | None = None,
            on_start: Callable[[HostResult], None] | None = None,
            on_wave: Callable[[int], None] | None = None, sleep: Callable[[float], bool] | None = None) -> Outcome:
    """Run the plan. ``open_bmc(name)`` gives a Bmc (closed here). ``sleep(seconds)`` pauses between
    waves and returns False to stop (a Ctrl-C handler); by default an interruptible wait.
    ``on_start(result)`` runs just before a host's power request (the audit intent; if it raises,
    the host is not switched); ``on_host(result)`` after the host is done."""
    target = TARGETS[plan.target]
    outcome = Outcome(plan)
    stop = threading.Event()
    pause = sleep or (lambda s: not stop.wait(s))
    planned = len(plan.hosts)
    for wave in plan.waves:
        for name in wave.hosts:
            outcome.results[name] = HostResult(name, wave.index, result="skipped")
    try:
        for position, wave in enumerate(plan.waves):
            if on_wave:
                on_wave(wave.index)

            def run(name: str, wave_index: int = wave.index) -> HostResult:
                result = HostResult(name, wave_index)
                started = time.monotonic()

                def switch() -> None:
                    with open_bmc(name) as bmc:
                        _switch(bmc, target, policy, force, result, stop, on_start)

                _guarded(result, outcome, "", switch)
                result.seconds = round(time.monotonic() - started, 3)
                outcome.record(result)
                if on_host:
                    on_host(result)
                return result

            workers = max(1, min(len(wave.hosts), parallel or len(wave.hosts)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"wave{wave.index}") as pool:
                list(pool.map(run, wave.hosts))
            failed = len(outcome.failed())
            last = position == len(plan.waves) - 1
            if not last and too_many_failures(failed, planned, policy):
                outcome.stopped_after_wave = wave.index
                outcome.stop_reason = f"{failed} of {planned} hosts failed: stop-on-failure threshold reached"
                break
            if not last and plan.pause_seconds > 0 and not pause(plan.pause_seconds):
                outcome.stopped_after_wave = wave.index
                outcome.stop_reason = "interrupted"
                break
    except KeyboardInterrupt:
        stop.set()
        raise
    return outcome


def verify(outcome: Outcome, open_bmc: Callable[[str], Bmc], parallel: int = 50) -> list[HostResult]:
    """Read every host that ran once more; mark those not in the target state as stragglers."""
    target = TARGETS[outcome.plan.target]
    ran = [r for r in outcome.results.values() if r.result not in ("skipped",)]

    def check(result: HostResult) -> None:
        def read() -> None:
            with open_bmc(result.host) as bmc:
                state = bmc.power.status()
            result.after = state.value
            if state is target and result.result in ("unverified", "unknown"):
                result.result, result.message = "ok", "confirmed at verification (the first read-back failed)"
            elif state is not target and result.result not in ("failed",):
                result.result = "straggler"
                result.message = result.message or f"{state.value} at verification"

        _guarded(result, outcome, "verify: ", read)

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(ran) or 1))) as pool:
        list(pool.map(check, ran))
    return outcome.failed()
