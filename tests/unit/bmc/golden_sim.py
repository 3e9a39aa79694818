"""Record the documents a ``dcops sim`` fleet serves to the fleet reader on steady minute visits
(the input of the ``sim/`` rows of the golden table, tests/unit/bmc/golden_reads.py): one host of
each default profile healthy and one with each of several faults, four visits each (the fourth,
steady one is kept: Chassis with Thermal/Power inline, the Sensors collection expanded, only the
log entries new since the cursor). Loopback only. Rerun only to extend the table:

    .venv/bin/python -m tests.unit.bmc.golden_sim
"""

from __future__ import annotations

import asyncio
import gzip
import json

from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.secrets import Secret
from dcops.sim.faults import apply_fault
from dcops.sim.fleet import FleetSpec
from dcops.sim.profiles import DEFAULT_PROFILES
from dcops.sim.records import Timings
from dcops.sim.testing import ThreadedFleet
from tests.unit.bmc.golden_reads import SIM_DOCS

# fault kind and its arguments; None: healthy. Each fault on one host of each profile.
FAULTS: tuple[tuple[str, dict[str, str]] | None, ...] = (
    None, ("psu_fail", {"psu": "1"}), ("fan_fail", {"fan": "1"}), ("over_temp", {}), ("dimm_ue", {}),
    ("abnormal_shutdown", {"cpu": "1"}), ("redundancy_lost", {}),
)


def main() -> None:
    profiles = DEFAULT_PROFILES
    hosts = len(profiles) * len(FAULTS)
    spec = FleetSpec(hosts=hosts, profiles=profiles, timings=Timings.preset("fast"))
    recorded: dict[str, list[list[object]]] = {}
    with ThreadedFleet(spec, control=False) as sim:
        async def run() -> None:
            fleet = RedfishFleet(concurrency=8)
            for index in range(hosts):
                bmc = sim.bmc(index)
                profile = profiles[index % len(profiles)]
                fault = FAULTS[index // len(profiles)]
                name = f"{profile}-{fault[0] if fault else 'healthy'}"
                target = Target(name, sim.url(index), sim.username, Secret(sim.password), verify_tls=False)
                seen: list[list[object]] = []
                for visit_no in range(4):
                    if visit_no == 1 and fault:
                        try:
                            sim.call(lambda f=fault, b=bmc: apply_fault(b, f[0], dict(f[1])))
                        except Exception as exc:  # a fault this profile cannot have: skip the host
                            print(f"{name}: {exc}")
                            break
                    seen = []
                    visit = await fleet.visit(target, sections=("sensors", "logs"),
                                              on_document=lambda p, d, s=seen: s.append([p, d]))
                    if visit.observation is None:
                        print(f"{name}: {visit.error}")
                        break
                else:
                    recorded[name] = seen
            await fleet.close()

        asyncio.run(run())
    with gzip.open(SIM_DOCS, "wt", encoding="utf-8") as handle:
        json.dump(recorded, handle, sort_keys=True)
    print(f"{SIM_DOCS}: {len(recorded)} hosts, {sum(len(v) for v in recorded.values())} documents")


if __name__ == "__main__":
    main()
