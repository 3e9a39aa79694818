"""Writing the book back in place (dcops/inventory/roundtrip.py): comments, order and layout
survive; what cannot be done in place is refused (None) so the caller writes the canonical form."""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.inventory import load_inventory, load_inventory_text
from dcops.inventory.roundtrip import rewrite_book
from dcops.models import AssetRecord, Host, Location
from tests.unit.inventory.paths import FLAT, LEGACY, SITE


def _changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _edit(path: Path, change: dict[str, object]) -> tuple[str, list[Host], str | None]:
    text = path.read_text()
    before = list(load_inventory_text(text, str(path)).hosts)
    after = [change.get(h.name, h) for h in before]  # type: ignore[misc]
    extra = [h for n, h in change.items() if n not in {b.name for b in before}]  # type: ignore[misc]
    return text, before, rewrite_book(text, str(path), before, [*after, *extra])


def test_one_changed_field_is_one_changed_line_and_every_comment_stays() -> None:
    book = {h.name: h for h in load_inventory([SITE]).hosts}
    host = book["trade-db-01"]
    changed = dataclasses.replace(host, asset=dataclasses.replace(host.asset, serial="NEW1234"))
    text, _, result = _edit(SITE, {"trade-db-01": changed})
    assert result is not None
    diff = _changed_lines(text, result)
    assert len(diff) == 2 and diff[0].endswith(f"serial: {host.asset.serial}") and diff[1].endswith("serial: NEW1234")
    assert [line for line in text.splitlines() if "#" in line] == [line for line in result.splitlines() if "#" in line]
    assert load_inventory_text(result, "x").get("trade-db-01").asset.serial == "NEW1234"


def test_a_flat_file_can_move_a_host() -> None:
    book = {h.name: h for h in load_inventory([FLAT]).hosts}
    moved = dataclasses.replace(book["lab-01"], location=Location(site="sh1", room="r101", rack="A01", u=40))
    text, _, result = _edit(FLAT, {"lab-01": moved})
    assert result is not None and len(_changed_lines(text, result)) == 2  # u: 30 -> 40


@pytest.mark.parametrize("case", ["move-between-racks", "new-host-unknown-rack", "unset-inherited"])
def test_what_cannot_be_done_in_place_is_refused(case: str) -> None:
    book = {h.name: h for h in load_inventory([SITE]).hosts}
    host = book["trade-db-01"]
    if case == "move-between-racks":
        change = {host.name: dataclasses.replace(host, location=dataclasses.replace(host.location, rack="A02", u=30))}
    elif case == "new-host-unknown-rack":
        change = {"new-01": dataclasses.replace(host, name="new-01", location=Location("sh1", "r101", "Z99", 1),
                                                asset=AssetRecord(serial="N1"))}
    else:  # az comes from the rack's defaults: a host cannot drop it in place
        change = {host.name: dataclasses.replace(host, az=None)}
    assert _edit(SITE, change)[2] is None


def test_a_new_host_goes_into_its_rack() -> None:
    book = {h.name: h for h in load_inventory([SITE]).hosts}
    host = book["trade-db-01"]
    # What the rack's and site's defaults give it (service provider, use) it need not repeat.
    new = dataclasses.replace(host, name="trade-db-09", location=dataclasses.replace(host.location, u=30),
                              asset=AssetRecord(serial="N9", service_provider="On-site SRE team", use="production"),
                              bmc=dataclasses.replace(host.bmc, address="10.11.1.99"))
    text, _, result = _edit(SITE, {"trade-db-09": new})
    assert result is not None
    loaded = load_inventory_text(result, "x")
    assert loaded.get("trade-db-09").location.rack == "A01" and loaded.get("trade-db-09").asset.serial == "N9"
    assert all(line.startswith("+") for line in _changed_lines(text, result))  # added, nothing else touched


def test_inventory_import_keeps_the_operators_comments(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    book = LEGACY / "company_a_assets.csv"
    mapping = LEGACY / "company_a_mapping.yaml"
    target = tmp_path / "hz1.yaml"
    assert main(["inventory", "import", str(book), "--mapping", str(mapping), "--into", str(target), "--write"]) == 0
    # The operators annotate the book...
    lines = target.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "name: hz-web-02" in line)
    lines.insert(at, "  # hz-web-02: leased until 2027, ask Li Wei before touching")
    target.write_text("\n".join(lines) + "\n")
    annotated = target.read_text()
    # ...and the asset system changes a serial.
    changed = tmp_path / "assets.csv"
    changed.write_text(book.read_text(encoding="utf-8-sig").replace("C7XFKZZ", "C7XFKZY"))
    capsys.readouterr()
    assert main(["inventory", "import", str(changed), "--mapping", str(mapping), "--into", str(target),
                 "--write"]) == 0
    err = capsys.readouterr().err
    assert "canonical form" not in err
    result = target.read_text()
    assert "# hz-web-02: leased until 2027, ask Li Wei before touching" in result
    diff = _changed_lines(annotated, result)
    assert len(diff) == 2 and diff[0].endswith("C7XFKZZ") and diff[1].endswith("C7XFKZY"), diff
