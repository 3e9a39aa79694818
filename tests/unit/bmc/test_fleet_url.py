"""The fleet reader hands yarl plain URLs as already encoded (skipping its encoder) and only those:
what goes on the wire is the same either way (dcops/bmc/redfish/fleet.py ``_url``)."""

from __future__ import annotations

import pytest
import yarl

from dcops.bmc.redfish.fleet import _url

PLAIN = [
    "https://127.0.0.1:8443/redfish/v1/Systems/System.Embedded.1",
    "https://127.0.0.1:8443/redfish/v1/Chassis/1?$expand=.($levels=1)",
    "https://[::1]:8443/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=2",
    "https://bmc-01.example:443/redfish/v1/Managers/iDRAC.Embedded.1/LogServices/Sel/Entries",
    "http://127.0.0.1:8000/redfish/v1/Chassis/DE00A000?$expand=.($levels=1)&$top=50",
]
QUOTED = [
    "https://127.0.0.1:8443/redfish/v1/Chassis/Chassis 1",  # a space
    "https://127.0.0.1:8443/redfish/v1/Chassis/Gehäuse",  # non-ASCII
    "https://127.0.0.1:8443/redfish/v1/Chassis/a%2Fb",  # an escape: yarl decides
    "https://127.0.0.1:8443/redfish/v1/Systems/1#/Status",  # a fragment is never sent
    "https://127.0.0.1:8443/redfish/v1/Systems?$filter=Name eq 'x'",
    "https://127.0.0.1:8443/redfish/v1/Chassis/1?$expand=*($levels=1)",  # '*': not in the plain set
]


@pytest.mark.parametrize("url", PLAIN)
def test_plain_urls_skip_the_encoder_and_send_the_same(url: str) -> None:
    fast = _url(url)
    assert isinstance(fast, yarl.URL)
    slow = yarl.URL(url)
    assert (fast.raw_host, fast.port, fast.raw_path_qs) == (slow.raw_host, slow.port, slow.raw_path_qs)


@pytest.mark.parametrize("url", QUOTED)
def test_anything_else_is_left_to_the_encoder(url: str) -> None:
    assert _url(url) == url
