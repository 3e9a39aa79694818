"""IpmiSession.call: pyghmi's generator calls (get_sensor_data, get_event_log) send their requests
while iterated; that happens inside call, so a BMC lost half-way is an UnreachableError (and a BMC
refusal an ApplyError), never a raw pyghmi exception escaping the fleet's error handling; and a
BMC pyghmi has no OEM module for is asked its device id once per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyghmi import exceptions as ipmi_exc

from dcops.bmc.ipmi import IpmiSession, _settle_oem
from dcops.errors import ApplyError, UnreachableError
from dcops.models import BmcEndpoint, Protocol
from dcops.secrets import Secret


class FakeCmd:
    def __init__(self, fail_with: str | None) -> None:
        self.fail_with = fail_with
        self.ipmi_session = self

    def logout(self) -> None:
        pass

    def get_sensor_data(self) -> Iterator[str]:
        yield "Inlet Temp"
        if self.fail_with is not None:
            raise ipmi_exc.IpmiException(self.fail_with)
        yield "Fan1"


def session(fail_with: str | None) -> IpmiSession:
    s = IpmiSession("h1", BmcEndpoint("127.0.0.1", 6230, Protocol.IPMI, username="admin"), Secret("pw"))
    s._cmd = FakeCmd(fail_with)
    return s


@pytest.mark.parametrize(("fail_with", "error"), [
    (None, None),
    ("timeout", UnreachableError),
    ("Session no longer connected", UnreachableError),
    ("Requested sensor, data, or record not present", ApplyError),
])
def test_generator_calls_are_iterated_inside_the_translation(fail_with: str | None, error: Any) -> None:
    s = session(fail_with)
    if error is None:
        assert s.call("sensors", "get_sensor_data") == ["Inlet Temp", "Fan1"]
        return
    with pytest.raises(error, match="h1: IPMI sensors"):
        s.call("sensors", "get_sensor_data")


class OemCmd:
    def __init__(self, known: bool) -> None:
        self.known, self.asked, self._oemknown, self._oem = known, 0, False, None

    def oem_init(self) -> None:  # pyghmi: asks Get Device ID until the OEM is known
        if self._oemknown:
            return
        self.asked += 1
        self._oem, self._oemknown = object(), self.known


@pytest.mark.parametrize("known", [True, False])
def test_device_id_asked_once_per_session(known: bool) -> None:
    cmd = OemCmd(known)
    _settle_oem(cmd)
    for _ in range(3):
        cmd.oem_init()
    assert cmd.asked == 1
