"""Install footprint and first contact: optional extras with an error naming them, LICENSE in the
wheel, a port in use as one line, suggestions for mistyped commands, `dcops help exit-codes`."""

from __future__ import annotations

import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dcops.errors import EXIT_CODE_MEANINGS, MissingExtraError
from tests.helpers.cli import REPO, run


def test_a_missing_openstack_extra_is_named(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openstack", None)  # as if openstacksdk were not installed
    monkeypatch.delitem(sys.modules, "dcops.capacity.openstack_source", raising=False)
    code, out, err = run(capsys, "capacity", "check", "--cloud", "prod")
    assert code == 2 and out == ""
    assert err == ("dcops: error: reading an OpenStack cloud needs the 'openstack' extra (openstacksdk is not "
                   "installed): pip install 'dcops[openstack]'\n")


def test_a_missing_provision_extra_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dcops.ansible import run_playbook

    monkeypatch.setitem(sys.modules, "ansible_runner", None)
    (tmp_path / "site.yml").write_text("- hosts: all\n  tasks: []\n")
    with pytest.raises(MissingExtraError, match=r"pip install 'dcops\[provision\]'"):
        run_playbook(tmp_path / "site.yml", hosts={"h1": {}})


@pytest.mark.slow
def test_the_wheel_carries_the_license_and_declares_the_extras(tmp_path: Path) -> None:
    # No build isolation: pip would fetch setuptools from an index (the loopback guard stops it);
    # the test extras install the build tools this needs.
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "--no-index", "-w", str(tmp_path), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("dcops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "dcops/inventory/mappings/netbox-devices.yaml" in names
    for extra in ("openstack", "provision", "all"):
        assert f"Provides-Extra: {extra}" in metadata
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    for dist in ("openstacksdk", "ansible-runner", "ansible-core"):
        assert all("extra ==" in line for line in requires if line.split()[1].startswith(dist)), dist


def test_a_port_in_use_is_one_line_not_an_internal_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, "serve", "--no-patrol", "--listen", f"127.0.0.1:{port}",
                             "--state", f"sqlite:///{tmp_path}/s.db")
    assert code == 2 and out == ""
    assert err == f"dcops: error: --listen 127.0.0.1:{port}: cannot listen there: address already in use " \
                  "(another dcops serve?)\n"


@pytest.mark.parametrize(("argv", "hint"), [
    (["invetory", "list"], "Did you mean 'inventory'?"),
    (["patorl"], "Did you mean 'patrol'?"),
    (["inventory", "lst"], "Did you mean 'list'?"),
])
def test_typos_get_a_suggestion(capsys: pytest.CaptureFixture[str], argv: list[str], hint: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count(hint) == 1


def test_help_exit_codes_exists_as_advertised(capsys: pytest.CaptureFixture[str]) -> None:
    _, top, _ = run(capsys, "--help")
    assert "dcops help exit-codes" in top
    code, out, _ = run(capsys, "help", "exit-codes")
    assert code == 0
    for exit_code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"{int(exit_code):>4}  {meaning}" in out
    code, out, _ = run(capsys, "help", "power", "status")
    assert code == 0 and "Usage: dcops power status" in out
    code, _, err = run(capsys, "help", "frobnicate")
    assert code == 2 and "no command or topic 'frobnicate'" in err
