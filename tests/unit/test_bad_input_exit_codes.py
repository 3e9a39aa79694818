"""Bad input never ends in exit 70 (issue 15, item 7): a table of inputs the drill found, each with
the exit code and the file:line it must name; fuzz tests (hypothesis) of the inventory loader and
the capacity snapshot reader: whatever the bytes, the answer is a clean ``InvalidInputError``."""

from __future__ import annotations

import contextlib
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcops.capacity.snapshot import snapshot_from_json
from dcops.cli.main import main
from dcops.errors import InvalidInputError
from dcops.inventory import load_inventory_text
from dcops.terminal import safe

VALID = """\
version: 1
defaults:
  bmc: {username: root, password: env:BMC_PW}
sites:
  - name: dc1
    rooms:
      - name: r1
        racks:
          - name: A01
            hosts:
              - {name: db-01, u: 10, bmc: {address: 10.0.0.1, port: 443}}
              - {name: db-02, u: 12, role: db, tags: [prod], bmc: {address: 10.0.0.2}}
"""
SNAPSHOT = {"schema": "dcops.capacity.snapshot/v1", "taken_at": "2026-01-01T00:00:00+00:00", "nodes": [
    {"name": "n1", "az": "a", "resources": {"MEMORY_MB": {"total": 1000, "allocation_ratio": 1.5}}}]}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCOPS_STATE", f"sqlite:///{tmp_path}/state.db")


@pytest.mark.parametrize("name, text, where", [
    ("control character", "version: 1\nhosts:\n  - name: h\x01x\n    bmc: {address: 10.0.0.1}\n", ":3:"),
    ("NUL", "version: 1\nhosts:\n  - name: h1\n    bmc: {address: 10.0.0.1}\n\x00\n", ":5:"),
    ("escape", "version: 1\nhosts:\n  - name: h1\x1b[2J\n    bmc: {address: 10.0.0.1}\n", ":3:"),
    ("deep nesting", "version: 1\nhosts: " + "[" * 20000 + "]" * 20000 + "\n", ": not valid YAML: nested too deeply"),
    ("huge integer", "version: 1\nhosts:\n  - name: h1\n    bmc: {address: 10.0.0.1, port: " + "9" * 5000 + "}\n",
     ":4:"),
])
def test_bad_inventory_exit_3_with_file_and_line(name: str, text: str, where: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    code, err = run(capsys, "inventory", "validate", "-i", str(path))
    assert code == 3, err
    assert f"{path}{where}" in err, err
    assert "\x1b" not in err and "\x01" not in err and "\x00" not in err  # shown escaped


@pytest.mark.parametrize("name, doc, wrong", [
    ("Infinity ratio", json.dumps(SNAPSHOT).replace("1.5", "Infinity"), "Infinity is not a JSON number"),
    ("NaN ratio", json.dumps(SNAPSHOT).replace("1.5", "NaN"), "NaN is not a JSON number"),
    ("huge total", json.dumps(SNAPSHOT).replace("1000", "1" + "0" * 40), "larger than any inventory"),
    ("overflowing ratio", json.dumps(SNAPSHOT).replace("1.5", "1e300"), "Placement's maximum"),
    ("4,301-digit integer", json.dumps(SNAPSHOT).replace("1000", "1" * 4301), "not valid JSON"),
    ("deep nesting", '{"schema": ' + "[" * 100000 + "]" * 100000 + "}", "not valid JSON"),
])
def test_bad_snapshot_exit_3(name: str, doc: str, wrong: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "snap.json"
    path.write_text(doc)
    code, err = run(capsys, "capacity", "check", "--from-file", str(path))
    assert code == 3, err
    assert wrong in err and str(path) in err, err


@pytest.mark.parametrize("argv", [
    ["alerts", "show", "9" * 30],
    ["alerts", "ack", "9" * 30, "-m", "x"],
    ["alerts", "unsilence", "0"],
    ["serve", "--no-patrol", "--listen", "127.0.0.1:99999"],
    ["serve", "--no-patrol", "--listen", "nonsense"],
])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, *argv)
    assert code == 2, err


def test_listen_on_a_port_in_use_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run(capsys, "serve", "--no-patrol", "--listen", f"127.0.0.1:{port}")
    assert code == 2 and "cannot listen there" in err, err


def test_a_mapping_regex_that_backtracks_is_stopped_with_its_line(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "book.csv"
    book.write_text("Hostname,BMC IP,Loc\nh1,10.0.0.1," + "a" * 40 + "!\nh2,10.0.0.2,aa\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("version: 1\ncolumns:\n  name: Hostname\n  bmc.address: BMC IP\n"
                       "split:\n  - {column: Loc, pattern: '(?P<rack>(a|aa)+)$'}\n")
    code, err = run(capsys, "inventory", "import", str(book), "--mapping", str(mapping))
    assert code == 3, err
    assert f"{mapping}:6: pattern" in err and "backtracks catastrophically" in err


@pytest.mark.parametrize("text, shown", [
    ("model \x1b]0;pwned\x07 X", "model \\x1b]0;pwned\\x07 X"),
    ("a\nb", "a\\x0ab"),
    ("é ok ✓", "é ok ✓"),
    ("x" * 5000, "x" * 4000 + "... (1000 more characters cut)"),
])
def test_terminal_safe(text: str, shown: str) -> None:
    assert safe(text) == shown


# -- fuzz -------------------------------------------------------------------------------------

_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(0, len(VALID)), insert=st.text(_CHARS, max_size=8), cut=st.integers(0, 4))
def test_fuzz_inventory_loader_never_crashes(position: int, insert: str, cut: int) -> None:
    text = VALID[:position] + insert + VALID[position + cut:]
    try:
        load_inventory_text(text, "fuzz.yaml")
    except InvalidInputError as exc:
        assert all(p.file == "fuzz.yaml" for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(list(string.printable)),
               max_size=200))
def test_fuzz_inventory_loader_on_arbitrary_text(text: str) -> None:
    with contextlib.suppress(InvalidInputError):  # a clean refusal is fine; anything else fails the test
        load_inventory_text(text, "fuzz.yaml")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "az", "state", "rack", "resources", "x"]), _JSON, max_size=6),
       st.dictionaries(st.sampled_from(["total", "reserved", "used", "allocation_ratio"]),
                       st.integers() | st.floats() | st.none() | st.text(max_size=5), max_size=4))
def test_fuzz_snapshot_reader_never_crashes(node: dict[str, object], resource: dict[str, object]) -> None:
    doc = {"schema": "dcops.capacity.snapshot/v1", "taken_at": "2026-01-01T00:00:00+00:00",
           "nodes": [node, dict(SNAPSHOT["nodes"][0], resources={"VCPU": resource})]}  # type: ignore[index]
    try:
        snapshot = snapshot_from_json(doc, "fuzz.json")
    except InvalidInputError:
        return
    for n in snapshot.nodes:  # what passed validation must be usable by the math
        for r in n.resources.values():
            float(r.capacity)
