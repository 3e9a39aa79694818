"""Rewriting the book (issue 15, item 2): the audit intent is in the store before the file
changes, an unusable store stops the write, the book keeps its mode, and the outcome names the
old and new file digests."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

import dcops.cli.inventory as cli_inventory
from dcops.cli.main import main
from dcops.fileio import write_atomically
from dcops.store import audit, open_store


def _book(tmp: Path) -> tuple[Path, Path]:
    csv = tmp / "legacy.csv"
    csv.write_text("Hostname,BMC IP\nh1,127.0.0.1\nh2,127.0.0.2\n", encoding="utf-8")
    mapping = tmp / "map.yaml"
    mapping.write_text("version: 1\ncolumns:\n  name: Hostname\n  bmc.address: BMC IP\n"
                       "constants:\n  bmc.password: env:BMC_PW\n")
    return csv, mapping


def _target(tmp: Path) -> Path:
    into = tmp / "site.yaml"
    into.write_text("version: 1\nhosts:\n  - name: keep\n    bmc: {address: 10.0.0.9, password: 'env:X'}\n")
    os.chmod(into, 0o644)
    return into


def test_import_write_audits_first_and_keeps_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    monkeypatch.setenv("DCOPS_STATE", url)
    csv, mapping = _book(tmp_path)
    into = _target(tmp_path)
    old = hashlib.sha256(into.read_bytes()).hexdigest()
    seen: list[list[str]] = []
    real = cli_inventory.write_atomically

    def spy(path: Path, text: str) -> None:
        store = open_store(url)  # what the store holds at the moment the file changes
        seen.append([e.result for e in audit.query(store, action="inventory.import")])
        store.close()
        real(path, text)

    monkeypatch.setattr(cli_inventory, "write_atomically", spy)
    code = main(["inventory", "import", str(csv), "--mapping", str(mapping), "--into", str(into), "--write"])
    assert code == 0, capsys.readouterr().err
    assert seen == [["started"]]
    assert stat.S_IMODE(into.stat().st_mode) == 0o644
    store = open_store(url)
    try:
        entries = list(reversed(audit.query(store)))
        found = audit.verify(store)
    finally:
        store.close()
    assert [(e.action, e.result) for e in entries] == [
        ("inventory.import", "started"), ("inventory.import.add", "ok"), ("inventory.import.add", "ok"),
        ("inventory.import", "ok")]
    intent = entries[0]
    assert intent.before == {"sha256": old}
    assert all(e.intent_id == intent.id for e in entries[1:])
    assert entries[-1].after == {"sha256": hashlib.sha256(into.read_bytes()).hexdigest()}
    assert found.intact and found.unfinished == []


def test_an_unusable_store_leaves_the_book_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{blocker}/state.db")
    csv, mapping = _book(tmp_path)
    into = _target(tmp_path)
    before = into.read_bytes()
    code = main(["inventory", "import", str(csv), "--mapping", str(mapping), "--into", str(into), "--write"])
    assert code not in (0, 70), capsys.readouterr()
    assert into.read_bytes() == before


def test_a_failed_write_is_audited_as_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    monkeypatch.setenv("DCOPS_STATE", url)
    csv, mapping = _book(tmp_path)
    into = _target(tmp_path)

    def full_disk(path: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli_inventory, "write_atomically", full_disk)
    code = main(["inventory", "import", str(csv), "--mapping", str(mapping), "--into", str(into), "--write",
                 "-o", "json"])
    capsys.readouterr()
    assert code not in (0,)
    store = open_store(url)
    try:
        assert [e.result for e in reversed(audit.query(store))] == ["started", "failed"]
    finally:
        store.close()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_write_atomically_keeps_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "book.yaml"
    path.write_text("old\n")
    os.chmod(path, mode)
    write_atomically(path, "new\n")
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["book.yaml"]  # no temporary left behind


def test_write_atomically_new_file_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.yaml", "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o644


def test_import_json_report_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")
    csv, mapping = _book(tmp_path)
    into = _target(tmp_path)
    assert main(["inventory", "import", str(csv), "--mapping", str(mapping), "--into", str(into), "--write",
                 "-o", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["added"] == 2 and out["summary"]["written"] == str(into)
