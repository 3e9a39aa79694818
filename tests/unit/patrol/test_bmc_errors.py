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
