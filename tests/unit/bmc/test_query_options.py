"""When a GET with a query option fails, whether the option may be to blame (options.py): every
answered failure except those that are no verdict on the request (credentials, a busy service);
no answer at all never blames it."""

from __future__ import annotations

import pytest

from dcops.bmc.redfish.options import NO_VERDICT, may_blame_option

CASES = [
    (400, True),  # DSP0266: a bad query value; Dell iDRAC9: $expand on an unsupported URI
    (403, True),
    (404, True),  # Dell iDRAC9: "400/404/405 status code instead of 501"
    (405, True),
    (406, True),
    (500, True),  # Dell iDRAC9/iDRAC8: a sub-resource's license fails the whole expanded output
    (501, True),  # DSP0266: the option is not implemented
    (200, True),  # answered, but not a document (garbage after an error body, not JSON)
    (401, False),  # the credentials: the plain GET fails the same way
    (408, False),
    (429, False),  # busy: ask again later, blame nothing
    (502, False),
    (503, False),
    (504, False),
    (None, False),  # no answer: a timeout or a dropped connection
]


@pytest.mark.parametrize(("status", "blame"), CASES)
def test_which_failures_may_be_the_options(status: int | None, blame: bool) -> None:
    assert may_blame_option(status) is blame


def test_every_no_verdict_status_is_in_the_table() -> None:
    assert {s for s, _ in CASES} >= NO_VERDICT
