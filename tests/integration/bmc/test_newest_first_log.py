"""A newest-first log (Dell iDRAC's SEL; ``dcops sim``'s Dell profile lists it that way) looked at
with ``$top=1`` before its first page is read (newest.py): after one check against the page, a
minute with nothing new costs one one-entry answer instead of the page, and every entry a fault or
a clear adds is reported exactly as by a reader that reads the page every minute."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.secrets import Secret
from tests.helpers.simfleet import fleet

pytestmark = pytest.mark.timeout(180)
MINUTE = ("sensors", "logs")


def _log_paths(reader: RedfishFleet, host: str) -> list[str]:
    return [p for p in (reader.trace or {}).get(host, []) if "/entries" in p.lower()]


def test_a_newest_first_log_is_read_only_when_its_newest_entry_moves() -> None:
    with fleet(1, ("dell-r750",)) as sim:
        host = sim.fleet.hosts[0].name
        target = Target(host, sim.url(0), sim.username, Secret(sim.password), verify_tls=False)

        def act(path: str, body: dict[str, Any]) -> None:
            if path == "clear-log":  # the BMC's own ClearLog action, as an operator would
                import base64
                import ssl
                import urllib.request

                auth = base64.b64encode(f"{sim.username}:{sim.password}".encode()).decode()
                request = urllib.request.Request(
                    f"{sim.url(0)}/redfish/v1/Managers/iDRAC.Embedded.1/LogServices/Sel/Actions/LogService.ClearLog",
                    data=b"{}", method="POST", headers={"Authorization": f"Basic {auth}",
                                                        "Content-Type": "application/json"})
                context = ssl.create_default_context()
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                    assert answer.status in (200, 202, 204)
                return
            sim.control.post(path, {"hosts": [host], **body})

        async def run() -> list[tuple[list[str], list[str], list[str]]]:
            looking, paging = RedfishFleet(concurrency=2), RedfishFleet(concurrency=2)
            looking.trace = {}
            steps: list[tuple[list[str], list[str], list[str]]] = []
            script: list[list[tuple[str, dict[str, Any]]]] = [
                [], [], [],  # first visit (baseline), the check, then $top=1 alone
                [("/v1/faults", {"kind": "psu_fail", "args": {"psu": "1"}})],
                [],
                [("/v1/faults", {"kind": "dimm_ue", "args": {}}), ("/v1/faults", {"kind": "fan_fail", "args": {}})],
                [],
                [("clear-log", {})],  # the count falls: the page is read
                [("clear-log", {}), ("/v1/faults", {"kind": "psu_fail", "args": {"psu": "2"}})],
                [],
            ]
            for actions in script:
                for action in actions:
                    act(*action)
                looking.trace = {}
                a = await looking.visit(target, sections=MINUTE)
                b = await paging.visit(target, sections=MINUTE)
                paging.state(target).top = False  # this one reads the page every minute
                assert a.observation is not None and b.observation is not None, (a.error, b.error)
                steps.append(([e.id for e in a.observation.log_entries], [e.id for e in b.observation.log_entries],
                              _log_paths(looking, host)))
            assert looking.state(target).top is True
            await looking.close()
            await paging.close()
            return steps

        steps = asyncio.run(run())
    for looked, paged, _ in steps:
        assert looked == paged  # the same entries, minute by minute
    assert any(looked for looked, _, _ in steps[3:])  # the faults did add entries
    # The first visit reads the page; the second looks and reads it (the check); then a quiet minute
    # is one $top=1, and a minute after a fault a $top=1 and the page.
    assert [len(paths) for _, _, paths in steps[:3]] == [1, 2, 1], steps
    assert all(p.endswith("?$top=1") for p in steps[2][2])
    for (looked, _, paths) in steps[3:]:
        assert paths[0].endswith("?$top=1"), paths
        assert len(paths) == 2 or not looked, (looked, paths)  # something new: the page was read
