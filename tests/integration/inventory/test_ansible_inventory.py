"""`dcops inventory ansible` read by ansible-core itself: `ansible-inventory -i <(dcops inventory
ansible --list) --graph` (the command CI runs), the script protocol through an executable wrapper,
host variables, --limit, and Ansible patterns over dcops's groups."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SITE = str(REPO / "inventories" / "site.yaml")
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.timeout(180)


def _ansible(tool: str) -> str:
    exe = BIN / tool
    if not exe.exists():
        found = shutil.which(tool)
        if found is None:
            pytest.fail(f"{tool} (ansible-core) is needed: it is a dependency of dcops")
        return found
    return str(exe)


def _env() -> dict[str, str]:
    return {**os.environ, "ANSIBLE_LOCAL_TEMP": "/tmp", "ANSIBLE_HOME": "/tmp/ansible-home",
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}


def test_ansible_inventory_reads_the_list_through_process_substitution() -> None:
    dcops = f"{sys.executable} -m dcops -i {SITE}"
    done = subprocess.run(["bash", "-c", f"{_ansible('ansible-inventory')} -i <({dcops} inventory ansible --list) "
                                         "--graph"], capture_output=True, text=True, timeout=120, env=_env(),
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    graph = done.stdout
    assert "@site_sh1:" in graph and "@room_sh1_r101:" in graph and "@rack_sh1_r101_A01:" in graph
    assert "@role_db:" in graph and "@tag_low_latency:" in graph and "@az_az3:" in graph
    assert graph.count("--trade-db-01") >= 3  # rack, role, tags (and az)


def _listing(inventory: str, *extra: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run([_ansible("ansible-inventory"), "-i", inventory, "--list", *extra], capture_output=True,
                          text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_the_script_protocol_through_an_executable_wrapper(tmp_path: Path) -> None:
    wrapper = tmp_path / "dcops-inventory"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -m dcops -i {SITE} -l 'site=sh1:!tag=dr' "
                       f"inventory ansible --script \"$@\"\n")
    wrapper.chmod(0o755)
    data = _listing(str(wrapper))
    hostvars = data["_meta"]["hostvars"]
    assert hostvars["trade-db-01"]["dcops_bmc_address"] == "192.0.2.24"
    assert hostvars["trade-db-01"]["dcops_rack"] == "A01" and hostvars["trade-db-01"]["dcops_role"] == "db"
    assert "dr-db-01" not in hostvars and "lab-03" not in hostvars  # --limit narrowed the book
    assert data["rack_sh1_r101_A01"]["hosts"][:2] == ["trade-gw-01", "trade-gw-02"]
    assert not any("password" in k for v in hostvars.values() for k in v)


def test_ansible_patterns_over_dcops_groups_select_what_dcops_selects(tmp_path: Path) -> None:
    listing = subprocess.run([sys.executable, "-m", "dcops", "-i", SITE, "inventory", "ansible"],
                             capture_output=True, text=True, timeout=60, cwd=REPO)
    assert listing.returncode == 0, listing.stderr
    path = tmp_path / "inventory.json"
    path.write_text(listing.stdout)
    done = subprocess.run([_ansible("ansible"), "-i", str(path), "rack_sh1_r101_A01:&role_db", "--list-hosts"],
                          capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    theirs = sorted(line.strip() for line in done.stdout.splitlines()[1:])
    ours = subprocess.run([sys.executable, "-m", "dcops", "-i", SITE, "inventory", "list", "rack=A01:&role=db",
                           "-o", "json"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert theirs == sorted(h["name"] for h in json.loads(ours.stdout)["items"]) == ["trade-db-01", "trade-db-02"]
