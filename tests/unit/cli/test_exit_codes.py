"""One test per exit code: what a CI pipeline or an SRE sees at the end of a command."""

from __future__ import annotations

import json
import os

import click
import pytest

from dcops.cli import main as main_module
from dcops.cli.common import emit, global_options
from dcops.errors import (
    EXIT_CODE_MEANINGS,
    ApplyError,
    ExitCode,
    UnreachableError,
    worst,
)
from dcops.report import Column, Report


@click.command()
@click.argument("outcome")
@global_options
def probe(outcome: str) -> None:
    """A command that ends the way it is told to, to exercise the CLI's error mapping."""
    if outcome == "findings":
        report = Report(kind="probe", items=[{"host": "db-01", "drift": 2}], columns=[Column("host", "HOST")])
        report.note(ExitCode.FINDINGS, "db-01: 2 differences")
        emit(report)
    elif outcome == "unreachable":
        raise UnreachableError("db-01: BMC did not answer within 10 s")
    elif outcome == "apply":
        raise ApplyError('db-01: bios apply: BMC said "SYS011: Pending configuration values are already committed"')
    elif outcome == "bug":
        raise RuntimeError("unexpected None")
    elif outcome == "interrupt":
        raise KeyboardInterrupt
    emit(Report(kind="probe"))


@pytest.fixture(autouse=True)
def _register_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    main_module.cli.add_command(probe, "probe")
    yield
    main_module.cli.commands.pop("probe", None)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main_module.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_0_done(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--version")
    assert (code, out.strip(), err) == (0, "dcops 0.1.0", "")


def test_1_findings_are_data_not_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "probe", "findings", "-o", "json")
    assert code == ExitCode.FINDINGS
    body = json.loads(out)
    assert body["items"] == [{"host": "db-01", "drift": 2}] and body["exit_code"] == 1
    assert err == "dcops: db-01: 2 differences\n"


def test_2_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "state", "info", "--no-such-option")
    assert code == ExitCode.USAGE
    assert "No such option" in err and out == ""


def test_2_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "frobnicate")
    assert code == ExitCode.USAGE and "No such command" in err


def test_3_invalid_input_names_the_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("state: sqlite:///x.db\noutput: json: table\n")
    code, out, err = run(capsys, "--config", str(config), "state", "info")
    assert code == ExitCode.INVALID_INPUT
    assert err.startswith(f"dcops: error: {config}:2:") and out == ""


def test_3_unknown_config_key(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("stat: sqlite:///x.db\n")
    code, _, err = run(capsys, "state", "info", "--config", str(config))
    assert code == ExitCode.INVALID_INPUT and "unknown config key(s): stat" in err


def test_4_incomplete(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "probe", "unreachable")
    assert code == ExitCode.INCOMPLETE
    assert err == "dcops: error: db-01: BMC did not answer within 10 s\n"


def test_5_apply_failed(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "probe", "apply")
    assert code == ExitCode.APPLY_FAILED and "SYS011" in err and err.count("\n") == 1


def test_70_internal_error_hides_the_traceback_unless_debug(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "probe", "bug")
    assert code == ExitCode.INTERNAL
    assert "Traceback" not in err and "RuntimeError: unexpected None" in err and "--debug" in err
    code, _, err = run(capsys, "probe", "bug", "--debug")
    assert code == ExitCode.INTERNAL and "Traceback (most recent call last)" in err


def test_130_interrupted(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "probe", "interrupt")
    # click starts a fresh line first (after the ^C a terminal echoes)
    assert code == ExitCode.INTERRUPTED and err.strip() == "dcops: error: interrupted"


def test_global_options_work_before_and_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["-o", "json", "probe", "ok"], ["probe", "ok", "--output", "json"]):
        code, out, _ = run(capsys, *argv)
        assert code == 0 and json.loads(out)["kind"] == "probe"


@pytest.mark.parametrize("codes, expected", [
    ((), ExitCode.OK),
    ((0, 1), ExitCode.FINDINGS),
    ((1, 3), ExitCode.INVALID_INPUT),
    ((3, 4, 1), ExitCode.INCOMPLETE),
    ((4, 5), ExitCode.APPLY_FAILED),
    ((5, 70, 4), ExitCode.INTERNAL),
])
def test_most_severe_code_wins(codes: tuple[int, ...], expected: ExitCode) -> None:
    assert worst(*codes) == expected


def test_every_code_is_documented() -> None:
    with open(os.path.join(os.path.dirname(__file__), "../../../docs/exit-codes.md"), encoding="utf-8") as f:
        doc = f.read()
    for code in ExitCode:
        assert f"| {int(code)} |" in doc, f"exit code {int(code)} missing from docs/exit-codes.md"
        assert code in EXIT_CODE_MEANINGS


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "dcops", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "dcops 0.1.0"


def test_completion_script_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "completion", "bash")
    assert code == 0 and "_DCOPS_COMPLETE" in out
