"""A fleet in a background thread, for tests that use synchronous clients (redfish, sushy, requests).

    with ThreadedFleet(FleetSpec(hosts=2, profiles=("dell",), timings=Timings.preset("fast"))) as sim:
        url = sim.url(0)                     # http://127.0.0.1:PORT
        sim.call(lambda: apply_fault(sim.bmc(0), "psu_fail"))   # state changes run on the fleet's loop
        sim.control.get("/v1/hosts/sim-0001")                    # the control API, as the CLI uses it

Everything binds to 127.0.0.1 on free ports; ``close()`` (or leaving the ``with``) stops it all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from dcops.sim.control import ControlApi
from dcops.sim.fleet import Fleet, FleetSpec
from dcops.sim.state import Bmc

T = TypeVar("T")
log = logging.getLogger(__name__)


class ThreadedFleet:
    def __init__(self, spec: FleetSpec, *, control: bool = True, ssl_context: Any = None,
                 start_timeout: float = 60.0, clock: Callable[[], float] | None = None) -> None:
        self.spec = spec
        # ``clock``: a fake clock (seconds) for tests that drive simulated time (a rebuild that
        # takes ten minutes, an escalation after fifteen) round by round instead of waiting.
        self.fleet = Fleet(spec, clock=clock) if clock is not None else Fleet(spec)
        self.fleet.ssl_context = ssl_context
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="dcops-sim", daemon=True)
        self._thread.start()
        self.api: ControlApi | None = None
        self.control: Any = None
        self._run(self.fleet.start(), start_timeout)
        if control:
            from dcops.sim.runner import ControlClient

            self.api = ControlApi(self.fleet, token="test-token")
            port = self._run(self.api.start(), 10.0)
            self.control = ControlClient(port, "test-token")

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``fn`` on the fleet's event loop thread and return its result."""
        async def wrapper() -> T:
            return fn()

        return self._run(wrapper(), timeout)  # type: ignore[no-any-return]

    def bmc(self, index: int) -> Bmc:
        return self.call(lambda: self.fleet.bmc(index))

    def port(self, index: int) -> int:
        return self.fleet.hosts[index].port

    def url(self, index: int) -> str:
        host = self.fleet.hosts[index]
        return f"{self.fleet.scheme()}://{host.address}:{host.port}"

    @property
    def password(self) -> str:
        return self.fleet.credentials.password

    @property
    def username(self) -> str:
        return self.fleet.credentials.username

    def close(self) -> None:
        """Stop the fleet and its loop. Requests still hanging on a dead BMC (``bmc_unreachable
        mode=hang``) or sleeping out an injected latency are cancelled and their connections cut,
        and every other task left on the loop is cancelled and awaited, so a test that forgot to
        clear its faults neither hangs nor leaves "Task was destroyed but it is pending" behind."""
        if self.loop.is_closed():
            return
        try:
            if self.loop.is_running():
                if self.api is not None:
                    self._run_quietly(self.api.stop(), 10.0)
                self._run_quietly(self.fleet.stop(), 10.0)
                self._run_quietly(_cancel_remaining(), 10.0)
        finally:
            if self.loop.is_running():
                self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10.0)
            if not self._thread.is_alive():
                self.loop.close()

    def _run_quietly(self, coro: Any, timeout: float) -> None:
        """Run ``coro`` on the loop; a step of the shutdown that fails must not stop the next ones."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            future.result(timeout)
        except Exception:  # noqa: BLE001 - shutting down: log and go on
            log.warning("dcops sim: error while stopping the fleet", exc_info=True)
            future.cancel()

    def __enter__(self) -> ThreadedFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _cancel_remaining() -> None:
    """Cancel every task on the running loop but this one, wait for them, and close async generators."""
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks(loop) if t is not me and not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=5.0)
    with contextlib.suppress(Exception):
        await loop.shutdown_asyncgens()
