"""A service whose session POST itself wants basic auth (sushy-tools with an htpasswd, the
emulator Ironic's CI uses; sim trait ``basic-only``) answers every login 401 with a Basic
challenge. The fleet reader (patrol, assets) reads it with basic auth when the credentials are
right, and says "login refused" when they are wrong, on the real emulator and on the sim."""

from __future__ import annotations

import asyncio

import pytest

from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.bmc.visit import Visit
from dcops.secrets import Secret
from tests.helpers.simfleet import fleet
from tests.integration.bmc.conftest import PASSWORD, USER, Sushy

pytestmark = pytest.mark.timeout(120)


def _visit(target: Target) -> Visit:
    async def run() -> Visit:
        reader = RedfishFleet(concurrency=2)
        try:
            return await reader.visit(target, health=True, deadline=30)
        finally:
            await reader.close()

    return asyncio.run(run())


@pytest.mark.parametrize(("password", "ok"), [(PASSWORD, True), ("not-the-password", False)])
def test_sushy_tools_behind_an_htpasswd(sushy: Sushy, password: str, ok: bool) -> None:
    visit = _visit(Target("node-1", sushy.url, USER, Secret(password), verify_tls=False))
    if ok:
        assert visit.error is None and visit.observation is not None, visit.error
        assert visit.observation.identity.power_state.value in ("on", "off")
    else:
        assert visit.observation is None and "login refused" in (visit.error or "")
        assert "not-the-password" not in (visit.error or "")


@pytest.mark.parametrize("right", [True, False])
def test_sim_trait_basic_only(right: bool) -> None:
    with fleet(1, ("generic-1s",), traits=("basic-only",)) as sim:
        password = sim.password if right else "not-the-password"
        visit = _visit(Target("h1", sim.url(0), sim.username, Secret(password), verify_tls=False))
        if right:
            assert visit.error is None and visit.observation is not None, visit.error
        else:
            assert visit.observation is None and "login refused" in (visit.error or "")
