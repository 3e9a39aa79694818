"""The IPMI FRU fallback of `dcops assets collect` against real OpenIPMI `ipmi_sim` BMCs (whose FRU
reads over 32 bytes fail: the BMC layer backs off on completion code 0xC8):

* hosts with `protocol: ipmi` are collected from their FRU: the product serial and name, the
  board serial, name and maker, the chassis serial; reconcile matches them on those serials (on
  the board label too) when neither name nor BMC address agree; a second collection records no
  part events;
* a host with `protocol: auto` whose Redfish does not answer is read over IPMI (port 623 of the
  same address), next to a Redfish host of `dcops sim` collected in the same run.

`dcops assets collect` runs as its own process, as it does in production: pyghmi (1.6.19) keeps
a logged-out session in a process-wide table and fails the next login to the same BMC from the
same process, so one process reads each IPMI BMC once (see the report of this change).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.cli.main import main
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from tests.helpers.assets_peers import free_port, ipmi_sim_bmc, loopback_623

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]
PASSWORD_ENV = "DCOPS_TEST_ASSETS_IPMI_PW"
FRUS = {
    "fru-01": {"product_serial": "IPSN1001", "board_serial": "IPMB1001", "chassis_serial": "IPCH1001",
               "product_name": "Contoso R1 1U", "board_name": "X1 Board"},
    "fru-02": {"product_serial": "IPSN1002", "board_serial": "IPMB1002", "chassis_serial": "IPCH1002",
               "product_name": "Contoso R2 2U", "board_name": "X2 Board"},
}


def _collect(tmp: Path, inventory: Path) -> tuple[int, dict[str, Any], str]:
    """`dcops assets collect` in a process of its own."""
    proc = subprocess.run([sys.executable, "-m", "dcops", "assets", "collect", "-i", str(inventory), "-o", "json",
                           "--deadline", "60"],
                          env={**os.environ, "DCOPS_STATE": f"sqlite:///{tmp}/state.db", PASSWORD_ENV: "password"},
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout or "{}"), proc.stderr


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, json.loads(out)


def test_ipmi_hosts_are_collected_from_the_fru_and_reconciled_on_its_serials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    with ipmi_sim_bmc(tmp_path / "fru-01", "fru01", fru=FRUS["fru-01"]) as one, \
            ipmi_sim_bmc(tmp_path / "fru-02", "fru02", fru=FRUS["fru-02"]) as two:
        inventory = tmp_path / "lab.yaml"
        inventory.write_text(yaml.safe_dump({
            "version": 1,
            "defaults": {"bmc": {"protocol": "ipmi", "username": "admin", "password": f"env:{PASSWORD_ENV}"}},
            "hosts": [
                {"name": "fru-01", "site": "lab", "rack": "L01", "u": 1, "bmc": {"address": "127.0.0.1", "port": one.port},
                 "vendor": "Contoso", "model": "R1 1U", "asset": {"serial": "IPSN1001"}},
                {"name": "fru-02", "site": "lab", "rack": "L01", "u": 3, "bmc": {"address": "127.0.0.1", "port": two.port},
                 "vendor": "Contoso", "model": "R2 2U", "asset": {"serial": "IPSN1002"}},
            ]}, sort_keys=False))

        # The quirk the collection has to get past: Read FRU Data of more than 32 bytes is refused.
        refused = one.ipmitool("raw", "0x0a", "0x11", "0", "0", "0", "64")
        assert refused.returncode != 0 and "rsp=0xc8" in refused.stderr, refused
        code, body, err = _collect(tmp_path, inventory)
        assert code == 0, err
        assert body["summary"] == {"hosts": 2, "collected": 2, "failed": 0, "events": 0}
        items = {i["host"]: i for i in body["items"]}
        assert items["fru-01"]["serial"] == "IPSN1001" and items["fru-02"]["model"] == "Contoso R2 2U"
        # Chassis and mainboard from FRU 0, and the PSU from its own FRU (found through the SDR's
        # FRU locator records; the kit gives ipmi_sim one, serial PSU1SN0001).
        assert items["fru-01"]["parts"] == 3

        _, shown = _run(capsys, "assets", "show", "fru-01", "-o", "json")
        assert {k: shown["summary"][k] for k in ("manufacturer", "model", "serial", "board_serial")} == {
            "manufacturer": "Contoso", "model": "Contoso R1 1U", "serial": "IPSN1001", "board_serial": "IPMB1001"}
        parts = {p["kind"]: p for p in shown["items"]}
        assert set(parts) == {"chassis", "mainboard", "psu"}
        assert parts["psu"]["serial"] == "PSU1SN0001"
        assert (parts["chassis"]["serial"], parts["chassis"]["part_number"]) == ("IPCH1001", "CH-PN-001")
        assert (parts["mainboard"]["slot"], parts["mainboard"]["serial"], parts["mainboard"]["model"],
                parts["mainboard"]["manufacturer"]) == ("0/mainboard", "IPMB1001", "X1 Board", "Contoso")

        # Nothing changed: the second collection records no part events.
        code, body, err = _collect(tmp_path, inventory)
        assert code == 0, err
        assert body["summary"]["collected"] == 2 and body["summary"]["events"] == 0
        _, history = _run(capsys, "assets", "history", "fru-02", "-o", "json")
        assert history["items"] == []

    # The collection's own book agrees with what the FRUs said.
    code, result = _run(capsys, "assets", "reconcile", "-i", str(inventory), "-o", "json")
    assert code == 0 and result["items"] == []
    assert result["summary"]["matched"] == 2 and result["summary"]["decided_by"] == {"serial": 2}

    # A legacy book under other names and BMC addresses: the FRU serials find both servers, one by
    # the product serial, one by the board label the book recorded.
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text(yaml.safe_dump({"version": 1, "hosts": [
        {"name": "legacy-a", "site": "lab", "bmc": {"address": "10.1.1.1", "protocol": "ipmi"},
         "vendor": "Contoso", "model": "R1 1U", "asset": {"serial": "IPSN1001"}},
        {"name": "legacy-b", "site": "lab", "bmc": {"address": "10.1.1.2", "protocol": "ipmi"},
         "vendor": "Contoso", "model": "R2 2U", "asset": {"serial": "IPMB1002"}},
    ]}, sort_keys=False))
    code, result = _run(capsys, "assets", "reconcile", "--book", str(legacy), "-o", "json")
    assert code == 1
    assert result["summary"]["decided_by"] == {"serial": 1, "board_serial": 1}
    assert [(i["kind"], i["host"], i["observed"], i["matched_by"]) for i in result["items"]] == [
        ("bmc_address_differs", "legacy-a", "fru-01", "serial"),
        ("bmc_address_differs", "legacy-b", "fru-02", "board_serial")]


def test_auto_host_without_redfish_falls_back_to_the_ipmi_fru(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    address = loopback_623()
    if address is None:
        pytest.skip("UDP port 623 cannot be bound here (the auto fallback reads IPMI on port 623 only)")
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    monkeypatch.setenv(PASSWORD_ENV, "password")
    with ipmi_sim_bmc(tmp_path / "auto", "auto01", address=address, port=623,
                      fru={"product_serial": "AUTOSN01", "board_serial": "AUTOMB01"}) as bmc, \
            ThreadedFleet(FleetSpec(hosts=1, profiles=("dell-r750",)), control=False) as sim:
        monkeypatch.setenv("DCOPS_TEST_ASSETS_SIM_PW", sim.password)
        inventory = tmp_path / "fleet.yaml"
        sim.fleet.write_inventory(inventory, "env:DCOPS_TEST_ASSETS_SIM_PW")
        doc = yaml.safe_load(inventory.read_text())
        # Nothing listens on the web port: Redfish is refused, IPMI answers on 623.
        doc.setdefault("hosts", []).append({"name": "auto-01", "site": "sim-dc1", "room": "room1", "rack": "Z09", "u": 1,
                             "bmc": {"address": bmc.address, "port": free_port(address=bmc.address),
                                     "protocol": "auto", "scheme": "http", "username": "admin",
                                     "password": f"env:{PASSWORD_ENV}"}})
        inventory.write_text(yaml.safe_dump(doc, sort_keys=False))

        code = main(["assets", "collect", "-i", str(inventory), "-o", "json", "--deadline", "30"])
        out, err = capsys.readouterr()
        assert code == 0, err
        items = {i["host"]: i for i in json.loads(out)["items"]}
        assert items["auto-01"]["status"] == "ok" and items["auto-01"]["serial"] == "AUTOSN01"
        assert items["sim-0001"]["status"] == "ok" and items["sim-0001"]["parts"] > 30

    _, shown = _run(capsys, "assets", "show", "auto-01", "-o", "json")
    assert shown["summary"]["board_serial"] == "AUTOMB01" and shown["summary"]["model"] == "dcops Server 1U"
    _, result = _run(capsys, "assets", "reconcile", "-i", str(inventory), "-o", "json")
    # The book has no serial for auto-01: matched by its BMC address and name, the FRU's serial proposed.
    found = [(i["kind"], i["host"], i["found"]) for i in result["items"] if i["host"] == "auto-01"]
    assert found == [("serial_differs", "auto-01", "AUTOSN01")]
