"""Every validation problem, with its file and line (table: tests/cases/inventory/invalid.yaml)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.errors import InvalidInputError, Problem
from dcops.inventory import load_inventory, read_inventory
from tests.unit.inventory.paths import CASES, FLAT, SITE

TABLE: list[dict[str, Any]] = yaml.safe_load((CASES / "invalid.yaml").read_text(encoding="utf-8"))["cases"]


def _load_problems(tmp_path: Path, files: dict[str, str]) -> list[Problem]:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_inventory([str(tmp_path / name) for name in sorted(files)])
    return caught.value.problems


@pytest.mark.parametrize("case", TABLE, ids=[c["name"] for c in TABLE])
def test_broken_snippet_reports_file_line_and_message(case: dict[str, Any], tmp_path: Path) -> None:
    problems = _load_problems(tmp_path, case["files"])
    found = [(Path(p.file).name, p.line, p.message) for p in problems]
    for file, line, part in case["problems"]:
        part = part.format(dir=tmp_path)
        assert any(f == file and ln == line and part in msg for f, ln, msg in found), (
            f"expected {file}:{line}: ...{part}... in:\n" + "\n".join(map(str, problems)))
    assert len(problems) == len(case["problems"]), "unexpected extra problems:\n" + "\n".join(map(str, problems))


def test_all_problems_of_all_files_are_collected(tmp_path: Path) -> None:
    """One run reports every problem of every file, not just the first one."""
    problems = _load_problems(tmp_path, {
        "a.yaml": "version: 1\nhosts:\n  - name: a1\n    bmc: {address: 10.0.0.1, port: 0}\n    rol: db\n",
        "b.yaml": "version: 1\nhosts:\n  - name: b1\n    tags: x\n  - name: a1\n    bmc: {address: 10.0.0.2}\n",
        "c.yaml": "version: 1\nhosts: [\n",
    })
    assert [(Path(p.file).name, p.line) for p in problems] == [
        ("a.yaml", 4), ("a.yaml", 5), ("b.yaml", 4), ("b.yaml", 3), ("c.yaml", 3), ("b.yaml", 5)]


def test_problem_text_is_file_colon_line(tmp_path: Path) -> None:
    problems = _load_problems(tmp_path, {"a.yaml": "version: 1\nhosts:\n  - name: h1\n"})
    assert [str(p) for p in problems] == [f"{tmp_path}/a.yaml:3: host 'h1': missing bmc.address"]


def test_error_summary_names_the_count_and_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\nhosts: [{name: h1}, {name: h2}]\n")
    with pytest.raises(InvalidInputError, match=r"2 problems in .*a\.yaml"):
        load_inventory(tmp_path / "a.yaml")


def test_plaintext_password_allowed_by_the_file_is_a_warning_without_the_password(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text("version: 1\ninsecure_plaintext_passwords: true\nhosts:\n"
                    "  - name: h1\n    bmc: {address: 10.0.0.1, password: 'plain:Sup3rSecret!'}\n")
    with caplog.at_level(logging.WARNING):
        book = load_inventory(path)
    assert book.get("h1").bmc.password_ref == "plain:Sup3rSecret!"
    assert [(w.line, "plain text" in w.message) for w in book.warnings] == [(5, True)]
    assert f"{path}:5" in caplog.text
    assert "Sup3rSecret" not in caplog.text
    assert all("Sup3rSecret" not in str(w) for w in book.warnings)


def test_plaintext_error_does_not_show_the_password(tmp_path: Path) -> None:
    problems = _load_problems(tmp_path, {"a.yaml": "version: 1\nhosts:\n  - name: h1\n"
                                                   "    bmc: {address: 10.0.0.1, password: 'plain:Sup3rSecret!'}\n"})
    assert problems and all("Sup3rSecret" not in str(p) for p in problems)


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _, problems, _ = read_inventory([tmp_path / "nope.yaml", tmp_path / "empty"])
    assert [(Path(p.file).name, p.message) for p in problems] == [
        ("nope.yaml", "no such file or directory"),
        ("empty", "directory holds no *.yaml or *.yml inventory files"),
    ]


def test_shipped_examples_validate_together() -> None:
    """site.yaml and examples/flat.yaml share rack sh1/r101/A01: their U positions must not clash."""
    book = load_inventory([SITE, FLAT])
    assert len(book.hosts) == 51
    assert not book.warnings


def test_inventories_directory_skips_legacy_books() -> None:
    book = load_inventory(SITE.parent)
    assert sorted(Path(f).name for f in book.files) == ["flat.yaml", "site.yaml"]


def test_directory_is_read_sorted_and_recursively(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.yml").write_text("version: 1\nhosts: [{name: z1, bmc: {address: 10.0.0.3}}]\n")
    (tmp_path / "a.yaml").write_text("version: 1\nhosts: [{name: a1, bmc: {address: 10.0.0.1}}]\n")
    (tmp_path / "examples" / "legacy").mkdir(parents=True)
    (tmp_path / "examples" / "legacy" / "map.yaml").write_text("columns: {}\n")
    (tmp_path / "notes.txt").write_text("not yaml")
    book = load_inventory(tmp_path)
    assert [h.name for h in book.hosts] == ["a1", "z1"]
