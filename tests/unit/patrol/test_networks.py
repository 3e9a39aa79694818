"""Heartbeat results -> patrol events and incidents (patrol.networks, patrol.converge): one network
down behind one rack or switch is one incident naming both; a host alone is its own; a rack whose
BMCs went dark while its hosts answer on a business network is a management network loss."""

from __future__ import annotations

import datetime as dt

import pytest

from dcops.heartbeat.targets import Result, Target
from dcops.patrol.converge import ConvergeState, converge
from dcops.patrol.model import Condition, HostCheck, HostMemory, Policy, Scope, Severity
from dcops.patrol.networks import check_networks

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
RACK = "dc1/r1/A01"
POLICY = Policy().with_hysteresis(open_after=1, close_after=1)


def beat(host: str, network: str, ok: bool, *, rack: str = RACK, switch: str | None = None) -> Result:
    group = f"switch:{switch}" if switch else f"rack:{rack}"
    return Result(Target(host, network, "127.0.0.1", 1, group, rack, "az1"), ok, 0.001,
                  None if ok else "connection refused")


def fleet(down: dict[str, set[str]], hosts: int = 4, nets: tuple[str, ...] = ("mgmt", "biz-a", "storage"),
          switch: str | None = None) -> list[Result]:
    """``hosts`` hosts in RACK on ``nets``; ``down``: network -> hosts that do not answer."""
    return [beat(f"h{i}", n, f"h{i}" not in down.get(n, set()), switch=switch if n == "biz-a" else None)
            for i in range(1, hosts + 1) for n in nets]


def check(host: str, reachable: bool = True, inband: bool | None = None) -> HostCheck:
    scopes = frozenset(Scope) if reachable else frozenset()
    return HostCheck(host, (), scopes, HostMemory(power="on"), reachable=reachable, site="dc1", room="r1",
                     rack="A01", inband=inband)


ALL = {"h1", "h2", "h3", "h4"}


@pytest.mark.parametrize(("down", "groups", "host_events"), [
    ({}, [], {}),
    ({"biz-a": {"h2"}}, [], {"h2": ["network:biz-a"]}),
    ({"biz-a": {"h2", "h3"}}, [], {"h2": ["network:biz-a"], "h3": ["network:biz-a"]}),  # 2 of 4: not > 0.5
    ({"biz-a": {"h1", "h2", "h3"}}, [(RACK, "network:biz-a", 3)], {}),
    ({"biz-a": ALL, "storage": {"h4"}}, [(RACK, "network:biz-a", 4)], {"h4": ["network:storage"]}),
])
def test_groups(down: dict[str, set[str]], groups: list[tuple[str, str, int]],
                host_events: dict[str, list[str]]) -> None:
    found = check_networks(fleet(down), POLICY)
    assert [(g.event.host, g.event.part, len(g.children)) for g in found.groups] == groups
    assert {h: [e.part for e in evs] for h, evs in found.host_events.items()} == host_events
    assert all(g.event.condition is Condition.NETWORK_DOWN for g in found.groups)


def test_switch_named_by_the_book_is_the_group() -> None:
    found = check_networks(fleet({"biz-a": ALL}, switch="tor-a01-b"), POLICY)
    (group,) = found.groups
    assert group.event.host == "tor-a01-b" and group.event.diagnosis["switch"] == "tor-a01-b"
    assert "network biz-a down on switch tor-a01-b" in group.event.summary


def test_one_network_down_on_one_rack_is_one_incident_then_resolves() -> None:
    state = ConvergeState()
    checks = [check(f"h{i}") for i in range(1, 5)]
    result = converge(state, checks, POLICY, NOW, networks=check_networks(fleet({"biz-a": ALL}), POLICY))
    (incident,) = result.opened
    assert (incident.host, incident.part, incident.condition) == (RACK, "network:biz-a", Condition.NETWORK_DOWN)
    assert incident.location == {"site": "dc1", "room": "r1", "rack": "A01"}
    assert sorted(c["host"] for c in incident.children) == ["h1", "h2", "h3", "h4"]
    again = converge(state, checks, POLICY, NOW + dt.timedelta(minutes=1),
                     networks=check_networks(fleet({"biz-a": ALL}), POLICY))
    assert not again.opened and len(state.incidents) == 1
    # A round without heartbeats (patrol run) knows nothing about networks: the incident stays.
    blind = converge(state, checks, POLICY, NOW + dt.timedelta(minutes=2))
    assert not blind.resolved
    healed = converge(state, checks, POLICY, NOW + dt.timedelta(minutes=3),
                      networks=check_networks(fleet({}), POLICY))
    assert [i.id for i in healed.resolved] == [incident.id]


def test_management_switch_loss_is_not_a_power_loss() -> None:
    """Every BMC of the rack dark and the mgmt network down with them, while the hosts answer on
    biz-a and storage: one incident, the rack's management network loss (critical), naming mgmt."""
    nets = check_networks(fleet({"mgmt": ALL}), POLICY)
    answering = {f"h{i}": True for i in range(1, 5)}
    checks = [check(f"h{i}", reachable=False, inband=answering[f"h{i}"]) for i in range(1, 5)]
    result = converge(ConvergeState(), checks, POLICY, NOW, networks=nets)
    (incident,) = result.opened
    assert incident.condition is Condition.RACK_UNREACHABLE and incident.severity is Severity.CRITICAL
    assert incident.diagnosis["cause"] == "management network"
    assert incident.diagnosis["networks_down"] == ["mgmt"]
    assert "management network loss" in incident.summary
    assert any(c["part"] == "network:mgmt" for c in incident.children)


def test_rack_power_loss_takes_every_network_down_with_it() -> None:
    nets = check_networks(fleet({"mgmt": ALL, "biz-a": ALL, "storage": ALL}), POLICY)
    checks = [check(f"h{i}", reachable=False, inband=False) for i in range(1, 5)]
    result = converge(ConvergeState(), checks, POLICY, NOW, networks=nets)
    (incident,) = result.opened
    assert incident.condition is Condition.RACK_POWER_LOSS and incident.severity is Severity.EMERGENCY
    assert incident.diagnosis["networks_down"] == ["biz-a", "mgmt", "storage"]


def test_a_dead_server_is_one_incident_not_one_per_network() -> None:
    """One host's BMC dark and none of its networks answering (the rest of the rack fine): one
    bmc_unreachable incident that says the host is silent everywhere, its networks as children."""
    from dcops.patrol.model import Event, PartInfo

    dark = Event("h2", "bmc", Condition.BMC_UNREACHABLE, Severity.CRITICAL, "BMC does not answer",
                 PartInfo(kind="bmc"))
    checks = [check("h1"), HostCheck("h2", (dark,), frozenset(), HostMemory(power="on"), reachable=False, site="dc1",
                                     room="r1", rack="A01"), check("h3"), check("h4")]
    nets = check_networks(fleet({"mgmt": {"h2"}, "biz-a": {"h2"}, "storage": {"h2"}}), POLICY)
    assert nets.silent == {"h2"}
    result = converge(ConvergeState(), checks, POLICY, NOW, networks=nets)
    (incident,) = result.opened
    assert incident.condition is Condition.BMC_UNREACHABLE
    assert "answers on none of its networks (biz-a, mgmt, storage)" in incident.summary
    assert sorted(c["part"] for c in incident.children) == ["network:biz-a", "network:mgmt", "network:storage"]
    # A host whose BMC is dark but that answers on a business network: two separate facts.
    nets = check_networks(fleet({"mgmt": {"h2"}}), POLICY)
    result = converge(ConvergeState(), checks, POLICY, NOW, networks=nets)
    assert sorted(i.condition.value for i in result.opened) == ["bmc_unreachable", "network_unreachable"]
