"""Third-party Redfish clients against the simulator: the DMTF `redfish` library walks every link of
every flavour, and `sushy` (OpenStack) reads and drives each flavour."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from dcops.sim.profiles import PROFILES
from tests.integration.sim.conftest import Factory, need, wait_for


@contextlib.contextmanager
def sushy_root(sim: Any, index: int = 0) -> Iterator[Any]:
    """A sushy client that logs out before the fleet stops (sushy's __del__ would otherwise retry a
    DELETE against a closed port for half a minute)."""
    need("sushy")
    import sushy

    root = sushy.Sushy(sim.url(index) + "/redfish/v1", username=sim.username, password=sim.password)
    try:
        yield root
    finally:
        auth, root._auth = root._auth, None
        auth.close()
    assert sim.call(lambda: len(sim.fleet.bmc(index).sessions)) == 0  # no session leaked


FLAVOUR_PROFILES = ["dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13", "generic-1s"]


def _links(doc: Any) -> list[str]:
    out: list[str] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("@odata.id", "Uri", "@Redfish.ActionInfo", "Members@odata.nextLink", "TaskMonitor") \
                    and isinstance(value, str) and "#" not in value:
                out.append(value)
            elif isinstance(value, (dict, list)):
                out.extend(_links(value))
    elif isinstance(doc, list):
        for item in doc:
            out.extend(_links(item))
    return out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("profile", FLAVOUR_PROFILES)
def test_dmtf_redfish_library_walks_every_link(fleet_factory: Factory, profile: str) -> None:
    import redfish

    sim = fleet_factory(1, (profile,))
    client = redfish.redfish_client(base_url=sim.url(0), username=sim.username, password=sim.password,
                                    timeout=10, max_retry=1)
    client.login(auth="session")
    try:
        seen: set[str] = set()
        todo = ["/redfish/v1"]
        while todo:
            uri = todo.pop()
            key = uri.rstrip("/").lower()
            if key in seen:
                continue
            seen.add(key)
            response = client.get(uri)
            assert response.status == 200, (uri, response.text[:300])
            if uri.endswith("$metadata"):
                continue
            todo.extend(_links(response.dict))
        assert len(seen) > 60
    finally:
        client.logout()
    assert sim.call(lambda: len(sim.fleet.bmc(0).sessions)) == 0  # logout really closed the session


@pytest.mark.timeout(60)
@pytest.mark.parametrize("profile", FLAVOUR_PROFILES)
def test_sushy_reads_and_drives_each_flavour(fleet_factory: Factory, profile: str) -> None:
    warnings.simplefilter("ignore")
    sim = fleet_factory(1, (profile,))
    with sushy_root(sim) as root:
        _sushy_reads_and_drives(sim, root, profile)


def _sushy_reads_and_drives(sim: Any, root: Any, profile: str) -> None:
    from sushy.resources import constants as res_cons
    from sushy.resources.system import constants as sys_cons

    system = root.get_system()
    p = PROFILES[profile]
    assert system.serial_number and system.uuid and system.model == p.model
    assert system.power_state == res_cons.PowerState.ON
    assert system.memory_summary.size_gib == p.memory_gib
    assert len(system.processors.get_members()) == p.sockets
    assert len(system.ethernet_interfaces.get_members()) == sum(n.ports for n in p.nics)
    storage = system.storage.get_members()[0]
    assert len(storage.drives) == len(p.drives)
    assert len(storage.volumes.get_members()) == len(p.volumes)
    bios = system.bios
    assert bios.attributes
    chassis = root.get_chassis_collection().get_members()
    if p.flavour.thermal_model != "sensors":
        main = next(c for c in chassis if c.identity == p.flavour.chassis_id)
        assert len(main.thermal.fans) == p.fans and len(main.power.power_supplies) == 2
    manager = root.get_manager()
    assert manager.firmware_version == p.bmc_firmware
    assert root.get_update_service().firmware_inventory.get_members()
    assert root.get_session_service().sessions.get_members()  # sushy's own session

    # write paths: BIOS change (sushy sends If-Match: HPE needs it), then reset, then applied
    name, value = {"dell": ("LogicalProc", "Disabled"), "hpe": ("ProcHyperthreading", "Disabled"),
                   "lenovo": ("Processors_HyperThreading", "Disabled"),
                   "supermicro": ("Hyper_Threading_ALL__F27F", "Disable"),
                   "generic": ("ProcHyperThreading", "Disabled")}[p.flavour.name]
    bios.set_attribute(name, value)
    assert bios.pending_attributes.get(name) == value or root.get_system().bios.pending_attributes[name] == value
    if p.flavour.name == "dell":
        # iDRAC applies staged BIOS values only through a configuration job (dcops.sim.jobs); plain
        # sushy does not make one (Ironic's idrac-redfish does, through sushy-oem-idrac): POST it.
        root._conn.post("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs",
                        data={"TargetSettingsURI": "/redfish/v1/Systems/System.Embedded.1/Bios/Settings"})
    system.reset_system(res_cons.ResetType.FORCE_RESTART)
    wait_for(lambda: root.get_system().bios.attributes.get(name) == value, timeout=10)
    system.reset_system(res_cons.ResetType.FORCE_OFF)
    wait_for(lambda: root.get_system().power_state == res_cons.PowerState.OFF)
    system.set_system_boot_options(sys_cons.BootSource.PXE, enabled=sys_cons.BootSourceOverrideEnabled.ONCE)
    assert root.get_system().boot.target == sys_cons.BootSource.PXE
    system.reset_system(res_cons.ResetType.ON)
    wait_for(lambda: sim.call(lambda: sim.fleet.bmc(0).last_boot.get("source")) == "Pxe")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("profile", ["dell-r750", "supermicro-x13", "generic-1s"])
def test_sushy_virtual_media(fleet_factory: Factory, profile: str) -> None:
    warnings.simplefilter("ignore")
    sim = fleet_factory(1, (profile,))
    with sushy_root(sim) as root:
        owner = root.get_system() if PROFILES[profile].flavour.vmedia_at == "system" else root.get_manager()
        media = next(m for m in owner.virtual_media.get_members()
                     if "CD" in [str(t.value) for t in m.media_types])
        # Supermicro refuses Inserted/WriteProtected; sushy retries without them (as dcops must).
        media.insert_media("http://127.0.0.1:9/rhel9.iso", inserted=True, write_protected=True)
        media.refresh()
        assert media.inserted and media.image == "http://127.0.0.1:9/rhel9.iso"
        media.eject_media()
        media.refresh()
        assert not media.inserted
