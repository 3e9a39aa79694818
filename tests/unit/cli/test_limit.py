"""`-l/--limit` across the CLI: Ansible's pattern grammar end to end, honoured by every command
that concerns hosts (including alerts, audit and patrol report), refused by every other one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import click
import pytest

from dcops.cli.common import raw_settings
from dcops.cli.main import cli
from dcops.cli.selection import check_limit
from dcops.patrol import store as pstore
from dcops.store import open_store
from dcops.store.audit import record
from tests.helpers.cli import SITE, leaf_commands, run
from tests.integration.patrol.helpers import psu_incident

# The commands that narrow their hosts by --limit; every other command refuses it.
HONOURING = {
    "alerts list", "assets collect", "console list", "assets reconcile", "assets search", "assets warranty", "audit list",
    "baseline apply", "baseline plan", "baseline verify", "bmc show", "boot", "inventory ansible", "inventory export",
    "inventory list", "inventory search", "patrol report", "patrol run", "patrol status", "patrol watch", "power apply",
    "power cycle", "power off", "power on", "power plan", "power reset", "power status", "provision abort",
    "provision plan", "provision resume", "provision retry", "provision run", "provision skip",
    "provision status", "serve", "vmedia eject", "vmedia insert", "vmedia status",
}


def _refuses(path: str, command: click.Command) -> str | None:
    root = click.Context(cli, info_name="dcops")
    raw_settings(root).limit.append("web-01")
    ctx = click.Context(command, parent=root, info_name=path)
    try:
        check_limit(ctx, None, None)  # type: ignore[arg-type]
    except click.UsageError as exc:
        return exc.format_message()
    return None


def test_every_command_either_honours_or_refuses_the_limit() -> None:
    leaves = leaf_commands()
    assert len(leaves) > 50
    honouring = {path for path, command in leaves if _refuses(path, command) is None}
    assert honouring == HONOURING


@pytest.mark.parametrize(("argv", "reason"), [
    (["sim", "profiles", "-l", "web-01"], "does not work on a set of hosts"),
    (["-l", "web-01", "state", "info"], "does not work on a set of hosts"),
    (["alerts", "ack", "3", "-l", "web-01"], "it works on incident IDs"),
    (["capacity", "racks", "-l", "az=az1"], "choose them with --az"),
])
def test_commands_where_it_makes_no_sense_refuse_it(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                     reason: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert "-l/--limit does not apply to" in err and reason in err


@pytest.mark.parametrize(("limit", "names"), [
    (["trade-db-01,trade-db-02"], ["trade-db-01", "trade-db-02"]),  # what every Ansible user types
    (["trade-db-01:trade-db-02"], ["trade-db-01", "trade-db-02"]),
    (["rack=A01:&role=db"], ["trade-db-01", "trade-db-02"]),
    (["trade-db-*:!trade-db-03:!trade-db-04"], ["trade-db-01", "trade-db-02"]),
    (["trade-db-01", "trade-db-02"], ["trade-db-01", "trade-db-02"]),  # repeated: or
])
def test_inventory_list_takes_ansible_patterns(capsys: pytest.CaptureFixture[str], limit: list[str],
                                               names: list[str]) -> None:
    argv = ["-i", SITE, "inventory", "list", "-o", "json"]
    for pattern in limit:
        argv += ["-l", pattern]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert [h["name"] for h in json.loads(out)["items"]] == names


def test_a_mistyped_name_in_the_limit_is_warned_about_like_ansible(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-i", SITE, "inventory", "list", "-l", "trade-db-01,trade-db-1", "-o", "json")
    assert code == 0 and [h["name"] for h in json.loads(out)["items"]] == ["trade-db-01"]
    assert err.startswith("dcops: warning: no host 'trade-db-1' in the inventory (did you mean ")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("DCOPS_STATE", url)
    return url


def test_audit_list_honours_the_limit(capsys: pytest.CaptureFixture[str], state: str) -> None:
    store = open_store(state)
    for i in range(30):
        record(store, "power.on", host="trade-db-01" if i % 10 == 0 else "web-01", actor="anna")
    record(store, "power.on", host="old-db-09", actor="anna")  # no longer in the book
    record(store, "inventory.import", actor="anna")            # about no host
    store.close()
    code, out, _ = run(capsys, "-i", SITE, "audit", "list", "-l", "rack=A01", "--rows", "2", "-o", "json")
    assert code == 0
    assert [e["host"] for e in json.loads(out)["items"]] == ["trade-db-01", "trade-db-01"]
    code, out, _ = run(capsys, "-i", SITE, "audit", "list", "-l", "*-db-*:!rack=A01", "-o", "json")
    assert [e["host"] for e in json.loads(out)["items"]] == ["old-db-09"]


def test_alerts_list_and_patrol_report_honour_the_limit(capsys: pytest.CaptureFixture[str], state: str) -> None:
    now = dt.datetime.now(dt.UTC)
    store = open_store(state)
    first = psu_incident(now, host="trade-db-01")
    second = dataclasses.replace(psu_incident(now, host="web-01"), id=first.id + 1)
    pstore.save_incident(store, first)
    pstore.save_incident(store, second)
    store.close()
    code, out, _ = run(capsys, "-i", SITE, "alerts", "list", "-o", "json")
    assert sorted(i["host"] for i in json.loads(out)["items"]) == ["trade-db-01", "web-01"]
    code, out, _ = run(capsys, "-i", SITE, "alerts", "list", "-l", "role=db", "-o", "json")
    assert code == 1 and [i["host"] for i in json.loads(out)["items"]] == ["trade-db-01"]
    # A rack narrows incidents too (it once returned every incident); a rack without any, none.
    code, out, _ = run(capsys, "-i", SITE, "alerts", "list", "-l", "rack=A02", "-o", "json")
    assert [i["host"] for i in json.loads(out)["items"]] == ["web-01"]
    code, out, _ = run(capsys, "-i", SITE, "alerts", "list", "-l", "rack=A09", "-o", "json")
    assert code == 0 and json.loads(out)["items"] == []
    code, out, _ = run(capsys, "-i", SITE, "patrol", "report", "--format", "json", "-l", "rack=A02")
    body = json.loads(out)
    assert [i["host"] for i in body["items"]] == ["web-01"]
    assert body["summary"]["hosts"] == 6  # the hosts of rack A02


def test_limit_from_a_file_like_ansible_retry_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    retry = tmp_path / "site.retry"
    retry.write_text("trade-db-01\n# a comment\n\nweb-0*:!web-03\n")
    code, out, err = run(capsys, "-i", SITE, "inventory", "list", "-l", f"@{retry}", "-o", "json")
    assert (code, err) == (0, "")
    assert [h["name"] for h in json.loads(out)["items"]] == ["trade-db-01", "web-01", "web-02", "web-04", "web-05"]
    code, _, err = run(capsys, "-i", SITE, "inventory", "list", "-l", f"@{tmp_path}/missing.retry")
    assert code == 2 and "cannot read" in err
