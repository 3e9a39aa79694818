"""The operations kit in docs/deploy/ passes the tools' own checks (promtool, amtool). In CI the
tools must be there; elsewhere a missing tool skips with the reason."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[3] / "docs" / "deploy"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is needed in CI")
        pytest.skip(f"{name} is not installed")
    return path


def _run(*argv: str) -> None:
    result = subprocess.run(argv, cwd=DEPLOY, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_pass_promtool() -> None:
    _run(_tool("promtool"), "check", "rules", "dcops-rules.yml")


def test_prometheus_config_passes_promtool() -> None:
    _run(_tool("promtool"), "check", "config", "prometheus.yml")


def test_alertmanager_config_passes_amtool() -> None:
    _run(_tool("amtool"), "check-config", "alertmanager.yml")


def test_alertmanager_inhibitions_use_the_labels_dcops_sends() -> None:
    from dcops.notify.render import ALERTNAMES, alert_labels
    from tests.integration.patrol.helpers import psu_incident

    config = yaml.safe_load((DEPLOY / "alertmanager.yml").read_text())
    labels = set(alert_labels(psu_incident().to_json()))
    for rule in config["inhibit_rules"]:
        for name in rule.get("equal", []):
            assert name in labels, f"inhibition on {name!r}, a label dcops does not send"
    names = " ".join(str(r) for r in config["inhibit_rules"])
    assert all(n in set(ALERTNAMES.values()) for n in ("DcopsRackPowerLoss", "DcopsBmcUnreachable")
               if n in names)


def test_dashboard_is_grafana_json_over_dcops_metrics() -> None:
    dash = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert exprs and all("dcops_" in e for e in exprs)


def test_systemd_unit_runs_dcops_serve() -> None:
    unit = (DEPLOY / "dcops.service").read_text()
    assert "ExecStart=" in unit and "dcops serve" in unit and "Restart=always" in unit
    analyze = shutil.which("systemd-analyze")
    if analyze:
        result = subprocess.run([analyze, "verify", "--man=no", str(DEPLOY / "dcops.service")], capture_output=True,
                                text=True, timeout=60)
        assert "Unknown key" not in result.stderr and "Unknown section" not in result.stderr, result.stderr


def test_warranty_digest_timer_runs_the_remind_pass_daily() -> None:
    """The systemd alternative to `dcops serve`'s daily digest: a oneshot running the remind pass
    (exit 1, "some expired", is success) and a persistent daily timer; systemd's own check."""
    service = (DEPLOY / "dcops-warranty-digest.service").read_text()
    timer = (DEPLOY / "dcops-warranty-digest.timer").read_text()
    assert "Type=oneshot" in service and "dcops assets warranty --remind" in service
    assert "SuccessExitStatus=1" in service
    assert "OnCalendar=*-*-* 08:00:00" in timer and "Persistent=true" in timer
    analyze = shutil.which("systemd-analyze")
    if analyze:
        result = subprocess.run([analyze, "verify", "--man=no", str(DEPLOY / "dcops-warranty-digest.service"),
                                 str(DEPLOY / "dcops-warranty-digest.timer")], capture_output=True, text=True,
                                timeout=60)
        assert "Unknown key" not in result.stderr and "Unknown section" not in result.stderr, result.stderr
