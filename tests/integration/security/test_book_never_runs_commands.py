"""Book data never becomes code (issue 15, item 1).

A ``cmd:`` password reference that reaches dcops from an inventory file or an imported legacy book
is refused with the file and line, and the command never runs: each case points the command at a
script that would leave a marker file, and asserts the marker is absent. The operator's config
file may define the command under ``credentials:``, and the book names it with ``cred:NAME``: that
path is shown working end to end against ``dcops sim``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from dcops import secrets
from dcops.cli.main import main
from dcops.errors import CredentialError
from tests.helpers.simfleet import PASSWORD, fleet


def _script(tmp_path: Path, name: str = "pw.sh") -> tuple[Path, Path]:
    """A secret-store stand-in that prints the password and leaves a marker when it runs."""
    marker = tmp_path / f"{name}.ran"
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\necho '{PASSWORD}'\n")
    os.chmod(script, 0o755)
    return script, marker


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    monkeypatch.setenv("DCOPS_CONFIG", str(tmp_path / "config.yaml"))
    (tmp_path / "config.yaml").write_text("{}\n")
    return tmp_path


def test_resolve_refuses_cmd_unless_the_operator_gave_it(tmp_path: Path) -> None:
    script, marker = _script(tmp_path)
    with pytest.raises(CredentialError, match="not run from inventory data"):
        secrets.resolve(f"cmd:{script}")
    assert not marker.exists()
    assert secrets.resolve(f"cmd:{script}", trusted=True).reveal() == PASSWORD
    assert marker.exists()
    # Having been run once for the operator does not make the same reference usable from the book.
    with pytest.raises(CredentialError):
        secrets.resolve(f"cmd:{script}")


def test_named_credential_runs_the_operators_command(tmp_path: Path) -> None:
    script, marker = _script(tmp_path)
    secrets.use_named_credentials({"dc1": f"cmd:{script}"})
    assert secrets.runs_command("cred:dc1") and not secrets.runs_command("env:X")
    assert secrets.resolve("cred:dc1").reveal() == PASSWORD and marker.exists()
    with pytest.raises(CredentialError, match="cred:dc2 is not defined"):
        secrets.resolve("cred:dc2")


@pytest.mark.parametrize("ref, wrong", [
    ("cmd:pass show dc/bmc", "not allowed in inventory data"),
    ("env:BMC", None), ("file:/etc/dcops/bmc", None), ("cred:dc1", None), ("prompt", None),
    ("cred:", "names nothing"),
])
def test_book_references(ref: str, wrong: str | None) -> None:
    found = secrets.check_reference(ref, book=True)
    assert (found is None) if wrong is None else (wrong in (found or ""))


@pytest.mark.parametrize("section, wrong", [
    ({"a": "cmd:pass x"}, None),
    ({"a": "cred:b"}, "cannot name another"),
    ({"a": "hunter2"}, "not the password itself"),
    ({"a": 3}, "must be a reference string"),
    (["cmd:x"], "must be a mapping"),
])
def test_config_credentials_checked(section: object, wrong: str | None) -> None:
    found = secrets.check_named_credentials(section)
    assert (found == []) if wrong is None else any(wrong in f for f in found)


def test_inventory_with_cmd_is_refused_with_file_and_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script, marker = _script(env)
    book = env / "site.yaml"
    book.write_text("version: 1\nhosts:\n  - name: h1\n    bmc:\n      address: 127.0.0.1\n"
                    f"      password: 'cmd:{script}'\n")
    code, _, err = run(capsys, "power", "status", "-i", str(book), "h1")
    assert code == 3
    assert f"{book}:6:" in err and "not allowed in inventory data" in err
    assert not marker.exists()


def test_imported_column_holding_cmd_is_refused_with_row(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script, marker = _script(env)
    csv = env / "legacy.csv"
    csv.write_text(f"Hostname,BMC IP,Secret\nh1,127.0.0.1,env:BMC\nh2,127.0.0.2,cmd:{script}\n", encoding="utf-8")
    mapping = env / "map.yaml"
    mapping.write_text("version: 1\ncolumns:\n  name: Hostname\n  bmc.address: BMC IP\n  bmc.password: Secret\n")
    into = env / "site.yaml"
    code, _, err = run(capsys, "inventory", "import", str(csv), "--mapping", str(mapping), "--into", str(into),
                       "--write")
    assert code == 3 and f"{csv}:3:" in err and "not allowed in inventory data" in err, err
    assert not into.exists() and not marker.exists()
    # A mapping constant is book data too: it is written into every imported host.
    mapping.write_text("version: 1\ncolumns:\n  name: Hostname\n  bmc.address: BMC IP\n"
                       f"constants:\n  bmc.password: 'cmd:{script}'\n")
    code, _, err = run(capsys, "inventory", "import", str(csv), "--mapping", str(mapping))
    assert code == 3 and f"{mapping}:6:" in err and not marker.exists(), err


@pytest.mark.timeout(60)
def test_named_credential_from_config_works_against_the_simulator(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script, marker = _script(env)
    (env / "config.yaml").write_text(yaml.safe_dump({"credentials": {"sim": f"cmd:{script}"}}))
    with fleet(1) as sim:
        inv = sim.fleet.write_inventory(env / "sim.yaml", "cred:sim")
        name = sim.fleet.hosts[0].name
        code, out, err = run(capsys, "power", "status", "-i", str(inv), name, "-o", "json")
        assert code == 0, err
        assert json.loads(out)["items"][0]["power"] in ("on", "off")
    assert marker.exists()


def test_bad_config_credentials_exit_3(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "config.yaml").write_text(yaml.safe_dump({"credentials": {"a": "cred:b"}}))
    code, _, err = run(capsys, "audit", "list")
    assert code == 3 and "cannot name another" in err and "config.yaml" in err


def test_import_dry_run_warns_when_a_named_credential_runs_a_command(
        env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script, marker = _script(env)
    (env / "config.yaml").write_text(yaml.safe_dump({"credentials": {"vault": f"cmd:{script}"}}))
    csv = env / "legacy.csv"
    csv.write_text("Hostname,BMC IP,Secret\nh1,127.0.0.1,cred:vault\nh2,127.0.0.2,env:X\n", encoding="utf-8")
    mapping = env / "map.yaml"
    mapping.write_text("version: 1\ncolumns:\n  name: Hostname\n  bmc.address: BMC IP\n  bmc.password: Secret\n")
    code, _, err = run(capsys, "inventory", "import", str(csv), "--mapping", str(mapping))
    assert code == 0, err
    assert "1 host(s) use cred:vault, which runs a command from your config" in err
    assert not marker.exists()  # a dry run shows it, never runs it
