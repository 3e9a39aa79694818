"""No password appears in any output, at any verbosity, in any format.

Runs every command that reads an inventory or the state store with -vv --debug, in table and
JSON form, and greps stdout, stderr and the audit log for each password. New commands that touch
credentials belong in COMMANDS.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dcops import secrets
from dcops.cli.main import main

PLAIN_PASSWORD = "Plain-Text-Pw-9431"
ENV_PASSWORD = "Env-Var-Pw-2718"
FILE_PASSWORD = "File-Pw-1618"
STATE_PASSWORD = "State-Url-Pw-5772"

COMMANDS: list[list[str]] = [
    ["inventory", "validate"],
    ["inventory", "list"],
    ["inventory", "show", "db-01"],
    ["inventory", "show", "db-02"],
    ["inventory", "search", "db"],
    ["state", "info"],
    ["audit", "list"],
]


@pytest.fixture
def inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("T_BMC_PASSWORD", ENV_PASSWORD)
    pwfile = tmp_path / "bmc.pass"
    pwfile.write_text(FILE_PASSWORD + "\n")
    pwfile.chmod(0o600)
    path = tmp_path / "inv.yaml"
    path.write_text(textwrap.dedent(f"""\
        version: 1
        insecure_plaintext_passwords: true
        defaults:
          bmc: {{username: root, password: env:T_BMC_PASSWORD}}
        hosts:
          - name: db-01
            bmc: {{address: 127.0.0.1, port: 9001, password: "plain:{PLAIN_PASSWORD}"}}
          - name: db-02
            bmc: {{address: 127.0.0.1, port: 9002, password: "file:{pwfile}"}}
          - name: db-03
            bmc: {{address: 127.0.0.1, port: 9003}}
        """))
    return path


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
@pytest.mark.parametrize("output", ["table", "json"])
def test_no_password_in_any_output(argv: list[str], output: str, inventory: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    # Seed the audit log with an entry whose details mention the resolved passwords: the
    # audit writer must scrub them.
    from dcops.store import audit, open_store

    for ref in ("env:T_BMC_PASSWORD", f"plain:{PLAIN_PASSWORD}"):
        secrets.resolve(ref)
    store = open_store(state)
    audit.record(store, "bmc.login", host="db-01", details=f"tried {ENV_PASSWORD} and {PLAIN_PASSWORD}")
    store.close()

    main(["-i", str(inventory), "--state", state, "-vv", "--debug", "-o", output, *argv])
    out, err = capsys.readouterr()
    everything = out + err + caplog.text
    for password in (PLAIN_PASSWORD, ENV_PASSWORD, FILE_PASSWORD):
        assert password not in everything, f"{password} leaked by {' '.join(argv)} ({output})"


@pytest.mark.postgres
def test_state_url_password_never_shown(postgres_server, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.helpers.postgres import PASSWORD as PG_PASSWORD

    url = postgres_server.url("postgres")
    for argv in (["state", "info"], ["state", "info", "-o", "json"], ["audit", "list", "-o", "json"]):
        code = main(["--state", url, "-vv", "--debug", *argv])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert PG_PASSWORD not in out + err
    code = main(["--state", postgres_server.url("postgres", password=STATE_PASSWORD), "-vv", "--debug", "state", "info"])
    out, err = capsys.readouterr()
    assert code == 3 and "password authentication failed" in err and STATE_PASSWORD not in out + err


# -- commands that talk to BMCs: the password is resolved and sent, and must still never show ----

# argv, exit codes with the right password (0 done, 1 findings), exit code with a wrong one
# (4: the BMC refused the login; the command that reads only the store is not affected).
BMC_COMMANDS: list[tuple[list[str], tuple[int, ...], int]] = [
    (["bmc", "show", "sim-0001"], (0,), 4),
    (["power", "status", "sim-*"], (0,), 4),
    (["boot", "sim-0001", "--once", "pxe", "--yes"], (0,), 4),
    (["vmedia", "status", "sim-0001"], (0,), 4),
    (["assets", "collect", "sim-0001"], (0,), 4),
    (["baseline", "plan", "sim-0001"], (0, 1), 4),
    (["patrol", "run"], (0, 1), 4),
    (["alerts", "list"], (0,), 0),
]


@pytest.fixture(scope="module")
def sim_fleet():
    from dcops.sim.fleet import FleetSpec
    from dcops.sim.testing import ThreadedFleet

    with ThreadedFleet(FleetSpec(hosts=2), control=False) as fleet:
        yield fleet


@pytest.mark.parametrize("right_password", [True, False], ids=["right-password", "wrong-password"])
@pytest.mark.parametrize("argv, ok_codes, refused_code", BMC_COMMANDS, ids=[" ".join(c[0][:2]) for c in BMC_COMMANDS])
def test_no_bmc_password_in_any_output(argv: list[str], ok_codes: tuple[int, ...], refused_code: int,
                                       right_password: bool, sim_fleet, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    wrong = "Wrong-Bmc-Pw-8080"
    password = sim_fleet.password if right_password else wrong
    monkeypatch.setenv("T_SIM_BMC_PW", password)
    inventory = sim_fleet.fleet.write_inventory(tmp_path / "fleet.yaml", "env:T_SIM_BMC_PW")
    for output in ("table", "json"):
        code = main(["-i", str(inventory), "--state", f"sqlite:///{tmp_path}/state.db", "-vv", "--debug",
                     "-o", output, *argv])
        out, err = capsys.readouterr()
        everything = out + err + caplog.text
        assert code in (ok_codes if right_password else (refused_code,)), err
        for secret in (sim_fleet.password, wrong):
            assert secret not in everything, f"password leaked by {' '.join(argv)} ({output})"


# -- issue 15, item 5: a password with " and \ (its JSON-escaped form differs) and session tokens --

AWKWARD = 'Aw"k\\ward-Tail-7391'


@pytest.fixture(scope="module")
def awkward_fleet():
    from dcops.sim.fleet import FleetSpec
    from dcops.sim.testing import ThreadedFleet

    with ThreadedFleet(FleetSpec(hosts=1, password=AWKWARD), control=False) as fleet:
        yield fleet


@pytest.mark.parametrize("argv", [["bmc", "show", "sim-0001"], ["power", "status", "sim-0001"],
                                  ["patrol", "run"]], ids=["bmc show", "power status", "patrol run"])
def test_awkward_password_and_session_tokens_never_shown(argv: list[str], awkward_fleet, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    import json
    import logging
    import re

    monkeypatch.setenv("T_SIM_BMC_PW", AWKWARD)
    inventory = awkward_fleet.fleet.write_inventory(tmp_path / "fleet.yaml", "env:T_SIM_BMC_PW")
    with caplog.at_level(logging.DEBUG):
        code = main(["-i", str(inventory), "--state", f"sqlite:///{tmp_path}/state.db", "-vv", "--debug", *argv])
    out, err = capsys.readouterr()
    everything = out + err + caplog.text
    assert code in (0, 1), err
    for form in (AWKWARD, json.dumps(AWKWARD)[1:-1], "k\\ward-Tail-7391", "ward-Tail-7391"):
        assert form not in everything, f"{form!r} leaked by {' '.join(argv)}"
    tokens = re.findall(r"(?i)x-auth-token['\"]?\s*[:=]\s*['\"]?([^\s'\",}]+)", everything)
    assert all(t == secrets.MASK for t in tokens), tokens


@pytest.mark.parametrize("text, shown", [
    ("X-Auth-Token: 0123456789abcdef0123", "X-Auth-Token: ********"),
    ("{'X-Auth-Token': 'abcdef0123456789'}", "{'X-Auth-Token': '********'}"),
    ("Authorization: Basic cm9vdDpjYWx2aW4=", "Authorization: Basic ********"),
    ('"authorization": "Bearer eyJhbGciOi.x.y"', '"authorization": "Bearer ********"'),
    ("login failed for root", "login failed for root"),
])
def test_tokens_scrubbed_by_shape(text: str, shown: str) -> None:
    assert secrets.redact(text) == shown


def test_every_form_of_a_password_is_scrubbed() -> None:
    import json
    from urllib.parse import quote, quote_plus

    secrets.remember(AWKWARD)
    for form in (AWKWARD, json.dumps(AWKWARD)[1:-1], repr(AWKWARD)[1:-1], quote(AWKWARD, safe=""),
                 quote_plus(AWKWARD)):
        assert secrets.redact(f"body={{password: {form}}}") == f"body={{password: {secrets.MASK}}}", form
