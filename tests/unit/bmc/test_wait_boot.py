"""When a boot has reached what the caller waits for, from successive BootProgress reads.

Each case is the sequence of (power state, BootProgress.LastState, LastStateTime) the BMC answers,
one per poll, after a reset issued when LastStateTime was ``T0``.
"""

from __future__ import annotations

from typing import Any

import pytest

from dcops.bmc.redfish.drivers import RedfishPower
from dcops.bmc.redfish.tasks import Pacing
from dcops.errors import ApplyError
from dcops.observation import PowerState

ON, OFF = PowerState.ON, PowerState.OFF
T0, T1 = "2026-11-21T08:00:00Z", "2026-11-21T08:05:00Z"


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class FakeShared:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.pacing = Pacing(poll=1.0, settle=5.0)

    def host(self) -> str:
        return "h1"


def power_with(reads: list[tuple[PowerState, str | None, str | None]]) -> RedfishPower:
    power = RedfishPower.__new__(RedfishPower)
    power.s = FakeShared()  # type: ignore[assignment]
    answers = iter(reads)
    last: list[Any] = [reads[-1]]

    def boot_progress() -> tuple[PowerState, str | None, str | None]:
        last[0] = next(answers, last[0])
        return last[0]  # type: ignore[no-any-return]

    power.boot_progress = boot_progress  # type: ignore[method-assign]
    return power


@pytest.mark.parametrize("until, reads, reached", [
    # An installer that powers the host off: seen on, then off.
    ("power-off", [(ON, "OSBootStarted", T1), (ON, "OSRunning", T1), (OFF, "OSRunning", T1)], True),
    # So fast that the first poll already sees it off again: the new LastStateTime proves the boot.
    ("power-off", [(OFF, "OSRunning", T1)], True),
    # Still off with the old LastStateTime: the host never booted; waiting runs to the deadline.
    ("power-off", [(OFF, "None", T0)], False),
    ("post", [(OFF, None, T0), (ON, "PrimaryProcessorInitializationStarted", T1), (ON, "OSBootStarted", T1)], True),
    ("os-running", [(ON, "OSBootStarted", T1), (ON, "OSRunning", T1)], True),
    ("os-running", [(ON, "OSBootStarted", T1)], False),
])
def test_wait_boot(until: str, reads: list[tuple[PowerState, str | None, str | None]], reached: bool) -> None:
    power = power_with(reads)
    if reached:
        power.wait_boot(T0, until=until, deadline=30.0)
    else:
        with pytest.raises(ApplyError, match=f"did not reach {until}"):
            power.wait_boot(T0, until=until, deadline=30.0)


@pytest.mark.parametrize("until, before, reads, reached", [
    # iLO 5 / XCC 2.x: no BootProgress, no LastResetTime; a warm reset never shows the host off.
    # The accepted reset is the boot; POST counts as done after `settle` seconds on.
    ("post", None, [(ON, None, None)], True),
    # An installer that powers off, on such a BMC: on (after the reset), then off.
    ("power-off", None, [(ON, None, None), (ON, None, None), (OFF, None, None)], True),
    # iDRAC9 6.00: no BootProgress, but LastResetTime moves with the reset: that is the stamp.
    ("post", T0, [(ON, None, T0), (ON, None, T1)], True),
    # Nothing can say the OS runs without BootProgress.
    ("os-running", None, [(ON, None, None)], False),
])
def test_wait_boot_without_boot_progress(until: str, before: str | None,
                                         reads: list[tuple[PowerState, str | None, str | None]],
                                         reached: bool) -> None:
    power = power_with(reads)
    if reached:
        power.wait_boot(before, until=until, deadline=30.0)
        assert power.s.clock.now() < 30.0  # type: ignore[attr-defined]
    else:
        with pytest.raises(ApplyError, match=f"did not reach {until}"):
            power.wait_boot(before, until=until, deadline=30.0)
