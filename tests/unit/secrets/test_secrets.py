"""Password references resolve from env, file, command and prompt, and never show themselves."""

from __future__ import annotations

import io
import logging
import os
import sys

import pytest

from dcops import secrets
from dcops.errors import CredentialError, ExitCode

PASSWORD = "Bmc-Pa55-word!"


def test_secret_masks_itself_everywhere() -> None:
    s = secrets.Secret(PASSWORD)
    for shown in (str(s), repr(s), f"{s}", f"{s!r}", "%s" % s, str([s]), str({"p": s})):  # noqa: UP031 - %-formatting must mask too
        assert PASSWORD not in shown
    assert s.reveal() == PASSWORD
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(s)


@pytest.mark.parametrize("ref, problem", [
    ("env:BMC_PASS", None),
    ("file:/etc/dcops/bmc", None),
    ("cmd:pass show dc/bmc", None),
    ("prompt", None),
    ("plain:x", None),
    ("env:", "names nothing"),
    ("hunter2", "not the password itself"),
    ("vault:secret/bmc", "not the password itself"),
])
def test_check_reference(ref: str, problem: str | None) -> None:
    found = secrets.check_reference(ref)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_resolve_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_BMC_PASS", PASSWORD)
    assert secrets.resolve("env:T_BMC_PASS").reveal() == PASSWORD


def test_resolve_missing_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_MISSING", raising=False)
    with pytest.raises(CredentialError, match="environment variable T_MISSING is not set") as info:
        secrets.resolve("env:T_MISSING")
    assert info.value.exit_code == ExitCode.INVALID_INPUT


def test_resolve_file_warns_when_others_can_read(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bmc.pass"
    path.write_text(PASSWORD + "\n")
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING):
        assert secrets.resolve(f"file:{path}").reveal() == PASSWORD
    assert "can be read by other users" in caplog.text and PASSWORD not in caplog.text


def test_resolve_unreadable_file(tmp_path) -> None:
    with pytest.raises(CredentialError, match="cannot read"):
        secrets.resolve(f"file:{tmp_path}/nope")


def test_resolve_command_and_its_failure_does_not_echo_stderr(tmp_path) -> None:
    ok = tmp_path / "ok.sh"
    ok.write_text(f"#!/bin/sh\necho '{PASSWORD}'\n")
    bad = tmp_path / "bad.sh"
    bad.write_text(f"#!/bin/sh\necho 'wrong key for {PASSWORD}' >&2\nexit 3\n")
    os.chmod(ok, 0o755)
    os.chmod(bad, 0o755)
    assert secrets.resolve(f"cmd:{ok}", trusted=True).reveal() == PASSWORD
    with pytest.raises(CredentialError, match="exited 3") as info:
        secrets.resolve(f"cmd:{bad} --field password", trusted=True)
    assert PASSWORD not in str(info.value)


def test_prompt_refuses_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(CredentialError, match="needs a terminal"):
        secrets.resolve("prompt")


def test_redact_and_logging_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_BMC_PASS", PASSWORD)
    secrets.resolve("env:T_BMC_PASS")
    assert secrets.redact(f"login admin:{PASSWORD}@bmc") == f"login admin:{secrets.MASK}@bmc"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(secrets.RedactingFilter())
    logger = logging.getLogger("t.redact")
    logger.addHandler(handler)
    try:
        logger.error("auth failed for %s with %r", "admin", PASSWORD)
        try:
            raise ValueError(f"bad password {PASSWORD}")
        except ValueError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    assert PASSWORD not in stream.getvalue()
    assert stream.getvalue().count(secrets.MASK) >= 2
