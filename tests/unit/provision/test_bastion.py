"""Post-install SSH through a bastion: the ProxyJump value is checked (nothing ssh would read as an
option), the host's own ``extra.bastion`` wins over ``--bastion``, host keys stay pinned, and the
options Ansible passes are ones OpenSSH itself accepts (``ssh -G`` resolves them without
connecting)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dcops.baseline.models import NetworkValues
from dcops.errors import InvalidInputError
from dcops.provision.steps import Options, _host_vars, proxy_jump

JUMPS: list[tuple[str, Any]] = [
    ("bastion.example.net", "bastion.example.net"),
    ("ops@192.0.2.1:2222", "ops@192.0.2.1:2222"),
    ("ops@[2001:db8::1]:22", "ops@[2001:db8::1]:22"),
    ("a.example.net, ops@b.example.net", "a.example.net,ops@b.example.net"),  # two hops
    ("-oProxyCommand=touch /tmp/x", InvalidInputError),  # an option, not a host
    ("host name", InvalidInputError),
    ("host;reboot", InvalidInputError),
    ("", InvalidInputError),
    ("a.example.net,", InvalidInputError),
]


@pytest.mark.parametrize(("value", "want"), JUMPS)
def test_proxy_jump_values(value: str, want: Any) -> None:
    if want is InvalidInputError:
        with pytest.raises(InvalidInputError, match="bastion"):
            proxy_jump(value)
    else:
        assert proxy_jump(value) == want


def _net(extra: dict[str, str] | None = None) -> NetworkValues:
    return NetworkValues("h1.example.net", "198.51.100.10", 24, extra=extra or {},
                         provisioning=NetworkValues("h1.example.net", "192.0.2.10", 24))


HOSTVARS: list[tuple[str | None, dict[str, str] | None, str | None, str | None]] = [
    # (--bastion, the host's extra, connection, ProxyJump in the ssh args)
    (None, None, None, None),
    ("jump.example.net", None, None, "jump.example.net"),
    ("jump.example.net", {"bastion": "ops@rack-jump.example.net"}, None, "ops@rack-jump.example.net"),
    ("jump.example.net", None, "local", None),  # a local connection has no ssh
]


@pytest.mark.parametrize(("option", "extra", "connection", "jump"), HOSTVARS)
def test_the_playbooks_reach_the_provisioning_address_through_the_bastion(
        option: str | None, extra: dict[str, str] | None, connection: str | None, jump: str | None,
        tmp_path: Path) -> None:
    ctx: Any = SimpleNamespace(options=Options(bastion=option, ansible_connection=connection))
    known = tmp_path / "known_hosts"
    found = _host_vars(ctx, SimpleNamespace(deploy_user="dcops"), _net(extra), known)  # type: ignore[arg-type]
    assert found["ansible_host"] == "192.0.2.10" and found["ansible_user"] == "dcops"
    args = found["ansible_ssh_common_args"]
    assert f"UserKnownHostsFile={known}" in args and "StrictHostKeyChecking=yes" in args
    assert (f"ProxyJump={jump}" in args) if jump else "ProxyJump" not in args


@pytest.mark.skipif(shutil.which("ssh") is None, reason="no OpenSSH client")
def test_openssh_accepts_the_options_ansible_passes(tmp_path: Path) -> None:
    ctx: Any = SimpleNamespace(options=Options(bastion="ops@192.0.2.1:2222"))
    args = _host_vars(ctx, SimpleNamespace(deploy_user="dcops"), _net(), tmp_path / "kh")["ansible_ssh_common_args"]
    # ssh -G prints the configuration it would use and exits: no connection is made.
    out = subprocess.run(["ssh", "-F", "/dev/null", "-G", *shlex.split(args), "dcops@192.0.2.10"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert "proxyjump ops@[192.0.2.1]:2222" in out and "stricthostkeychecking true" in out
