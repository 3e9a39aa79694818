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


def _said(body: bytes) -> str:
    """What the Redfish reader says of a 200 with this body (the words patrol must classify)."""
    from dcops.bmc.redfish.jsonbody import decode

    doc, problem = decode(body)
    assert doc is None and problem, body
    return problem


def test_the_sim_cut_reads_as_truncated_json() -> None:
    """The table below holds what the reader really says of the sim's malformed_json bodies."""
    assert _said(b'{"Name": ' + b'",,').startswith("truncated JSON")


# What a patrol round sees of a BMC whose system and chassis documents are not usable (the
# convergence corpus's "a BMC answering broken JSON": dcops sim's malformed_json fault cuts each
# body in half and appends '",,', which the reader reports as truncated JSON). Broken JSON is the
# BMC's fault: one bmc_errors event naming what could not be read. A document that parses but is
# not a Redfish object, or a read that got no answer, is "unreadable": the BMC may be fine.
@pytest.mark.parametrize(("reason", "condition"), [
    # The sim's cut landing before a value: '",,' opens a string that never ends (truncated JSON).
    (_said(b'{"@odata.id": "/redfish/v1/Systems/1", "Name": ' + b'",,'), "bmc_errors"),
    (_said(b'{"@odata.id": "/redfish/v1/Systems/1", "Na' + b'",,'), "bmc_errors"),  # elsewhere: not JSON
    (_said(b'{"@odata.id": "/redfish/v1/Systems/1", "Status": {"Health": "OK"'), "bmc_errors"),
    (_said(b"<html><body>502 Bad Gateway</body></html>"), "bmc_errors"),
    (_said(b'{"a": 1} trailing'), "bmc_errors"),
    (_said(b"[" * 2000 + b"]" * 2000), "bmc_errors"),
    (_said(b'{"a": NaN}'), "bmc_errors"),
    ("HTTP 500: InternalError: boom", "bmc_errors"),
    ("not a JSON object", "unreadable"),
    ("no complete answer within 20s", "unreadable"),
])
def test_unusable_system_documents_are_one_event_by_what_the_reader_saw(reason: str, condition: str) -> None:
    import datetime as dt

    from dcops.observation import Observation
    from dcops.patrol.checks import check_host
    from dcops.patrol.model import HostMemory

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    obs = Observation("h1", now, "redfish",
                      errors=(ReadError("/redfish/v1/Systems/1", reason), ReadError("/redfish/v1/Chassis/1", reason),
                              ReadError("systems", "no computer system could be read: health unknown")),
                      unreadable=(f"/redfish/v1/Systems/1: {reason}", f"/redfish/v1/Chassis/1: {reason}"))
    check = check_host("h1", obs, HostMemory(), now, Policy(), sections=("components",))
    [event] = [e for e in check.events if e.info.kind == "bmc"]
    assert event.condition.value == condition
    assert event.diagnosis["unreadable"] == list(obs.unreadable)
    assert not [e for e in check.events if e.part == "system"]  # one root cause, no "health unknown" twin
