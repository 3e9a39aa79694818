"""The JSON contract: schema_version in every envelope, a schema per kind under docs/schemas/
(the suite's conftest validates every JSON output against them), times with a zone, and a
failing command that still prints its envelope with `problems`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dcops.cli.common import kind_of
from dcops.patrol import store as pstore
from dcops.report import SCHEMA_VERSION, Report
from dcops.store import open_store
from tests.helpers.cli import REPO, SITE, leaf_commands, run
from tests.helpers.contract import SCHEMAS, ContractError, check_envelope, validator
from tests.integration.patrol.helpers import psu_incident


def test_every_command_has_a_schema_and_every_schema_is_valid_and_documented() -> None:
    kinds = {kind_of(p) for p, _ in leaf_commands()}
    files = {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")} - {"envelope"}
    assert kinds - files == set(), "commands whose failure envelope has no schema"
    documented = (REPO / "docs" / "output.md").read_text()
    for kind in sorted(files):
        validator(kind)  # a valid 2020-12 schema that resolves its $ref
        assert f"`{kind}`" in documented, f"docs/output.md does not list kind {kind}"


def test_the_checker_can_fail() -> None:
    good = Report(kind="power.status", items=[{"host": "web-01", "power": "on", "error": None}]).to_json()
    assert good["schema_version"] == SCHEMA_VERSION == 1
    with pytest.raises(ContractError, match="no schema for kind"):
        check_envelope({**good, "kind": "power.sideways"})
    with pytest.raises(ContractError, match="Additional properties"):
        check_envelope({**good, "items": [{"host": "web-01", "power": "on", "error": None, "extra": 1}]})
    with pytest.raises(ContractError, match="'error' is a required property"):
        check_envelope({**good, "items": [{"host": "web-01", "power": "on"}]})  # shape changed
    audit = {"schema_version": 1, "kind": "audit.list", "summary": {}, "exit_code": 0,
             "items": [{"id": 1, "at": "2026-12-07T06:45:00", "actor": "a", "host": None, "action": "x",
                        "result": "ok", "before": None, "after": None, "details": None, "run_id": None}]}
    with pytest.raises(ContractError, match="is not a .date-time."):
        check_envelope(audit)
    with pytest.raises(ContractError, match="times without a zone"):
        check_envelope({**good, "summary": {"hosts": 1, "at": "2026-12-07 06:45:00"}})


@pytest.mark.parametrize(("argv", "code", "problem"), [
    (["-i", "/nonexistent/site.yaml", "power", "status", "web-01"], 3, "no such file"),
    (["-i", SITE, "power", "status", "no-such-host"], 2, "no host 'no-such-host'"),
    (["-i", SITE, "bmc", "show", "-l", "nothing-*"], 2, "no host matches"),
    (["capacity", "racks", "-l", "az=az1"], 2, "does not apply"),
])
def test_a_failing_command_still_prints_its_envelope(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                     code: int, problem: str) -> None:
    got, out, err = run(capsys, *argv, "-o", "json")
    assert got == code
    body = json.loads(out)
    assert body["items"] == [] and body["exit_code"] == code and body["schema_version"] == 1
    assert any(problem in p for p in body["problems"]) and problem in err


def test_failure_envelope_kind_names_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "-i", SITE, "power", "status", "no-such-host", "-o", "json")
    assert json.loads(out)["kind"] == "power.status"
    _, out, _ = run(capsys, "-i", SITE, "boot", "no-such-host", "--once", "pxe", "-o", "json")
    assert json.loads(out)["kind"] == "boot"


def test_a_table_failure_prints_nothing_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-i", SITE, "power", "status", "no-such-host")
    assert code == 2 and out == "" and "no host 'no-such-host'" in err


def test_times_are_iso_8601_with_a_zone_in_json_and_short_in_tables(capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("DCOPS_STATE", url)
    store = open_store(url)
    opened = dt.datetime(2026, 12, 7, 6, 45, tzinfo=dt.UTC)
    pstore.save_incident(store, psu_incident(opened))
    store.close()
    _, out, _ = run(capsys, "alerts", "list", "-o", "json")
    [item] = json.loads(out)["items"]
    assert dt.datetime.fromisoformat(item["opened"]) == opened  # was "12-07 06:45", no year, no zone
    _, out, _ = run(capsys, "alerts", "list")
    assert opened.astimezone().strftime("%m-%d %H:%M") in out


def test_patrol_report_honours_output_json(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path / 'state.db'}")
    code, out, _ = run(capsys, "-i", SITE, "patrol", "report", "-o", "json")
    body = json.loads(out)
    assert code == 0 and body["kind"] == "patrol.report" and body["summary"]["hosts"] == 47
    code, again, _ = run(capsys, "-i", SITE, "patrol", "report", "--format", "json")
    assert json.loads(again)["summary"]["hosts"] == 47


def test_the_suite_checks_every_envelope_it_makes() -> None:
    """tests/conftest.py wraps Report.to_json: an output no schema describes fails the test that made it."""
    with pytest.raises(ContractError):
        Report(kind="power.status", items=[{"host": "web-01"}]).to_json()
