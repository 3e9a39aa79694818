"""Which extension links (the console's) a host page shows to whom (pure)."""

from __future__ import annotations

import pytest

from dcops.models import BmcEndpoint, Host, Protocol
from dcops.web.app import HostLink, host_links
from dcops.web.auth import Role, User

HOST = Host(name="h 1", bmc=BmcEndpoint(address="192.0.2.10", protocol=Protocol.REDFISH), vendor="Dell Inc.")


def _console(host: Host) -> list[HostLink]:
    return [HostLink("console-link", "Console", f"/console/{host.name}", Role.OPERATOR),
            HostLink("info", "Info", "/info", Role.VIEWER)]


@pytest.mark.parametrize(("user", "ids"), [
    (None, []),
    (User("vera", Role.VIEWER), ["info"]),
    (User("olga", Role.OPERATOR), ["console-link", "info"]),
    (User("ada", Role.ADMIN), ["console-link", "info"]),
])
def test_links_by_role(user: User | None, ids: list[str]) -> None:
    assert [link.id for link in host_links([_console], HOST, user)] == ids


def test_console_links_per_vendor() -> None:
    from dcops.console.gateway import ConsoleGateway
    from dcops.console.web import ConsoleWeb
    from dcops.console.web import host_links as console_links

    with_launcher = ConsoleWeb(ConsoleGateway.__new__(ConsoleGateway), hosts=lambda _: None, launcher=object())
    without = ConsoleWeb(with_launcher.gateway, hosts=lambda _: None)
    ipmi = Host(name="h2", bmc=BmcEndpoint(address="192.0.2.11", protocol=Protocol.IPMI))
    assert [(x.id, x.path) for x in console_links(with_launcher, HOST)] == [
        ("console-link", "/console/h%201"), ("graphical-link", "/console/h%201/graphical")]
    assert [x.id for x in console_links(without, HOST)] == ["console-link"]
    assert [x.id for x in console_links(with_launcher, ipmi)] == ["console-link"]
    assert {x.role for x in console_links(with_launcher, HOST)} == {Role.OPERATOR}
