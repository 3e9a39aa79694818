"""`dcops assets collect` reads collections with `$expand` where the BMC advertises it: on the
simulator's flavours (Dell first: the brief's case) far fewer requests reach the BMC, and the
collected snapshot is the same part for part as when every member is read on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dcops.assets.collect import collect_fleet
from dcops.assets.model import AssetSnapshot
from dcops.inventory import load_inventory
from dcops.sim.fleet import FleetSpec
from dcops.sim.testing import ThreadedFleet

pytestmark = pytest.mark.timeout(120)


def _comparable(snap: AssetSnapshot | None) -> dict[str, Any]:
    assert snap is not None
    data = snap.to_json()
    data.pop("taken_at")
    return data


@pytest.mark.parametrize("profile", ["dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13"])
def test_expand_cuts_requests_and_collects_the_same_parts(profile: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    env = f"DCOPS_TEST_EXPAND_PW_{profile.replace('-', '_').upper()}"
    with ThreadedFleet(FleetSpec(hosts=3, profiles=(profile,)), control=False) as sim:
        monkeypatch.setenv(env, sim.password)
        path = tmp_path / "fleet.yaml"
        sim.fleet.write_inventory(path, f"env:{env}")
        hosts = load_inventory(path).hosts

        def served() -> list[int]:  # requests each simulated BMC answered so far (login and logout included)
            return [sim.bmc(i).request_count for i in range(len(hosts))]

        start = served()
        plain = collect_fleet(hosts, expand=False, deadline=60)
        middle = served()
        expanded = collect_fleet(hosts, expand=True, deadline=60)
        end = served()
    assert [o.error for o in plain + expanded if o.error] == []
    for before, after in zip(plain, expanded, strict=True):
        assert _comparable(after.snapshot) == _comparable(before.snapshot)
        assert len(after.snapshot.parts) > 20  # type: ignore[union-attr]
    per_plain = [b - a for a, b in zip(start, middle, strict=True)]
    per_expanded = [b - a for a, b in zip(middle, end, strict=True)]
    # Client and BMC agree on the count, and $expand needs well under half the requests.
    assert [o.requests for o in expanded] == [n - 2 for n in per_expanded]  # the BMC also saw login and logout
    for many, few in zip(per_plain, per_expanded, strict=True):
        assert few * 2 < many, (per_plain, per_expanded)
    if profile == "dell-r750":
        print(f"\n{profile}: {per_plain[0]} requests per BMC without $expand, {per_expanded[0]} with")

