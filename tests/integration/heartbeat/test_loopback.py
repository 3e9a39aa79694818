"""Heartbeats over real sockets: each host's business addresses are 127.x listeners this test
stops. One network down on one rack is one incident naming the network and the rack; the heartbeat
state is stored; `dcops capacity check` counts those nodes failed and says why."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from dcops.capacity.snapshot import write_snapshot
from dcops.cli.main import main
from dcops.heartbeat import store as hstore
from dcops.heartbeat.config import load_heartbeat_config
from dcops.heartbeat.monitor import Monitor
from dcops.heartbeat.targets import Result
from dcops.inventory import load_inventory
from dcops.models import Host
from dcops.patrol.converge import ConvergeState, converge
from dcops.patrol.model import Condition, HostCheck, HostMemory, Policy, Scope
from dcops.patrol.networks import check_networks
from dcops.store import open_store
from tests.unit.capacity.helpers import node, snapshot

NETWORKS = {"mgmt": 1, "biz-a": 2, "storage": 3}
HOSTS = [("cmp-1", "A01"), ("cmp-2", "A01"), ("cmp-3", "A01"), ("cmp-4", "A01"), ("cmp-5", "A02"),
         ("cmp-6", "A02"), ("cmp-7", "A02")]


def address(index: int, network: str) -> str:
    return f"127.23.{NETWORKS[network]}.{index + 1}"


def book(port: int) -> str:
    racks: dict[str, list[str]] = {}
    for i, (name, rack) in enumerate(HOSTS):
        nets = ", ".join(f"{n}: {address(i, n)}" for n in NETWORKS)
        racks.setdefault(rack, []).append(f"              - {{name: {name}, u: {i + 1}, bmc: {{address: 192.0.2.{i + 1}}}, "
                                          f"networks: {{{nets}}}}}")
    lines = ["version: 1", "defaults: {az: az1}", "sites:", "  - name: dc1", "    rooms:", "      - name: r1",
             "        racks:"]
    for rack, hosts in racks.items():
        lines += [f"          - name: {rack}", "            hosts:", *hosts]
    return "\n".join(lines) + "\n"


async def _listen(port: int) -> dict[tuple[int, str], asyncio.Server]:
    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    return {(i, n): await asyncio.start_server(accept, address(i, n), port)
            for i in range(len(HOSTS)) for n in NETWORKS}


def checks(hosts: list[Host]) -> list[HostCheck]:
    return [HostCheck(h.name, (), frozenset(Scope), HostMemory(power="on"), reachable=True,
                      site="dc1", room="r1", rack=h.location.rack) for h in hosts]


def test_one_network_down_on_one_rack(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers.ipmi_sim import free_port

    port = free_port()
    path = tmp_path / "book.yaml"
    path.write_text(book(port))
    hosts = list(load_inventory([path]).hosts)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url)
    config = load_heartbeat_config({"port": port, "timeout": 5, "required": {"az1": ["biz-a"]}})
    monitor = Monitor(hosts, config, store)
    assert len(monitor.targets) == len(HOSTS) * len(NETWORKS)
    policy = Policy().with_hysteresis(open_after=1, close_after=1)
    state = ConvergeState()
    now = dt.datetime.now(dt.UTC)

    async def scenario() -> tuple[list[Result], list[Result]]:
        servers = await _listen(port)
        try:
            healthy = await monitor.probe()
            monitor.save(healthy, now)
            for (i, network), server in servers.items():
                if network == "biz-a" and HOSTS[i][1] == "A01":
                    server.close()  # rack A01's biz-a switch dies
                    await server.wait_closed()
            broken = await monitor.probe()
            monitor.save(broken, now + dt.timedelta(minutes=1))
            return healthy, broken
        finally:
            for server in servers.values():
                server.close()

    healthy, broken = asyncio.run(scenario())
    assert all(r.ok for r in healthy)
    assert sorted(r.target.host for r in broken if not r.ok) == ["cmp-1", "cmp-2", "cmp-3", "cmp-4"]

    first = converge(state, checks(hosts), policy, now, networks=check_networks(healthy, policy))
    assert not first.opened
    second = converge(state, checks(hosts), policy, now + dt.timedelta(minutes=1),
                      networks=check_networks(broken, policy))
    (incident,) = second.opened
    assert incident.condition is Condition.NETWORK_DOWN
    assert (incident.host, incident.part) == ("dc1/r1/A01", "network:biz-a")
    assert "network biz-a down on rack dc1/r1/A01: 4 of 4 hosts" in incident.summary
    assert len(incident.children) == 4

    rows = {(r["host"], r["network"]): r for r in hstore.latest(store)}
    assert rows[("cmp-1", "biz-a")]["ok"] is False and rows[("cmp-5", "biz-a")]["ok"] is True
    assert rows[("cmp-1", "biz-a")]["error"] == "connection refused"
    store.close()

    # Capacity: the four nodes cut off biz-a (required in az1) are failed, and the output says why.
    snap = tmp_path / "snapshot.json"
    write_snapshot(snapshot(*(node(name, "az1", None, memory=(262144, 26214)) for name, _ in HOSTS)), snap)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(json.dumps({"heartbeat": {"required": {"az1": ["biz-a"]}}}))
    monkeypatch.chdir(tmp_path)
    code = main(["--config", str(cfg), "--state", url, "-i", str(path), "-o", "json", "capacity", "check",
                 "--from-file", str(snap), "--q", "VCPU=off"])
    out, err = capsys.readouterr()
    result = json.loads(out)
    unavailable = {u["name"]: u for u in result["summary"]["by_az"]["az1"]["unavailable"]}
    assert sorted(unavailable) == ["cmp-1", "cmp-2", "cmp-3", "cmp-4"], (code, out, err)
    assert all(u["state"] == "failed" and "unreachable on network biz-a" in u["reason"]
               and "required in az1" in u["reason"] for u in unavailable.values())
    assert "counted as failed, unreachable on a network the AZ requires" in out + err
