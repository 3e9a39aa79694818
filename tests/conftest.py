"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from dcops import secrets
from dcops.report import Report
from tests.helpers import postgres
from tests.helpers.contract import check_envelope


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts with no known secrets, so a leak in one test can't hide in another."""
    secrets.forget_all()
    yield
    secrets.forget_all()


@pytest.fixture(autouse=True)
def _json_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every JSON envelope a test makes a command print is checked against docs/schemas/ (and for
    times without a zone): the schemas are proved on every JSON output in the suite."""
    original = Report.to_json

    def checked(self: Report) -> dict:  # type: ignore[type-arg]
        doc = original(self)
        check_envelope(doc)
        return doc

    monkeypatch.setattr(Report, "to_json", checked)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's real config and state out of tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    for var in ("DCOPS_CONFIG", "DCOPS_STATE", "DCOPS_INVENTORY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    """A real PostgreSQL server on loopback for the session. In CI a missing server fails the
    test; on a developer machine without PostgreSQL it skips with the reason."""
    try:
        server = postgres.start()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL needed in CI: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: postgres.PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """A fresh store URL on each supported backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    return str(request.getfixturevalue("postgres_url"))
