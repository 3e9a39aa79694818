"""The heartbeat's config, probe (real loopback sockets), store and exporter families."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.core import Metric

from dcops.errors import InvalidInputError
from dcops.exporter.collectors.heartbeat import build_families
from dcops.heartbeat import store as hstore
from dcops.heartbeat.config import HeartbeatConfig, load_heartbeat_config
from dcops.heartbeat.probe import probe_all
from dcops.heartbeat.targets import Result, Target, answers_elsewhere, targets_of
from dcops.models import BmcEndpoint, Host, Location, NetworkEndpoint
from dcops.store import open_store
from tests.helpers.ipmi_sim import free_port


@pytest.mark.parametrize(("section", "message"), [
    ({"prots": {}}, "unknown key(s): prots"),
    ({"ports": {"biz-a": 0}}, "heartbeat.ports.biz-a: a TCP port 1-65535"),
    ({"ports": [22]}, "heartbeat.ports: a mapping"),
    ({"timeout": "soon"}, "heartbeat.timeout: not a duration"),
    ({"timeout": 0}, "heartbeat.timeout: must be positive"),
    ({"concurrency": 0}, "heartbeat.concurrency: a whole number of 1 or more"),
    ({"group_ratio": 1.5}, "heartbeat.group_ratio: a share"),
    ({"required": {"az1": [1]}}, "heartbeat.required.az1: a list of network names"),
])
def test_bad_config(section: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_heartbeat_config(section)


def test_config_ports_and_required() -> None:
    config = load_heartbeat_config({"ports": {"storage": 3260}, "port": 2222, "timeout": "0.5s",
                                    "required": {"az1": ["biz-a", "storage"], "*": "biz-a"}})
    assert (config.port_of("storage"), config.port_of("biz-a"), config.timeout) == (3260, 2222, 0.5)
    assert config.required_for("az1") == ("biz-a", "storage")
    assert config.required_for("az9") == config.required_for(None) == ("biz-a",)


def test_targets_group_by_switch_else_rack_else_host() -> None:
    def host(name: str, rack: str | None, **nets: NetworkEndpoint) -> Host:
        return Host(name, BmcEndpoint("192.0.2.1"), Location("dc1", "r1" if rack else None, rack),
                    networks=tuple((k.replace("_", "-"), v) for k, v in nets.items()))

    hosts = [host("h1", "A01", mgmt=NetworkEndpoint("192.0.2.11"), biz_a=NetworkEndpoint("198.51.100.1", 80, "tor-1")),
             host("h2", None, mgmt=NetworkEndpoint("192.0.2.12"))]
    targets = {(t.host, t.network): t for t in targets_of(hosts, HeartbeatConfig(ports={"mgmt": 22}, port=7))}
    assert targets[("h1", "mgmt")].group == "rack:dc1/r1/A01" and targets[("h1", "mgmt")].port == 22
    assert targets[("h1", "biz-a")].group == "switch:tor-1" and targets[("h1", "biz-a")].port == 80
    assert targets[("h2", "mgmt")].group == "host:h2"


def test_answers_elsewhere_ignores_mgmt() -> None:
    def r(host: str, net: str, ok: bool) -> Result:
        return Result(Target(host, net, "127.0.0.1", 1, "g", None), ok, 0.0)

    found = answers_elsewhere([r("a", "mgmt", False), r("a", "biz-a", True), r("b", "mgmt", True),
                               r("c", "biz-a", False), r("c", "storage", False)])
    assert found == {"a": True, "c": False}  # b: only mgmt, no evidence either way


def test_probe_up_refused_and_by_name() -> None:
    async def scenario() -> list[Result]:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = int(server.sockets[0].getsockname()[1])
        try:
            targets = [Target("up", "biz-a", "127.0.0.1", port, "g", None),
                       Target("refused", "biz-a", "127.0.0.1", free_port(), "g", None),
                       Target("by-name", "biz-a", "localhost", port, "g", None)]
            return await probe_all(targets, timeout=30, concurrency=2)
        finally:
            server.close()

    results = {r.target.host: r for r in asyncio.run(scenario())}
    assert results["up"].ok and results["by-name"].ok
    assert not results["refused"].ok and results["refused"].error == "connection refused"


def _result(host: str, network: str, ok: bool) -> Result:
    return Result(Target(host, network, "127.0.0.1", 22, "rack:dc1/r1/A01", "dc1/r1/A01", "az1"), ok, 0.01,
                  None if ok else "connection refused")


def test_store_keeps_since_while_the_state_holds(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    t0 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    try:
        assert hstore.save_results(store, [_result("h1", "biz-a", True), _result("h2", "biz-a", True)], t0) == 0
        changed = hstore.save_results(store, [_result("h1", "biz-a", True), _result("h2", "biz-a", False)],
                                      t0 + dt.timedelta(minutes=1))
        assert changed == 1
        rows = {r["host"]: r for r in hstore.latest(store)}
        assert rows["h1"]["since"].replace(tzinfo=dt.UTC) == t0
        assert rows["h2"]["since"].replace(tzinfo=dt.UTC) == t0 + dt.timedelta(minutes=1)
        assert list(hstore.down_networks(store)) == ["h2"]
        hstore.forget_except(store, [("h1", "biz-a")])
        assert [r["host"] for r in hstore.latest(store)] == ["h1"]
        families = build_families(hstore.latest(store))
    finally:
        store.close()
    _promtool_accepts(families)


def test_families() -> None:
    t = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    rows = [{"host": "h1", "network": "biz-a", "grp": "rack:A01", "ok": False, "since": t, "checked_at": t},
            {"host": "h2", "network": "biz-a", "grp": "rack:A01", "ok": True, "since": t, "checked_at": t}]
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in build_families(rows) for s in f.samples}
    assert samples[("dcops_heartbeat_up", (("host", "h1"), ("network", "biz-a")))] == 0.0
    assert samples[("dcops_heartbeat_group_hosts", (("group", "rack:A01"), ("network", "biz-a"), ("state", "down")))] == 1
    assert samples[("dcops_heartbeat_last_probe_timestamp_seconds", ())] == t.timestamp()
    assert build_families([])[-1].name == "dcops_heartbeat_group_hosts"  # no probe yet: no timestamp


def _promtool_accepts(families: list[Metric]) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    class Fixed:
        def collect(self) -> list[Metric]:
            return families

    registry = CollectorRegistry()
    registry.register(Fixed())  # type: ignore[arg-type]
    body = generate_latest(registry)
    promtool = shutil.which("promtool")
    if promtool is None:
        import os

        if os.environ.get("CI"):
            pytest.fail("promtool is needed in CI")
        pytest.skip("promtool is not installed")
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=60)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
