"""NetBox device CSV: `dcops inventory export --format netbox` writes the columns of NetBox's device
bulk import, and `dcops inventory import FILE --mapping netbox` reads them back to the same hosts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.inventory import load_inventory
from dcops.inventory.netbox import COLUMNS
from tests.unit.inventory.paths import SITE

# NetBox's DeviceImportForm.Meta.fields (netbox-community/netbox, dcim/forms/bulk_import.py, 4.x);
# custom fields are imported as cf_<name>.
NETBOX_DEVICE_IMPORT_FIELDS = {
    "name", "role", "tenant", "manufacturer", "device_type", "platform", "serial", "asset_tag", "status", "site",
    "location", "rack", "position", "face", "latitude", "longitude", "parent", "device_bay", "airflow",
    "cooling_method", "virtual_chassis", "vc_position", "vc_priority", "cluster", "description", "config_template",
    "owner", "comments", "tags"}
NETBOX_REQUIRED = {"role", "manufacturer", "device_type", "status", "site"}
NETBOX_STATUSES = {"offline", "active", "planned", "staged", "failed", "inventory", "decommissioning"}


def test_the_header_is_netboxs_import_header() -> None:
    assert {c for c in COLUMNS if not c.startswith("cf_")} <= NETBOX_DEVICE_IMPORT_FIELDS
    assert set(COLUMNS) >= NETBOX_REQUIRED


def test_round_trip_through_netbox_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    assert main(["-i", str(SITE), "inventory", "export", "--format", "netbox", "--out", str(tmp_path / "d.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "d.csv").read_text())))
    assert len(rows) == 47
    assert all(row[c] for row in rows for c in NETBOX_REQUIRED)
    assert {row["status"] for row in rows} <= NETBOX_STATUSES and {row["face"] for row in rows} <= {"front", ""}
    capsys.readouterr()
    code = main(["inventory", "import", str(tmp_path / "d.csv"), "--mapping", "netbox",
                 "--into", str(tmp_path / "back.yaml"), "--write"])
    assert code == 0, capsys.readouterr().err
    original = {h.name: h for h in load_inventory([SITE]).hosts}
    back = load_inventory([tmp_path / "back.yaml"]).hosts
    assert [h.name for h in back] == list(original)
    for host in back:
        was = original[host.name]
        assert (host.role, host.vendor, host.model, host.az, host.profile, host.tags) == \
            (was.role, was.vendor, was.model, was.az, was.profile, was.tags), host.name
        assert (host.location.site, host.location.room, host.location.rack, host.location.u) == \
            (was.location.site, was.location.room, was.location.rack, was.location.u), host.name
        assert (host.asset.serial, host.asset.asset_tag) == (was.asset.serial, was.asset.asset_tag)
        assert (host.bmc.address, host.bmc.protocol) == (was.bmc.address, was.bmc.protocol)


def test_export_honours_the_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-i", str(SITE), "inventory", "export", "-l", "rack=A01:&role=db"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["name"] for r in rows] == ["trade-db-01", "trade-db-02"]
    assert rows[0]["cf_bmc_address"] == "192.0.2.24" and rows[0]["tags"] == "prod,oracle"
