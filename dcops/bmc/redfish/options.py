"""When a GET with a query option (``$expand``, ``$select``) fails, whether to blame the option
rather than the resource (pure; no I/O).

Only the plain GET of the same resource can tell. A BMC that fails an option says so in many ways:
DSP0266 asks for 501 (or 400 for a bad value), but Dell iDRAC9 documents 400, 404 or 405 for
``$expand`` on a URI that does not support it, and a 500 when one sub-resource's license or
privilege is missing ("a failure in sub resource may cause a failure in the entire output",
iDRAC9 Redfish API Guide 4.20, "Query parameters"); iDRAC8 2.63+ answers a Manager's ``$expand``
with "No sufficient LICENSE" (bb-Ricardo/check_redfish#151); others answer 200 with a body that is
not a document. Listing statuses that mean "refused" missed those, and the resource was then read
as failed every minute: a Dell chassis without its sensors, its health unknown.

So every failure with a status may be the option's, except the statuses that are no verdict on
anything the request asked (credentials, a busy or restarting service: the plain GET would fail
the same way now and the option would be blamed for nothing). The caller then asks plainly: a
plain answer that is a document convicts the option (not asked of that BMC again); a plain
failure is the resource's, and is what the read reports.
"""

from __future__ import annotations

# Credentials (401) and a busy, overloaded or restarting service (408, 429, 502, 503, 504).
NO_VERDICT = frozenset({401, 408, 429, 502, 503, 504})


def may_blame_option(status: int | None) -> bool:
    """Whether a GET with a query option that failed with ``status`` (None: no answer at all, a
    timeout or a dropped connection) should be asked again without the option."""
    return status is not None and status not in NO_VERDICT
