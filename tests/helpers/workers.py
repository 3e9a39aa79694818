"""Start a real ``dcops serve --worker NAME`` process on a loopback port: the three-worker
integration test and the workers benchmark both do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.helpers.ipmi_sim import free_port

REPO = Path(__file__).resolve().parents[2]


def spawn_worker(cfg: Path, name: str, log: Path, *, env: Mapping[str, str] | None = None,
                 verbose: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    """The worker process (output appended to ``log``) and the loopback port its exporter listens on."""
    port = free_port()
    args = [sys.executable, "-m", "dcops", "--config", str(cfg), *(["-v"] if verbose else []), "serve",
            "--listen", f"127.0.0.1:{port}", "--worker", name]
    environ = dict(env) if env is not None else dict(os.environ, PYTHONPATH=str(REPO))
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=REPO, env=environ, stdout=out, stderr=subprocess.STDOUT), port
