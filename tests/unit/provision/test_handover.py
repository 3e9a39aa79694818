"""The hand-off pieces on loopback: the reachability gate and the delivered hook (webhook and
command), including the refusals that must keep a host from being reported delivered."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from dcops.errors import ApplyError
from dcops.provision.handover import call_hook, wait_reachable
from tests.helpers.receivers import webhook
from tests.helpers.standins import Events, production_listeners

FACTS = {"host": "h1", "serial": "SN1", "address": "127.0.1.9", "host_keys": ["ssh-ed25519 AAAA"]}


def test_the_gate_passes_once_the_address_answers() -> None:
    events = Events()
    with production_listeners(["127.0.1.9"], events) as port:
        wait_reachable("127.0.1.9", port, time.monotonic() + 60, poll=0.05)
    assert events.first("reached 127.0.1.9") is not None


def test_the_gate_gives_up_at_its_deadline_naming_the_address() -> None:
    with production_listeners(["127.0.1.8"], Events()) as port:
        pass  # closed again: nothing listens there now
    with pytest.raises(ApplyError, match=rf"127\.0\.1\.8:{port} is not reachable"):
        wait_reachable("127.0.1.8", port, time.monotonic() + 0.3, poll=0.05)


def test_a_webhook_gets_the_facts_and_a_refusal_fails() -> None:
    with webhook() as hook:
        assert call_hook(f"{hook.url}/cmdb", FACTS) == {"hook": "webhook", "status": 200}
        assert hook.received == [("/cmdb", FACTS)]
        hook.fail = True
        with pytest.raises(ApplyError, match="answered 503"):
            call_hook(hook.url, FACTS)


def test_a_command_reads_the_facts_on_stdin_and_its_failure_fails(tmp_path: Path) -> None:
    out = tmp_path / "facts.json"
    script = tmp_path / "hook.py"
    script.write_text("import json, sys\nfacts = json.load(sys.stdin)\n"
                      f"open({str(out)!r}, 'w').write(json.dumps(facts))\n"
                      "sys.exit(0 if facts['serial'] else 3)\n")
    assert call_hook(f"{sys.executable} {script}", FACTS) == {"hook": "command", "status": 0}
    assert json.loads(out.read_text()) == FACTS
    with pytest.raises(ApplyError, match="failed: exit 3"):
        call_hook(f"{sys.executable} {script}", {**FACTS, "serial": ""})
    with pytest.raises(ApplyError, match="delivered hook"):
        call_hook(str(tmp_path / "no-such-command"), FACTS)
