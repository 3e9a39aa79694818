"""``dcops web user add|list|remove``: the password comes from a file or stdin, never argv, is
stored only as a hash, and appears in no output or audit entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcops.store import audit, open_store
from dcops.web import users
from dcops.web.auth import verify_password
from tests.helpers.cli import run


def test_add_list_update_remove(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    secret = tmp_path / "pw"
    secret.write_text("Sup3r-secret-pw\n")
    code, out, err = run(capsys, "--state", state, "-o", "json", "web", "user", "add", "anna", "--role", "operator",
                         "--password-file", str(secret))
    assert code == 0, err
    assert json.loads(out)["items"] == [{"name": "anna", "role": "operator", "created": True}]
    code, out, _ = run(capsys, "--state", state, "-o", "json", "web", "user", "list")
    assert [(u["name"], u["role"]) for u in json.loads(out)["items"]] == [("anna", "operator")]
    assert "scrypt" not in out and "Sup3r" not in out
    secret.write_text("An0ther-secret-pw\n")
    code, out, _ = run(capsys, "--state", state, "-o", "json", "web", "user", "add", "anna", "--role", "viewer",
                       "--password-file", str(secret))
    assert code == 0 and json.loads(out)["items"][0]["created"] is False
    store = open_store(state)
    role, stored = users.lookup(store, "anna") or ("", "")
    assert role == "viewer" and verify_password("An0ther-secret-pw", stored)
    trail = audit.query(store, action="web")
    assert [e.action for e in trail] == ["web.user.update", "web.user.add"]
    assert not any("secret" in (e.details or "") for e in trail)
    store.close()
    assert run(capsys, "--state", state, "web", "user", "remove", "anna")[0] == 0
    code, _, err = run(capsys, "--state", state, "web", "user", "remove", "anna")
    assert code == 2 and "no web user 'anna'" in err


@pytest.mark.parametrize(("name", "password", "message"), [
    ("anna", "short", "at least 8 characters"),
    ("two words", "long-enough-pw", "no spaces"),
    ("", "long-enough-pw", "1-100 printable"),
])
def test_add_refuses(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, password: str,
                     message: str) -> None:
    secret = tmp_path / "pw"
    secret.write_text(password + "\n")
    code, _, err = run(capsys, "--state", f"sqlite:///{tmp_path / 's.db'}", "web", "user", "add", name,
                       "--password-file", str(secret))
    assert code == 2 and message in err, err


def test_a_missing_password_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--state", f"sqlite:///{tmp_path / 's.db'}", "web", "user", "add", "anna",
                       "--password-file", str(tmp_path / "nope"))
    assert code == 2 and "nope: cannot read" in err
