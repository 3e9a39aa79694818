"""Running an action over hosts below the command line: outcomes per host in the hosts' order,
confirmation through whatever front end is given (dcops.actions imports no front end)."""

from __future__ import annotations

import pytest

from dcops.actions import Frontend, confirm, run_on_hosts
from dcops.errors import UnreachableError, UsageError
from dcops.models import BmcEndpoint, Host

HOSTS = [Host(name=f"h{n}", bmc=BmcEndpoint(address=f"127.0.0.{n + 1}")) for n in range(5)]


def test_errors_stay_per_host_and_outcomes_keep_the_hosts_order() -> None:
    def act(host: Host) -> str:
        if host.name == "h2":
            raise UnreachableError("h2: no answer")
        return host.name.upper()

    outcomes = run_on_hosts(HOSTS, act, "test", Frontend(parallel=3))
    assert [o.host.name for o in outcomes] == [h.name for h in HOSTS]
    assert [o.value for o in outcomes] == ["H0", "H1", None, "H3", "H4"]
    assert [type(o.error).__name__ if o.error else None for o in outcomes] == \
        [None, None, "UnreachableError", None, None]


@pytest.mark.parametrize(("yes", "interactive", "agrees", "outcome"), [
    (True, False, False, "go"),  # --yes: nobody is asked
    (False, True, True, "go"),
    (False, True, False, "refused"),
    (False, False, True, "usage"),  # no terminal and no --yes: refused, naming --yes
])
def test_confirm(yes: bool, interactive: bool, agrees: bool, outcome: str) -> None:
    said: list[str] = []
    asked: list[str] = []

    def ask(question: str) -> None:
        asked.append(question)
        if not agrees:
            raise KeyboardInterrupt

    via = Frontend(say=said.append, ask=ask, interactive=lambda: interactive)
    if outcome == "usage":
        with pytest.raises(UsageError, match="--yes"):
            confirm("will power off h1", yes, via)
    elif outcome == "refused":
        with pytest.raises(KeyboardInterrupt):
            confirm("will power off h1", yes, via)
    else:
        confirm("will power off h1", yes, via)
    assert said == ["will power off h1"]
    assert asked == (["Proceed?"] if interactive and not yes else [])
