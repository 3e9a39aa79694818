"""Import of legacy asset books: the three shipped books, bad rows, mappings, merge and diff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from dcops.errors import InvalidInputError
from dcops.inventory import load_inventory_text
from dcops.inventory.dump import dump_inventory_text
from dcops.inventory.importer import BookRows, convert_rows, plan_import, render_plan
from dcops.inventory.mapping import ImportMapping, load_mapping, parse_mapping_text
from dcops.inventory.tabular import book_format, read_table
from dcops.models import Protocol
from tests.unit.inventory.paths import LEGACY

BOOKS = {
    "a": ("company_a_assets.csv", "company_a_mapping.yaml"),
    "b": ("company_b_assets.xlsx", "company_b_mapping.yaml"),
    "c": ("company_c_assets.csv", "company_c_mapping.yaml"),
}


def _read(book: Path, mapping: ImportMapping) -> BookRows:
    return convert_rows(read_table(book, mapping), mapping, xlsx=book_format(book, mapping) == "xlsx")


def _import(company: str) -> BookRows:
    book, mapping = BOOKS[company]
    return _read(LEGACY / book, load_mapping(LEGACY / mapping))


@pytest.mark.parametrize("company", sorted(BOOKS))
def test_shipped_book_imports_cleanly_and_validates(company: str) -> None:
    rows = _import(company)
    assert rows.problems == []
    assert 20 <= rows.rows <= 60 and len(rows.skipped) == 2
    plan = plan_import(rows.hosts, [])
    assert plan.problems == [] and plan.count("add") == len(rows.hosts)
    book = load_inventory_text(dump_inventory_text(plan.hosts), f"{company}.yaml")
    assert len(book.hosts) == len(rows.hosts)
    assert all(h.asset.serial and h.location.rack and h.location.u for h in book.hosts)
    assert all(h.bmc.password_ref == "env:DCOPS_BMC_PASSWORD" for h in book.hosts)


def test_company_a_value_maps_and_iso_dates() -> None:
    hosts = {b.host.name: b.host for b in _import("a").hosts}
    first = hosts["hz-web-01"]
    assert (first.vendor, first.model, first.bmc.protocol) == ("HPE", "ProLiant DL380 Gen10 Plus", Protocol.REDFISH)
    assert (first.location.site, first.location.room, first.location.rack, first.location.u,
            first.location.u_height) == ("hz1", "1F-A", "R01", 2, 2)
    assert (first.asset.purchase_date, first.asset.warranty_end) == (dt.date(2023, 11, 2), dt.date(2028, 11, 2))
    assert first.tags == ("company-a", "prod") and first.bmc.username == "root"
    assert {h.vendor for h in hosts.values()} <= {"Dell", "HPE", "Lenovo", "Supermicro"}
    assert "hz-trading-07" not in hosts  # Status: Retired


def test_company_b_excel_dates_and_combined_location() -> None:
    hosts = {b.host.name: b.host for b in _import("b").hosts}
    first = hosts["sz-storage-01"]
    assert (first.asset.purchase_date, first.asset.warranty_end) == (dt.date(2020, 1, 3), dt.date(2025, 1, 2))
    assert str(first.location) == "sz2/R3/B07 U4-5" and first.vendor == "Huawei" and first.role == "storage"
    assert any(h.bmc.port == 443 for h in hosts.values())


def test_company_c_gbk_chinese_headers_and_vendor_names() -> None:
    hosts = {b.host.name: b.host for b in _import("c").hosts}
    first = hosts["bj-trading-01"]
    assert (first.vendor, first.role, first.location.site, first.location.room) == ("H3C", "trading", "bj1", "f3a")
    assert (first.asset.purchase_date, first.asset.warranty_end) == (dt.date(2020, 2, 9), dt.date(2025, 2, 8))
    assert first.asset.supplier == "北京神州数码有限公司"
    assert {h.vendor for h in hosts.values()} <= {"Huawei", "Inspur", "H3C", "Lenovo", "Dell"}


def test_bad_rows_name_the_book_and_the_row(tmp_path: Path) -> None:
    lines = (LEGACY / "company_a_assets.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",2023-", ",2023/", 1) if ",2023-" in lines[3] else lines[3].replace(",20", ",20xx", 1)
    cells = lines[5].split(",")
    cells[10] = ""  # BMC IP
    lines[5] = ",".join(cells)
    cells = lines[8].split(",")
    cells[8] = "U9x"  # U position
    lines[8] = ",".join(cells)
    book = tmp_path / "a.csv"
    book.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = _read(book, load_mapping(LEGACY / "company_a_mapping.yaml"))
    found = sorted((p.file, p.line, p.message.split(":")[0]) for p in rows.problems)
    assert found == [(str(book), 4, "row 4"), (str(book), 6, "row 6"), (str(book), 9, "row 9")]
    messages = " | ".join(str(p) for p in rows.problems)
    assert f"{book}:6: row 6: bmc.address: no BMC address (column 'BMC IP' is empty)" in messages
    assert "column 'U Position': 'U9x' is not a whole number" in messages
    assert "is not a date in the format %Y-%m-%d" in messages


def test_wrong_encoding_says_which_line_and_what_to_set(write: Callable[..., Path]) -> None:
    mapping = parse_mapping_text((LEGACY / "company_c_mapping.yaml").read_text(encoding="utf-8")
                                 .replace("encoding: gbk", "encoding: utf-8"), "c.yaml")
    with pytest.raises(InvalidInputError) as caught:
        read_table(LEGACY / "company_c_assets.csv", mapping)
    problem = caught.value.problems[0]
    assert problem.line == 1 and "cannot decode as utf-8" in problem.message and "gbk" in problem.message


def test_mapping_problems_name_the_mapping_file_and_line(tmp_path: Path) -> None:
    text = """\
version: 1
source: {encodng: gbk, format: xls}
columns:
  name: Hostname
  asset.serail: Serial Number
  bmc.address: BMC IP
dates:
  vendor: "%Y"
constants:
  bmc.password: calvin
split:
  - {column: Loc, pattern: '(?P<rak>x)'}
"""
    with pytest.raises(InvalidInputError) as caught:
        parse_mapping_text(text, "m.yaml")
    found = sorted((p.line, p.message) for p in caught.value.problems)
    assert found == [
        (2, "source.format 'xls' is not one of: csv, xlsx"),
        (2, "unknown field 'encodng' (did you mean 'encoding'?)"),
        (5, "unknown host field 'asset.serail' (did you mean 'asset.serial'?)"),
        (8, "vendor is not a date field"),
        (10, "bmc.password: password must be a reference (env:NAME, file:PATH, cred:NAME or prompt), "
             "not the password itself"),
        (12, "unknown group 'rak' (did you mean 'rack'?)"),
    ]


def test_mapped_column_missing_from_the_book(tmp_path: Path) -> None:
    mapping = parse_mapping_text("version: 1\ncolumns:\n  name: Hostname\n  bmc.address: BMC Addr\n", "m.yaml")
    book = tmp_path / "b.csv"
    book.write_text("Hostname,BMC IP\nh1,10.0.0.1\n", encoding="utf-8")
    rows = _read(book, mapping)
    assert [str(p) for p in rows.problems] == [
        f"m.yaml:4: column 'BMC Addr' is not in {book} (did you mean 'BMC IP'?); its columns: Hostname, BMC IP"]


def test_merge_changes_fields_keeps_target_hosts_and_reports_the_diff(tmp_path: Path) -> None:
    rows = _import("a")
    target = load_inventory_text(dump_inventory_text([b.host for b in rows.hosts[:5]]), "t.yaml").hosts
    edited = list(target)
    import dataclasses

    edited[0] = dataclasses.replace(target[0], role="legacy", profile="hz-profile",
                                    asset=dataclasses.replace(target[0].asset, supplier="Old Supplier"))
    extra = load_inventory_text("version: 1\nhosts: [{name: keep-me, bmc: {address: 10.99.0.1}}]\n").hosts
    plan = plan_import(rows.hosts, [*edited, *extra])
    assert plan.problems == []
    actions = {c.name: c.action for c in plan.changes}
    assert actions[target[0].name] == "change" and actions[target[1].name] == "same"
    assert actions["keep-me"] == "keep" and list(actions.values()).count("add") == len(rows.hosts) - 5
    changed = next(c for c in plan.changes if c.action == "change")
    assert [(f.field, f.old, f.new) for f in changed.changes] == [
        ("asset.supplier", "Old Supplier", target[0].asset.supplier)]
    merged = {h.name: h for h in plan.hosts}
    assert merged[target[0].name].profile == "hz-profile"  # a field the book does not give is kept
    assert merged[target[0].name].role == "legacy"
    assert plan.hosts[len(edited)].name == "keep-me"  # target order first, new hosts after
    text = render_plan(plan, book="a.csv", target="t.yaml")
    assert f"~ {target[0].name}" in text and "asset.supplier: Old Supplier -> " in text
    assert "1 only in the target, kept: keep-me" in text


def test_merge_checks_u_positions_against_the_target() -> None:
    rows = _import("a")
    first = rows.hosts[0].host
    loc = first.location
    target = load_inventory_text(
        f"version: 1\nhosts: [{{name: squatter, site: {loc.site}, room: {loc.room}, rack: {loc.rack}, u: {loc.u},"
        " bmc: {address: 10.99.0.1}}]\n", "t.yaml").hosts
    plan = plan_import(rows.hosts, target)
    assert len(plan.problems) == 1
    problem = plan.problems[0]
    assert (problem.line, f"both occupy U{loc.u}") == (rows.hosts[0].row, f"both occupy U{loc.u}")
    assert f"'{first.name}' and host 'squatter' (t.yaml:2)" in problem.message


def test_duplicate_serials_in_a_book_are_problems(tmp_path: Path) -> None:
    mapping = parse_mapping_text("version: 1\ncolumns: {name: n, bmc.address: ip, asset.serial: sn}\n", "m.yaml")
    book = tmp_path / "b.csv"
    book.write_text("n,ip,sn\nh1,10.0.0.1,S1\nh2,10.0.0.2,S1\n", encoding="utf-8")
    assert [str(p) for p in _read(book, mapping).problems] == [f"{book}:3: row 3: asset.serial 'S1' is also on row 2"]


def test_skip_rules_and_lowercase(tmp_path: Path) -> None:
    mapping = parse_mapping_text("""\
version: 1
columns: {name: n, bmc.address: ip}
lowercase: [name]
skip:
  - {column: n, matches: '^#'}
  - {column: ip, empty: true}
""", "m.yaml")
    book = tmp_path / "b.csv"
    book.write_text("n,ip\nWEB-01,10.0.0.1\n# comment,x\nspare,\n", encoding="utf-8")
    rows = _read(book, mapping)
    assert [b.host.name for b in rows.hosts] == ["web-01"] and rows.skipped == [3, 4]
