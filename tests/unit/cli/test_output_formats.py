"""Output formats for people and programs: -o table|wide|json|yaml|csv, --columns, tables that fit
80 columns (cut with …, never wrapped mid token), progress on stderr only."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest
import yaml

from dcops.cli.common import progress
from tests.helpers.cli import SITE, run


def test_yaml_is_the_json_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    _, as_json, _ = run(capsys, "-i", SITE, "inventory", "list", "-l", "rack=A01", "-o", "json")
    code, as_yaml, _ = run(capsys, "-i", SITE, "inventory", "list", "-l", "rack=A01", "-o", "yaml")
    assert code == 0 and yaml.safe_load(as_yaml) == json.loads(as_json)


def test_csv_with_chosen_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-i", SITE, "inventory", "list", "-l", "rack=A01:&role=db", "-o", "csv",
                         "--columns", "name,AZ,warranty_end")
    assert (code, err) == (0, "")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["name", "az", "warranty_end"]
    assert [r[:2] for r in rows[1:]] == [["trade-db-01", "az1"], ["trade-db-02", "az1"]]


def test_wide_shows_every_field_uncut_and_columns_narrows_a_table(capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    _, table, _ = run(capsys, "-i", SITE, "inventory", "list", "-l", "trade-db-01")
    _, wide, _ = run(capsys, "-i", SITE, "inventory", "list", "-l", "trade-db-01", "-o", "wide")
    assert "VENDOR" not in table and "VENDOR" in wide and "PROFILE" in wide
    assert "…" not in wide and "dell-r750-db" in wide and "site.yaml:71" in wide
    _, narrow, _ = run(capsys, "-i", SITE, "inventory", "list", "-l", "trade-db-01", "--columns", "name,role")
    assert narrow.splitlines()[0].split() == ["NAME", "ROLE"] and narrow.splitlines()[1].split() == ["trade-db-01", "db"]


def test_an_unknown_column_is_named_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-i", SITE, "inventory", "list", "-l", "web-01", "--columns", "name,colour")
    assert code == 0 and out.splitlines()[0].split() == ["NAME"]
    assert "dcops: warning: no column 'colour'; columns: name, bmc_url" in err


def test_at_80_columns_cells_are_cut_with_an_ellipsis_never_wrapped(capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "-i", SITE, "inventory", "list", "-l", "rack=A0*")
    lines = out.splitlines()
    assert code == 0 and all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "…" in out
    # one line per host plus header and summary: nothing wrapped onto a second line
    assert len(lines) == 18 + 2
    names = [line.split()[0] for line in lines[1:-1]]
    assert names[:3] == ["trade-gw-01", "trade-gw-02", "trade-oms-01"]  # the first column stays whole


def test_piped_tables_are_neither_cut_nor_wrapped(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    _, out, _ = run(capsys, "-i", SITE, "inventory", "list", "-l", "rack=A0*")
    assert "…" not in out and len(out.splitlines()) == 20


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_stderr_never_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    err, out = _Tty(), _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    with progress(3, "power status") as advance:
        advance(1, 0)
        advance(1, 1)
        advance(1, 0)
    assert out.getvalue() == ""
    assert "power status" in err.getvalue() and "1 failed" in err.getvalue()


def test_no_progress_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with progress(3, "power status") as advance:
        advance(1, 0)
    assert err.getvalue() == ""
