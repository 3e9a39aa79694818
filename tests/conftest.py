"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops import secrets
from dcops.report import Report
from tests.helpers import loopback, postgres, timing
from tests.helpers.contract import check_envelope

# The loopback guard (tests/helpers/loopback.py): in this process from the first import on, and in
# every Python subprocess a test starts (sitecustomize on PYTHONPATH). Violations are also logged,
# so one swallowed by a broad ``except`` in the code under test still fails its test.
loopback.guard_process_tree()
_LOOPBACK_LOG = Path(tempfile.gettempdir()) / f"dcops-loopback-{os.getpid()}.log"
_LOOPBACK_LOG.write_text("")
os.environ[loopback.LOG_ENV] = str(_LOOPBACK_LOG)


class LoopbackLog:
    """What the guard logged during one test; ``take()`` hands expected violations to the test
    that provokes them on purpose, so they do not fail it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def take(self) -> list[str]:
        with self.path.open(encoding="utf-8") as log:
            log.seek(self.offset)
            lines = log.read().splitlines()
            self.offset = log.tell()
        return lines


@pytest.fixture(autouse=True)
def loopback_log() -> Iterator[LoopbackLog]:
    """Fails the test if anything in it (or in a subprocess it started) tried to leave loopback."""
    log = LoopbackLog(_LOOPBACK_LOG)
    yield log
    stray = log.take()
    if stray:
        pytest.fail("\n".join(stray), pytrace=False)


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
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    for var in ("DCOPS_CONFIG", "DCOPS_STATE", "DCOPS_INVENTORY", "DCOPS_CACHE_DIR"):
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A ``timeout`` mark is a backstop against a hang, not a speed check (benchmarks measure
    speed): scaled by ``timing.BACKSTOP`` so a test that is merely slow on a busy machine is not
    killed, while a hung one still is."""
    for item in items:
        mark = item.get_closest_marker("timeout")
        if mark is not None and mark.args:
            item.add_marker(pytest.mark.timeout(float(mark.args[0]) * timing.BACKSTOP), append=False)
