"""`dcops boot`, `dcops vmedia` against ``dcops sim`` (the simulator records what the server
would boot from), and `dcops console` (config `console: {sol: ipmitool}`) with a scripted ipmitool: the SOL invocation, the
password through the environment (``-E``, never argv) and the audit records."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.sim.testing import ThreadedFleet
from tests.helpers.simfleet import PASSWORD, fleet, requests, sessions, wait_for

pytestmark = pytest.mark.timeout(60)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(args))
    captured = capsys.readouterr()
    result = json.loads(captured.out) if captured.out.strip().startswith("{") else {}
    result["_stderr"] = captured.err[-3000:]
    assert PASSWORD not in captured.out + captured.err
    return code, result


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DCOPS_TEST_BMC_PW", PASSWORD)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    return tmp_path


@pytest.fixture
def sim(env: Path) -> Iterator[ThreadedFleet]:
    with fleet(2, ("supermicro-x13", "dell-r750")) as running:
        yield running


def test_boot_once_cd_with_vmedia_boots_the_image(sim: ThreadedFleet, env: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    inv = str(sim.fleet.write_inventory(env / "site.yaml", "env:DCOPS_TEST_BMC_PW"))
    smc, dell = (h.name for h in sim.fleet.hosts)
    image = "http://127.0.0.1:8080/images/installer.iso"
    code, out = run(capsys, "vmedia", "insert", smc, dell, "-i", inv, "--image", image, "--yes", "-o", "json")
    assert code == 0, out["_stderr"]
    assert {(i["host"], i["inserted"], i["image"]) for i in out["items"]} == {(smc, True, image), (dell, True, image)}
    # Quirk (Supermicro X13): InsertMedia with Inserted/WriteProtected is refused; retried with Image only.
    inserts = [r[4] for r in requests(sim, 0) if r[2] == "POST" and "InsertMedia" in r[3]]
    assert inserts[-1] == 204
    code, out = run(capsys, "vmedia", "status", smc, "-i", inv, "-o", "json")
    assert code == 0 and any(i["inserted"] and i["image"] == image for i in out["items"])
    code, out = run(capsys, "boot", smc, dell, "-i", inv, "--once", "cd", "--yes", "-o", "json")
    assert code == 0, out["_stderr"]
    assert {(i["after"], i["enabled"]) for i in out["items"]} == {("Cd", "Once")}
    code, out = run(capsys, "power", "cycle", smc, "-i", inv, "--yes", "-o", "json", "--no-wait")
    assert code == 0, out["_stderr"]
    booted = wait_for(lambda: sim.call(lambda: dict(sim.fleet.bmc(0).last_boot)).get("source") == "Cd"
                      and sim.call(lambda: dict(sim.fleet.bmc(0).last_boot)))
    assert booted["image"] == image  # type: ignore[index]
    # The override was for one boot only.
    assert sim.call(lambda: dict(sim.fleet.bmc(0).boot))["BootSourceOverrideEnabled"] == "Disabled"
    code, out = run(capsys, "vmedia", "eject", smc, dell, "-i", inv, "--yes", "-o", "json")
    assert code == 0 and not any(i["inserted"] for i in out["items"])
    code, out = run(capsys, "audit", "list", "-o", "json")
    actions = sorted({(e["action"], e["result"]) for e in out["items"]})
    # Each change: its intent ("started") before it, its outcome after.
    assert actions == [(a, r) for a in ("boot.once", "power.cycle", "vmedia.eject", "vmedia.insert")
                       for r in ("ok", "started")]
    assert sessions(sim) == 0


def test_boot_and_vmedia_refusals_exit_5_and_need_yes(sim: ThreadedFleet, env: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    inv = str(sim.fleet.write_inventory(env / "site.yaml", "env:DCOPS_TEST_BMC_PW"))
    smc = sim.fleet.hosts[0].name
    code, _ = run(capsys, "boot", smc, "-i", inv, "--once", "pxe")  # no --yes, no terminal
    assert code == 2
    code, out = run(capsys, "vmedia", "insert", smc, "-i", inv, "--image", "ftp://nowhere/x.iso", "--yes")
    assert code == 5 and 'BMC said "' in out["_stderr"]
    code, out = run(capsys, "audit", "list", "-o", "json")
    assert [(e["action"], e["result"]) for e in out["items"]] == [("vmedia.insert", "failed"),
                                                                  ("vmedia.insert", "started")]
    assert sessions(sim) == 0


def fake_ipmitool(directory: Path, status: int) -> Path:
    script = directory / "ipmitool"
    script.write_text(f"""#!/bin/sh
printf '%s\\n' "$@" > "{directory}/argv"
printf '%s' "$IPMI_PASSWORD" > "{directory}/env-password"
exit {status}
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.parametrize("status", [0, 3])
def test_console_runs_ipmitool_sol_with_the_password_in_the_environment(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], status: int) -> None:
    bin_dir = env / "bin"
    bin_dir.mkdir()
    fake_ipmitool(bin_dir, status)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    (env / "config.yaml").write_text("console: {sol: ipmitool}\n")  # the gateway's ipmitool SOL client
    monkeypatch.setenv("DCOPS_CONFIG", str(env / "config.yaml"))
    inv = env / "ipmi.yaml"
    inv.write_text(json.dumps({"version": 1, "sites": [{"name": "dc1", "rooms": [{"name": "r1", "racks": [
        {"name": "R1", "hosts": [{"name": "db-01", "u": 1, "bmc": {
            "address": "127.0.0.1", "port": 6230, "protocol": "ipmi", "username": "root",
            "password": "env:DCOPS_TEST_BMC_PW"}}]}]}]}]}))
    code, _ = run(capsys, "console", "db-01", "-i", str(inv))
    assert code == status
    argv = (bin_dir / "argv").read_text().split("\n")
    assert argv[:argv.index("sol")] == ["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", "6230", "-U", "root",
                                        "-E"]
    assert argv[argv.index("sol") + 1] == "activate"
    assert PASSWORD not in argv
    assert (bin_dir / "env-password").read_text() == PASSWORD  # -E: ipmitool reads IPMI_PASSWORD
    code, out = run(capsys, "audit", "list", "-o", "json")
    entries = [(e["action"], e["host"], e["result"]) for e in out["items"]]
    assert sorted(entries) == [("console.close", "db-01", "ok" if status == 0 else f"exit {status}"),
                               ("console.open", "db-01", "ok")]
    assert PASSWORD not in json.dumps(out)
