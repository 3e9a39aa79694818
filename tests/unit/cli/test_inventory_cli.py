"""`dcops inventory ...` end to end through dcops.cli.main.main: exit codes, stdout, stderr, JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dcops.cli.main import main
from dcops.inventory import load_inventory

REPO = Path(__file__).resolve().parents[3]
SITE = str(REPO / "inventories" / "site.yaml")
BROKEN = str(REPO / "tests" / "cases" / "inventory" / "broken-site.yaml")
LEGACY = REPO / "inventories" / "examples" / "legacy"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "inventory", "validate", SITE)
    assert (code, err) == (0, "")
    assert "inventory is valid: 47 hosts, 8 racks, 1 file(s)" in out


def test_validate_uses_the_inventory_option_and_env(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "-i", SITE, "inventory", "validate")[0] == 0
    assert run(capsys, "inventory", "validate", "-i", SITE)[0] == 0
    monkeypatch.setenv("DCOPS_INVENTORY", SITE)
    assert run(capsys, "inventory", "validate")[0] == 0


def test_no_inventory_is_a_clear_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./inventories/site.yaml here
    code, out, err = run(capsys, "inventory", "list")
    assert (code, out) == (2, "")
    assert err == "dcops: error: no inventory given: use -i PATH or set DCOPS_INVENTORY\n"


def test_validate_broken_exits_3_with_every_problem_by_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "inventory", "validate", BROKEN)
    assert (code, out) == (3, "")
    lines = err.splitlines()
    assert all(line.startswith(f"dcops: error: {BROKEN}:") for line in lines)
    got = [line.removeprefix(f"dcops: error: {BROKEN}:") for line in lines]
    assert got == [
        "18: unknown field 'serail' (did you mean 'serial'?)",
        "18: asset.warranty_end '2028-04-31' is not a valid date: day is out of range for month",
        "21: bmc.protocol 'redfsh' is not one of: redfish, ipmi, auto",
        "25: bmc.port 0 is out of range (1-65535)",
        f"19: host 'db-02': BMC 10.1.0.11 port 443 is also used by host 'db-01' ({BROKEN}:14); "
        "nodes of one BMC each pin their bmc.system",
        f"22: duplicate host name 'db-01' (also at {BROKEN}:14)",
        f"19: host 'db-02' and host 'db-01' ({BROKEN}:14) both occupy U11 of rack sh1/r101/A01",
        "22: host 'db-01' at U41-43 does not fit in rack sh1/r101/A01 (42U)",
    ]


def test_validate_warnings_go_to_stderr_and_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text("version: 1\ninsecure_plaintext_passwords: true\n"
                    "hosts: [{name: h1, bmc: {address: 10.0.0.1, password: 'plain:Sup3rSecret!'}}]\n")
    code, out, err = run(capsys, "inventory", "validate", str(path))
    assert code == 0 and "valid" in out
    assert f"dcops: warning: {path}:3: bmc.password is written in plain text" in err
    assert "Sup3rSecret" not in out + err


def test_list_table_and_selectors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-i", SITE, "inventory", "list", "rack=A03:&role=db", "web-01")
    assert code == 0 and err == ""
    header = out.splitlines()[0].split()
    assert header[:4] == ["NAME", "BMC", "PROTOCOL", "LOCATION"] and "SERIAL" in header
    names = [line.split()[0] for line in out.splitlines()[1:-1]]
    assert names == ["web-01", "clear-db-01", "clear-db-02", "clear-db-03", "hist-db-01", "report-db-01"]


def test_list_with_global_limit_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-i", SITE, "inventory", "list", "--limit", "az=az3:&role=db", "-o", "json")
    assert code == 0
    body = json.loads(out)
    assert body["kind"] == "inventory.list" and body["summary"] == {"hosts": 2, "total": 47}
    item = body["items"][0]
    assert item["name"] == "dr-db-01"
    assert item["bmc"]["address"] == "198.51.100.25" and item["bmc"]["password_ref"] == "env:DCOPS_BMC_PASSWORD"
    assert item["location"] == {"site": "sh1", "room": "r201", "rack": "C01", "u": 13, "u_height": 2}
    assert item["asset"]["warranty_end"] and item["tags"] == ["prod", "openstack", "oracle", "dr"]


def test_list_selecting_nothing_is_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-i", SITE, "inventory", "list", "no-such-*", "-o", "json")
    assert code == 0 and json.loads(out)["items"] == []


def test_list_bad_selector_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-i", SITE, "inventory", "list", "rak=A01")
    assert code == 2 and "unknown key 'rak' (did you mean 'rack'?)" in err


def test_list_masks_plaintext_passwords_in_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text("version: 1\ninsecure_plaintext_passwords: true\n"
                    "hosts: [{name: h1, bmc: {address: 10.0.0.1, password: 'plain:Sup3rSecret!'}}]\n")
    code, out, err = run(capsys, "-i", str(path), "inventory", "list", "-o", "json")
    assert code == 0 and "Sup3rSecret" not in out + err
    assert json.loads(out)["items"][0]["bmc"]["password_ref"] == "plain:********"


def test_show_every_field_with_origin(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-i", SITE, "inventory", "show", "trade-db-01", "-o", "json")
    assert code == 0
    body = json.loads(out)
    rows = {r["field"]: r for r in body["items"]}
    assert rows["bmc.address"]["value"] == "192.0.2.24" and rows["bmc.address"]["level"] == "host"
    assert rows["bmc.password"]["level"] == "file" and rows["bmc.password"]["source"] == f"{SITE}:7"
    assert rows["az"]["level"] == "room r101" and rows["az"]["inherited"] is True
    assert rows["asset.use"]["level"] == "site sh1"
    assert rows["bmc.port"]["level"] == "default" and rows["bmc.scheme"]["value"] == "https"
    assert body["summary"] == {"host": "trade-db-01", "defined_at": f"{SITE}:71"}


def test_show_unknown_host_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-i", SITE, "inventory", "show", "trade-db-1")
    assert (code, out) == (2, "")
    assert "no host 'trade-db-1' in the inventory (did you mean trade-db-01" in err


def test_search_with_typos(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-i", SITE, "inventory", "search", "r75o", "a3", "-o", "json")
    assert code == 0
    body = json.loads(out)
    assert [i["name"] for i in body["items"]] == ["clear-app-01", "clear-db-01", "clear-db-02"]
    assert body["items"][0]["fields"] == ["model", "rack"] and body["summary"]["results"] == 3
    code, out, _ = run(capsys, "-i", SITE, "inventory", "search", "r750", "--limit-results", "2")
    assert code == 0 and len(out.splitlines()) == 4  # header, 2 hosts, summary


def test_search_min_score_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-i", SITE, "inventory", "search", "x", "--min-score", "150")
    assert code == 2 and "min-score" in err


def test_invalid_inventory_makes_every_command_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["list"], ["show", "db-01"], ["search", "db"]):
        code, out, err = run(capsys, "-i", BROKEN, "inventory", *argv)
        assert (code, out) == (3, "") and f"{BROKEN}:18:" in err


# -- import ----------------------------------------------------------------------------------

def _args(company: str) -> list[str]:
    book = {"a": "company_a_assets.csv", "b": "company_b_assets.xlsx", "c": "company_c_assets.csv"}[company]
    return ["inventory", "import", str(LEGACY / book), "--mapping", str(LEGACY / f"company_{company}_mapping.yaml")]


@pytest.mark.parametrize("company", ["a", "b", "c"])
def test_import_dry_run_shows_the_diff_and_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          company: str) -> None:
    target = tmp_path / "new.yaml"
    code, out, err = run(capsys, *_args(company), "--into", str(target))
    assert (code, err) == (0, "")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    assert out.count("\n+ ") >= 20 and "(dry run: nothing written)" in out


@pytest.mark.parametrize("company", ["a", "b", "c"])
def test_import_write_produces_a_valid_file(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            company: str) -> None:
    target = tmp_path / "merged.yaml"
    code, out, _ = run(capsys, *_args(company), "--into", str(target), "--write", "-o", "json")
    assert code == 0
    summary = json.loads(out)["summary"]
    assert summary["written"] == str(target) and summary["dry_run"] is False
    book = load_inventory(target)
    assert len(book.hosts) == summary["added"] >= 20
    # Importing the same book again changes nothing.
    code, out, _ = run(capsys, *_args(company), "--into", str(target), "-o", "json")
    assert code == 0 and json.loads(out)["summary"]["unchanged"] == len(book.hosts)


def test_import_into_existing_inventory_keeps_its_hosts_and_shows_changes(capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path) -> None:
    target = tmp_path / "hz1.yaml"
    assert run(capsys, *_args("a"), "--into", str(target), "--write")[0] == 0
    text = target.read_text(encoding="utf-8").replace("supplier: Zhejiang Tonghe IT", "supplier: Someone Else", 1)
    target.write_text(text + "hosts:\n  - name: keep-me\n    bmc: {address: 10.99.0.1}\n", encoding="utf-8")
    before = target.read_text(encoding="utf-8")
    code, out, _ = run(capsys, *_args("a"), "--into", str(target))
    assert code == 0 and target.read_text(encoding="utf-8") == before
    assert "asset.supplier: Someone Else -> Zhejiang Tonghe IT" in out
    assert "1 only in the target, kept: keep-me" in out
    assert run(capsys, *_args("a"), "--into", str(target), "--write")[0] == 0
    book = load_inventory(target)
    assert "keep-me" in book and "Someone Else" not in target.read_text(encoding="utf-8")
    # The write is in the audit log: who changed which host's field from what to what.
    code, out, _ = run(capsys, "audit", "list", "--action", "inventory.import.change", "-o", "json")
    entries = json.loads(out)["items"]
    assert code == 0 and len(entries) == 1
    assert entries[0]["before"]["asset.supplier"] == "Someone Else"
    assert entries[0]["after"]["asset.supplier"] == "Zhejiang Tonghe IT"


def test_import_write_without_into_prints_the_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *_args("c"), "--write")
    assert code == 0 and "imported 26 new" in err
    from dcops.inventory import load_inventory_text

    assert len(load_inventory_text(out).hosts) == 26


def test_import_bad_row_exits_3_naming_file_and_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    book = tmp_path / "c.csv"
    shutil.copy(LEGACY / "company_c_assets.csv", book)
    raw = book.read_bytes().decode("gbk").splitlines()
    raw[5] = raw[5].replace("/", "-", 1)  # 采购日期 written as 2021-3-15
    book.write_bytes(("\n".join(raw) + "\n").encode("gbk"))
    args = _args("c")
    args[2] = str(book)
    code, out, err = run(capsys, *args, "--write", "--into", str(tmp_path / "out.yaml"))
    assert (code, out) == (3, "")
    assert err.startswith(f"dcops: error: {book}:6: row 6: column '采购日期': ")
    assert "is not a date in the format %Y/%m/%d" in err
    assert not (tmp_path / "out.yaml").exists()
