"""A BMC that answers but cannot be used (5xx, malformed bodies) is ``bmc_errors``; a resource it
simply lacks is not (patrol.checks.check_bmc_errors)."""

from __future__ import annotations

import pytest

from dcops.observation import ReadError
from dcops.patrol.checks import check_bmc_errors
from dcops.patrol.model import Policy


@pytest.mark.parametrize(("errors", "summary"), [
    ([], None),
    ([ReadError("/redfish/v1/Chassis/1/Sensors", "HTTP 404")], None),
    ([ReadError("sel", "unsupported")], None),
    ([ReadError("/redfish/v1/Systems/1", "HTTP 200")],
     "BMC answers with errors: malformed response (HTTP 200 whose body is not a JSON document) for "
     "/redfish/v1/Systems/1"),
    ([ReadError("/redfish/v1/Systems/1", "HTTP 500: InternalError: boom"), ReadError("Sel entries", "HTTP 503")],
     "BMC answers with errors: HTTP 500: InternalError: boom for /redfish/v1/Systems/1 (+1 more)"),
])
def test_check_bmc_errors(errors: list[ReadError], summary: str | None) -> None:
    event = check_bmc_errors("h1", errors, Policy())
    assert (event.summary if event else None) == summary
    if event is not None:
        assert (event.part, event.condition.value, event.severity.value, event.info.kind) == \
            ("bmc", "bmc_errors", "warning", "bmc")


@pytest.mark.parametrize(("error", "condition", "summary"), [
    ("h1: connection refused", "bmc_unreachable", "BMC does not answer: h1: connection refused"),
    ("h1: no complete answer within 20s", "bmc_unreachable", "BMC does not answer: h1: no complete answer within 20s"),
    ("h1: /redfish/v1/: HTTP 500: InternalError: boom", "bmc_errors",
     "BMC answers with errors: h1: /redfish/v1/: HTTP 500: InternalError: boom"),
    ("h1: /redfish/v1/Systems/1: HTTP 200", "bmc_errors",
     "BMC answers with errors: h1: /redfish/v1/Systems/1: malformed response (HTTP 200 whose body is not a JSON "
     "document)"),
])
def test_a_visit_that_failed(error: str, condition: str, summary: str) -> None:
    import datetime as dt

    from dcops.patrol.checks import check_host
    from dcops.patrol.model import HostMemory

    check = check_host("h1", None, HostMemory(), dt.datetime(2026, 1, 1, tzinfo=dt.UTC), Policy(), error=error)
    [event] = check.events
    assert (event.condition.value, event.summary) == (condition, summary)
