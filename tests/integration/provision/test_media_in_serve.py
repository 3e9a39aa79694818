"""The standing media server of `dcops serve` (config provision.media_listen): a `provision run
--media-listen external` process publishes each host's answer image into the shared media
directory, the simulated BMC and installer fetch it from `dcops serve` by its token URL, the
installer's completion call lands there and the run reads it from disk."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet
from tests.helpers.assets_peers import free_port
from tests.helpers.simfleet import wait_for
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import cli, installs, sim_baselines, write_inventory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]
REPO = Path(__file__).resolve().parents[3]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_provision_run_uses_the_media_server_of_dcops_serve(state: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    media_port, metrics_port = free_port(), free_port()
    media_dir = tmp_path / "media"
    cfg = tmp_path / "serve.yaml"
    cfg.write_text(yaml.safe_dump({"state": f"sqlite:///{tmp_path / 'serve.db'}",
                                   "provision": {"media_listen": f"127.0.0.1:{media_port}",
                                                 "media_dir": str(media_dir)}}))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen([sys.executable, "-m", "dcops", "--config", str(cfg), "serve", "--no-patrol",
                                  "--listen", f"127.0.0.1:{metrics_port}"], cwd=REPO,
                                 env=dict(os.environ, PYTHONPATH=str(REPO)), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _listening(media_port) or serve.poll() is not None, what="dcops serve's media server")
        assert serve.poll() is None, log.read_text()
        with ThreadedFleet(FleetSpec(hosts=1, profiles=("dell-r750",), timings=FAST, request_log=4096)) as sim:
            inv = write_inventory(sim, tmp_path / "inv.yaml", monkeypatch)
            base = sim_baselines(tmp_path, ["sim-0001"], playbooks=False)
            code, data, err = cli(capsys, "provision", "run", "sim-0001", "-i", str(inv), "--baselines", str(base),
                                  "--poll", "0.05", "--until", "os-install", "--media-listen", "external",
                                  "--media-url", f"http://127.0.0.1:{media_port}", "--media-dir", str(media_dir),
                                  "--yes", "-v")
            assert code == 0, err
            install = installs(sim, "sim-0001")
            assert install is not None and install["state"] == "installed", install
            media = [u for u in install["media"] if "/media/" in u]
            assert media and all(u.startswith(f"http://127.0.0.1:{media_port}/media/") for u in media)
            assert install["answer"]["valid"] and install["callbacks"] == []
        assert not (media_dir / "sim-0001").exists()  # withdrawn after the install
        assert f"serving installer media at http://127.0.0.1:{media_port}" in log.read_text()
    finally:
        serve.terminate()
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(10)
