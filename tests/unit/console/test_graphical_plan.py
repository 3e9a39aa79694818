"""Which graphical-console launch applies, decided from the Manager document of real vendor
captures (tests/fixtures/redfish), and the URL builders."""

from __future__ import annotations

from typing import Any

import pytest

from dcops.bmc.redfish.oem import dell, hpe, huawei, supermicro
from dcops.console import graphical
from tests.unit.bmc.mockups import _load

MANAGER = {
    "dell-poweredge-r750-idrac9-6.00": "/redfish/v1/Managers/iDRAC.Embedded.1",
    "hpe-proliant-dl360-gen10plus-ilo5-3.11": "/redfish/v1/Managers/1",
    "hpe-proliant-dl380a-gen11-ilo6-1.66": "/redfish/v1/Managers/1",
    "supermicro-sys-821ge-tnhr-x13": "/redfish/v1/Managers/1",
    "huawei-2288h-v5-ibmc-3.12-partial": "/redfish/v1/Managers/1",
    "lenovo-thinksystem-sr670v2-xcc-2.83": "/redfish/v1/Managers/1",
    "gigabyte-h262-z63-ami": "/redfish/v1/Managers/Self",
}


def manager(capture: str) -> dict[str, Any]:
    docs = _load(capture)
    path = MANAGER[capture]
    return next(doc for key, doc in docs.items() if key.rstrip("/").lower() == path.lower())


@pytest.mark.parametrize(("capture", "vendor", "source"), [
    ("dell-poweredge-r750-idrac9-6.00", "dell",
     "/redfish/v1/Managers/iDRAC.Embedded.1/Oem/Dell/DelliDRACCardService"),
    ("hpe-proliant-dl360-gen10plus-ilo5-3.11", "hpe", graphical.SESSIONS),
    ("hpe-proliant-dl380a-gen11-ilo6-1.66", "hpe", graphical.SESSIONS),
    ("supermicro-sys-821ge-tnhr-x13", "supermicro", "/redfish/v1/Managers/1/Oem/Supermicro/IKVM"),
    ("huawei-2288h-v5-ibmc-3.12-partial", "huawei", "/redfish/v1/Managers/1/KvmService"),
])
def test_vendor_launch_from_capture(capture: str, vendor: str, source: str) -> None:
    assert graphical.plan("h1", manager(capture)) == graphical.Plan(vendor, source)


@pytest.mark.parametrize(("capture", "reason"), [
    ("lenovo-thinksystem-sr670v2-xcc-2.83", "XCC publishes no launch URL"),
    ("gigabyte-h262-z63-ami", "KVMIP only"),
])
def test_no_launch_says_why(capture: str, reason: str) -> None:
    with pytest.raises(graphical.LaunchRefused, match=reason):
        graphical.plan("h1", manager(capture))


@pytest.mark.parametrize(("doc", "exc", "reason"), [
    ({"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.1", "Oem": {"Dell": {}}}, graphical.JavaOnly, "Java"),
    ({"Model": "iLO 3", "Oem": {"Hp": {"x": 1}}}, graphical.JavaOnly, "Java/.NET"),
    ({"Oem": {"Supermicro": {"FanMode": {}}}}, graphical.JavaOnly, "Java iKVM"),
    ({"Model": "IMM2", "Oem": {"Lenovo": {}}}, graphical.JavaOnly, "Avocent"),
    ({"Oem": {"Huawei": {"x": 1}}}, graphical.LaunchRefused, "no KvmService"),
    ({}, graphical.LaunchRefused, "no graphical console"),
])
def test_java_only_and_refusals(doc: dict[str, Any], exc: type[Exception], reason: str) -> None:
    with pytest.raises(exc, match=reason):
        graphical.plan("h1", doc)


def test_urls() -> None:
    base = "https://192.0.2.10"
    assert dell.kvm_console_url(base, "root", "kvm1", "t&p") == \
        "https://192.0.2.10/console?username=root&tempUsername=kvm1&tempPassword=t%26p"
    assert hpe.kvm_console_url(base, "ab/c") == "https://192.0.2.10/irc.html?sessionkey=ab%2Fc"
    assert supermicro.kvm_console_url(base, "/redfish/43B99TcSauuMgik.IKVM") == \
        "https://192.0.2.10/redfish/43B99TcSauuMgik.IKVM"
    assert huawei.kvm_key(7, "ff", encrypted=False) == "7"
    assert huawei.kvm_key(7, "ff", encrypted=True) == "00000007ff"
    assert huawei.kvm_console_url(base, "7") == \
        "https://192.0.2.10/remote_access.asp?authParam=7&lp=en&openway=html5"


@pytest.mark.parametrize(("protocol", "vendor", "offered"), [
    ("redfish", "Dell Inc.", True),
    ("redfish", "HPE", True),
    ("auto", "Hewlett Packard Enterprise", True),
    ("redfish", "Supermicro", True),
    ("redfish", "Huawei", True),
    ("redfish", "Lenovo", False),  # XCC: no launch URL that takes a session
    ("redfish", "Contoso", False),
    ("redfish", None, False),
    ("redfish", "Dellware", False),  # a prefix of a name is not the vendor
    ("ipmi", "Dell Inc.", False),  # the launch needs Redfish
])
def test_the_host_page_offers_a_graphical_console(protocol: str, vendor: str | None, offered: bool) -> None:
    from dcops.models import BmcEndpoint, Host, Protocol

    host = Host(name="h1", bmc=BmcEndpoint(address="192.0.2.10", protocol=Protocol(protocol)), vendor=vendor)
    assert graphical.offers_html5(host) is offered
