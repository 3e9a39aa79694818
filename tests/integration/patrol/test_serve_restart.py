"""`dcops serve` killed with SIGKILL mid-round and restarted loses no open incident, no
acknowledgement and no undelivered notification, and does not notify again what it delivered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dcops.notify import store as outbox_store
from dcops.patrol import store as pstore
from dcops.store import open_store
from tests.integration.patrol.peers import free_port, wait_for, webhook

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]
REPO = Path(__file__).resolve().parents[3]


def _dcops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dcops", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)


def _serve(cfg: Path, port: int, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "dcops", "--config", str(cfg), "serve", "--listen",
                                 f"127.0.0.1:{port}"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_sigkill_and_restart_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    from tests.integration.patrol.conftest import make_sim_patrol

    sp = make_sim_patrol(tmp_path, 32)  # the fleet; its engine is not used: dcops serve patrols
    state = f"sqlite:///{tmp_path / 'serve.db'}"
    with webhook() as hook:
        cfg = tmp_path / "config.yaml"
        cfg.write_text(yaml.safe_dump({
            "inventory": str(sp.inventory), "state": state,
            "patrol": {"interval": "1s", "open_after": 1, "close_after": 3, "bmc_deadline": "60s",
                       "round_deadline": "120s"},  # rounds every second when idle, slower (not missed) when busy
            "notify": {"receivers": [{"name": "hook", "type": "webhook", "url": hook.url + "/dcops",
                                      "timeout": 2}], "routes": [{"receivers": ["hook"]}]}}))
        env = dict(os.environ, PYTHONPATH=str(REPO), DCOPS_ACTOR="oncall-anna")
        store = open_store(state)
        port = free_port()
        serve = _serve(cfg, port, tmp_path / "serve.log", env)
        try:
            wait_for(lambda: (pstore.last_round(store) or {}).get("id", 0) >= 2, 60, "two patrol rounds")
            sp.fault("psu_fail", ["sim-0003"], psu="1")
            opened = wait_for(lambda: [b for _, b in hook.received if b["event"] == "opened"
                                       and b["incident"]["host"] == "sim-0003"], 30, "the PSU incident delivered")
            first_id = opened[0]["incident"]["id"]
            hook.fail = True  # the receiver goes down: what follows must wait in the outbox
            sp.fault("drive_predictive", ["sim-0007"])
            wait_for(lambda: [i for i in pstore.list_incidents(store) if i.host == "sim-0007"], 30,
                     "the drive incident")
            acked = _dcops("--config", str(cfg), "alerts", "ack", str(first_id), "-m", "on my way", env=env)
            assert acked.returncode == 0, acked.stderr
            wait_for(lambda: outbox_store.outbox_counts(store)["pending"] >= 2, 20, "two notifications pending")
            wait_for(lambda: (pstore.last_round(store) or {}).get("id", 0) >= 1, 5, "a round")
            serve.send_signal(signal.SIGKILL)  # rounds run every second: this lands in or near one
            serve.wait(10)
        finally:
            if serve.poll() is None:
                serve.kill()
        # Nothing lost on disk.
        open_now = {i.host: i for i in pstore.list_incidents(store)}
        assert {"sim-0003", "sim-0007"} <= set(open_now)
        assert open_now["sim-0003"].acked_by == "oncall-anna" and open_now["sim-0003"].ack_note == "on my way"
        pending = outbox_store.outbox_counts(store)["pending"]
        assert pending >= 2
        # Restart with the receiver back: the backlog is delivered, once; nothing is sent twice.
        hook.fail = False
        serve = _serve(cfg, port, tmp_path / "serve.log", env)
        try:
            wait_for(lambda: outbox_store.outbox_counts(store)["pending"] == 0, 90, "the backlog delivered")
            wait_for(lambda: (pstore.last_round(store) or {}).get("id", 0) >= 3 + 2, 30, "rounds after restart")
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                assert serve.wait(30) == 0
            except subprocess.TimeoutExpired:
                serve.kill()
                raise
        events = [(b["event"], b["incident"]["host"]) for _, b in hook.received]
        assert events.count(("opened", "sim-0003")) == 1, events
        assert events.count(("opened", "sim-0007")) == 1, events
        assert events.count(("acked", "sim-0003")) == 1, events
        assert {i.host for i in pstore.list_incidents(store)} >= {"sim-0003", "sim-0007"}
    sp.loop.close()
    sp.sim.close()
