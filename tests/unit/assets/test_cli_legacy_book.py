"""Reconciling a legacy book imported by `dcops inventory import` works like any book; and the
`dcops assets` commands end to end over a state store (reconcile as table, JSON and CSV,
--write-book, history, search, warranty), with their exit codes."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from dcops.assets import store as asset_store
from dcops.assets.model import AssetSnapshot, Hardware, Part, PartKind, Placement
from dcops.assets.reconcile import bmc_key
from dcops.cli.main import main
from dcops.inventory import load_inventory
from dcops.store import open_store
from tests.unit.assets.helpers import T0

LEGACY = Path(__file__).resolve().parents[3] / "inventories" / "examples" / "legacy"
MANUFACTURER = {"Dell": "Dell Inc.", "HPE": "HPE", "Lenovo": "Lenovo", "Supermicro": "Supermicro"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    book = tmp_path / "hz1.yaml"
    code, _, err = run(capsys, "inventory", "import", str(LEGACY / "company_a_assets.csv"), "--mapping",
                       str(LEGACY / "company_a_mapping.yaml"), "--into", str(book), "--write")
    assert code == 0, err
    return book


def _as_collected(host: Any) -> AssetSnapshot:
    """What the host's BMC would report if the book were right."""
    loc = host.location
    dimms = [Part(PartKind.DIMM, f"1/DIMM {n}", f"{host.name.upper()}-D{n}", capacity_bytes=32 * 1024**3)
             for n in range(4)]
    return AssetSnapshot(
        host=host.name, taken_at=T0, bmc=bmc_key(host.bmc.address, host.bmc.port, host.bmc.scheme),
        manufacturer=MANUFACTURER.get(host.vendor or "", host.vendor), model=host.model, serial=host.asset.serial,
        placement=Placement(site=loc.site, room=loc.room, rack=loc.rack, u=loc.u) if loc.rack else None,
        parts=tuple(dimms), hardware=Hardware.of(dimms))


def test_reconcile_an_imported_legacy_book(imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = load_inventory(imported)
    hosts = list(book.hosts)
    assert len(hosts) >= 20
    snaps = {h.name: _as_collected(h) for h in hosts}
    # Plant: one server replaced (other serial at the same BMC), one racked elsewhere than booked,
    # one never answering, one found that the book does not know.
    wrong, moved, silent = hosts[1].name, hosts[2].name, hosts[3].name
    snaps[wrong] = dataclasses.replace(snaps[wrong], serial="REPLACED123")
    place = snaps[moved].placement
    assert place is not None and place.u is not None
    snaps[moved] = dataclasses.replace(snaps[moved], placement=dataclasses.replace(place, u=place.u + 20))
    del snaps[silent]
    stranger = dataclasses.replace(_as_collected(hosts[0]), host="unknown-box", serial="NOTINBOOK1",
                                   bmc="10.40.9.99:443", placement=None)
    snaps["unknown-box"] = stranger
    store = open_store(f"sqlite:///{tmp_path}/state.db")
    asset_store.save_collection(store, list(snaps.values()))
    store.close()

    code, out, err = run(capsys, "assets", "reconcile", "-i", str(imported), "-o", "json")
    assert code == 1, err
    body = json.loads(out)
    got = sorted((i["kind"], i["host"], i["observed"]) for i in body["items"])
    assert got == sorted([("serial_differs", wrong, wrong), ("location_differs", moved, moved),
                          ("missing", silent, None), ("unexpected", None, "unknown-box")])
    assert body["summary"]["matched"] == len(hosts) - 1
    serial_item = next(i for i in body["items"] if i["kind"] == "serial_differs")
    assert serial_item["matched_by"] == "bmc_address" and serial_item["found"] == "REPLACED123"

    # CSV, and the table names the deciding key.
    code, out, _ = run(capsys, "assets", "reconcile", "-i", str(imported), "--csv", "-")
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["kind"] for r in rows} == {"serial_differs", "location_differs", "missing", "unexpected"}
    code, out, _ = run(capsys, "assets", "reconcile", "-i", str(imported))
    assert "MATCHED BY" in out and "bmc_address" in out

    # The corrected book: never the book itself; the serial fixed, the location kept (book-owned)
    # unless ownership says otherwise; the unknown server added for review.
    code, _, err = run(capsys, "assets", "reconcile", "-i", str(imported), "--write-book", str(imported))
    assert code == 2 and "the book itself" in err
    before = imported.read_text()
    out_path = tmp_path / "corrected.yaml"
    code, out, err = run(capsys, "assets", "reconcile", "-i", str(imported), "--write-book", str(out_path),
                         "--own", "location=discovery")
    assert code == 1, err
    assert imported.read_text() == before
    corrected = load_inventory(out_path)
    assert corrected.get(wrong).asset.serial == "REPLACED123"
    assert corrected.get(moved).location.u == book.get(moved).location.u + 20  # type: ignore[operator]
    assert corrected.get(silent) == dataclasses.replace(book.get(silent), source=corrected.get(silent).source)
    assert "discovered" in corrected.get("unknown-box").tags
    assert corrected.get(hosts[5].name).asset.purchase_date == hosts[5].asset.purchase_date

    code, _, err = run(capsys, "assets", "reconcile", "-i", str(imported), "--own", "colour=book")
    assert code == 2 and "--own" in err


def test_history_search_and_show(imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hosts = list(load_inventory(imported).hosts)
    first = [_as_collected(h) for h in hosts[:3]]
    store = open_store(f"sqlite:///{tmp_path}/state.db")
    asset_store.save_collection(store, first)
    a = first[0]
    parts = list(a.parts)
    parts[0] = dataclasses.replace(parts[0], serial="FRESH-DIMM")
    second = [dataclasses.replace(a, taken_at=T0.replace(month=2), parts=tuple(parts)), *first[1:]]
    asset_store.save_collection(store, second)
    store.close()

    code, out, err = run(capsys, "assets", "history", a.host, "-o", "json")
    assert code == 0, err
    items = json.loads(out)["items"]
    assert [(i["event"], i["serial"], i["old_serial"]) for i in items] == [("replaced", "FRESH-DIMM",
                                                                            first[0].parts[0].serial)]
    code, out, _ = run(capsys, "assets", "history", "FRESH-DIMM", "-o", "json")
    assert code == 0 and json.loads(out)["summary"]["now_in"] == [f"{a.host} 1/DIMM 0"]
    code, _, err = run(capsys, "assets", "history", "NO-SUCH-THING")
    assert code == 2 and "neither" in err

    # Search: the server holding a DIMM serial (also with a typo in a long serial).
    target = first[1]
    dimm_serial = target.parts[2].serial
    assert dimm_serial is not None
    code, out, err = run(capsys, "assets", "search", "-i", str(imported), dimm_serial, "-o", "json")
    assert code == 0, err
    found = json.loads(out)["items"]
    assert found[0]["name"] == target.host and "dimm_serial" in found[0]["fields"]

    code, out, _ = run(capsys, "assets", "show", a.host, "-o", "json")
    assert code == 0 and any(i["serial"] == "FRESH-DIMM" for i in json.loads(out)["items"])


def test_warranty_groups_and_reminders(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "assets", "warranty", "-i", str(imported), "--today", "2025-08-01",
                         "--within", "90d", "-o", "json")
    assert code == 1, err  # company A's 2020 servers expire in 2025
    body = json.loads(out)
    assert body["items"] and all(i["status"] in ("expired", "expiring") for i in body["items"])
    days = [i["days_left"] for i in body["items"]]
    assert days == sorted(days)
    code, out, _ = run(capsys, "assets", "warranty", "-i", str(imported), "--today", "2025-08-01", "--by",
                       "contract", "--all", "-o", "json")
    groups = json.loads(out)["items"]
    assert sum(g["hosts"] for g in groups) == body["summary"]["hosts"]

    code, out, _ = run(capsys, "assets", "warranty", "-i", str(imported), "--today", "2025-08-01", "--remind",
                       "-o", "json")
    first = json.loads(out)["summary"]
    assert first["reminders_due"] > 0 and first["reminders_sent"] == first["reminders_due"]
    code, out, _ = run(capsys, "assets", "warranty", "-i", str(imported), "--today", "2025-08-01", "--remind",
                       "-o", "json")
    assert json.loads(out)["summary"]["reminders_due"] == 0  # not repeated
    code, out, _ = run(capsys, "assets", "warranty", "-i", str(imported), "--today", "2020-01-01", "-o", "json")
    assert code == 0 and json.loads(out)["items"] == []
