"""A dead BMC does not change the shape of the JSON items: every host asked about has an item,
with the same keys as a live one, unknown values null and `error` set (docs/output.md)."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dcops.cli.main import main
from dcops.sim.testing import ThreadedFleet
from tests.helpers.simfleet import PASSWORD, fleet

pytestmark = pytest.mark.timeout(120)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when we leave: connections are refused


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, str]]:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", PASSWORD)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    with fleet(1, ("dell-r750",)) as sim:
        doc = sim.fleet.inventory_document("env:DCOPS_TEST_BMC_PW", None)
        hosts = doc["sites"][0]["rooms"][0]["racks"][0]["hosts"]
        dead = copy.deepcopy(hosts[0])
        dead.update({"name": "dead-01", "u": 20})
        dead["bmc"]["port"] = _closed_port()
        dead["asset"] = {"serial": "DEAD0001"}
        hosts.append(dead)
        path = tmp_path / "site.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        yield str(path), _live(sim), "dead-01"


def _live(sim: ThreadedFleet) -> str:
    return sim.fleet.hosts[0].name


@pytest.mark.parametrize("argv", [
    ["power", "status"],
    ["bmc", "show", "--section", "components"],
    ["vmedia", "status"],
    ["boot", "--once", "pxe", "--yes"],
    ["power", "on", "--yes", "--no-wait"],
    ["patrol", "run", "--all"],
    ["assets", "collect"],
])
def test_an_unreachable_host_keeps_the_item_shape(book: tuple[str, str, str], argv: list[str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    inventory, live, dead = book
    code = main([*argv, "-i", inventory, "-l", f"{live},{dead}", "-o", "json"])
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err
    assert code == 4, err  # incomplete: results are partial
    body = json.loads(out)
    items = body["items"]
    by_host: dict[str, set[str]] = {}
    for item in items:
        by_host.setdefault(item["host"], set()).update(item)
    assert set(by_host) == {live, dead}, "every host asked about has an item"
    assert by_host[live] == by_host[dead]
    dead_items = [i for i in items if i["host"] == dead]
    assert all(i["error"] for i in dead_items)
    assert all(i["error"] is None for i in items if i["host"] == live)
