"""Nodes cut off a network their AZ requires are failed, with the reason (capacity.networks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dcops.capacity.model import NodeState
from dcops.capacity.networks import fail_unreachable
from tests.unit.capacity.helpers import node, snapshot

SINCE = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def row(network: str) -> dict[str, Any]:
    return {"network": network, "address": "198.51.100.7", "error": "connection refused", "since": SINCE}


REQUIRED = {"az1": ("biz-a", "storage"), "az2": ("biz-a",)}


@pytest.mark.parametrize(("name", "az", "down", "state", "reason"), [
    ("cmp-1", "az1", {"cmp-1": [row("biz-a")]}, NodeState.FAILED,
     "unreachable on network biz-a (198.51.100.7: connection refused since 2026-12-07 12:00:00), required in az1"),
    ("cmp-1", "az2", {"cmp-1": [row("storage")]}, NodeState.UP, None),  # az2 does not need storage
    ("cmp-1.example.org", "az1", {"cmp-1": [row("storage")]}, NodeState.FAILED, "network storage"),  # short name
    ("cmp-1", "az3", {"cmp-1": [row("biz-a")]}, NodeState.UP, None),  # nothing required in az3
    ("cmp-2", "az1", {"cmp-1": [row("biz-a")]}, NodeState.UP, None),
])
def test_fail_unreachable(name: str, az: str, down: dict[str, list[dict[str, Any]]], state: NodeState,
                          reason: str | None) -> None:
    snap, notes = fail_unreachable(snapshot(node(name, az, None)), down, lambda a: REQUIRED.get(a or "", ()))
    (found,) = snap.nodes
    assert found.state is state
    if reason is None:
        assert found.reason is None and not notes
    else:
        assert found.reason is not None and reason in found.reason
        assert notes == [f"{az}: 1 node(s) counted as failed, unreachable on a network the AZ requires: "
                         f"{name} ({down[next(iter(down))][0]['network']})"]


def test_a_node_already_down_keeps_its_own_reason() -> None:
    down_node = node("cmp-1", "az1", None, state=NodeState.DOWN)
    snap, notes = fail_unreachable(snapshot(down_node), {"cmp-1": [row("biz-a")]}, lambda a: ("biz-a",))
    assert snap.nodes[0].state is NodeState.DOWN and not notes
