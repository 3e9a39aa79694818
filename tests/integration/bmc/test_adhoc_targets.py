"""Ad-hoc targets against `dcops sim`: `dcops bmc show --bmc ADDRESS` (no inventory at all) and
`dcops bmc get PATH` (a raw Redfish GET with the same session handling: logged in, logged out)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.sim.testing import ThreadedFleet
from tests.helpers.simfleet import PASSWORD, fleet, requests, sessions, wait_for

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedFleet]:
    monkeypatch.setenv("ADHOC_PW", PASSWORD)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    with fleet(1, ("dell-r750",)) as running:
        yield running


def _adhoc(sim: ThreadedFleet) -> list[str]:
    return ["--bmc", f"http://127.0.0.1:{sim.port(0)}", "--user", sim.username, "--password-ref", "env:ADHOC_PW"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err
    return code, out, err


def test_bmc_show_a_bmc_not_in_the_book(sim: ThreadedFleet, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "bmc", "show", *_adhoc(sim), "--section", "components", "-o", "json")
    assert code in (0, 1), err
    [item] = json.loads(out)["items"]
    assert item["host"] == "127.0.0.1" and item["reachable"] is True
    assert item["identity"]["model"] == "PowerEdge R750"
    wait_for(lambda: sessions(sim, 0) == 0, 10, "the session to be closed")


def test_bmc_get_prints_the_resource_with_session_handling(sim: ThreadedFleet,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "bmc", "get", "Systems", *_adhoc(sim))
    assert code == 0, err
    members = json.loads(out)["Members"]
    assert members and members[0]["@odata.id"].startswith("/redfish/v1/Systems/")
    log = requests(sim, 0)
    assert any(method == "POST" and path.endswith("/SessionService/Sessions") for _, _, method, path, _, _ in log)
    assert any(method == "GET" and path == "/redfish/v1/Systems" and status == 200
               for _, _, method, path, status, _ in log)
    wait_for(lambda: sessions(sim, 0) == 0, 10, "the session to be closed")


def test_bmc_get_of_a_missing_resource_is_a_usage_error(sim: ThreadedFleet,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "bmc", "get", "/redfish/v1/NoSuchThing", *_adhoc(sim))
    assert code == 2
    assert err.startswith("dcops: error: 127.0.0.1: GET /redfish/v1/NoSuchThing: HTTP 404")


def test_bmc_get_a_host_of_the_book(sim: ThreadedFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", PASSWORD)
    inventory = str(sim.fleet.write_inventory(tmp_path / "site.yaml", "env:DCOPS_TEST_BMC_PW"))
    name = sim.fleet.hosts[0].name
    code, out, err = run(capsys, "bmc", "get", "/redfish/v1/Managers", name, "-i", inventory)
    assert code == 0, err
    assert json.loads(out)["Members"]


@pytest.mark.parametrize(("argv", "message"), [
    (["bmc", "show", "web-01", "--bmc", "10.0.0.5"], "--bmc names the target"),
    (["bmc", "show", "--user", "root"], "go with --bmc ADDRESS"),
    (["bmc", "get", "Systems"], "name the HOST (or give --bmc ADDRESS)"),
    (["bmc", "show", "--bmc", "10.0.0.5:abc"], "the port must be a number"),
])
def test_adhoc_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err
