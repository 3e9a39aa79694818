"""Fleet layout, per-host identities, hardware profiles and the written inventory."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dcops.errors import UsageError
from dcops.sim import identity
from dcops.sim.fleet import Fleet, FleetSpec, layout, rack_name
from dcops.sim.profiles import DEFAULT_PROFILES, FLAVOURS, PROFILES
from dcops.sim.server import SimRequest, handle
from dcops.sim.state import Bmc, Credentials
from tests.unit.sim.conftest import Client, make_bmc


def test_serials_macs_and_uuids_are_unique_and_stable_for_a_seed() -> None:
    n = 10_000
    serials = {identity.serial(1, i, "system", 10) for i in range(n)}
    service_tags = {identity.serial(1, i, "system", 7) for i in range(n)}  # Dell's 7 characters
    dimms = {identity.hex_serial(1, i, "dimm1.1") for i in range(n)}
    assert len(service_tags) == n and len(dimms) == n
    assert all(len(t) == 7 and t.isalnum() and t.isupper() or t.isdigit() for t in service_tags)
    uuids = {identity.system_uuid(1, i) for i in range(n)}
    macs = {identity.mac_for(1, i, port) for i in range(n) for port in (0, 1, 2, 3, 63)}
    assert len(serials) == n and len(uuids) == n and len(macs) == 5 * n
    assert identity.serial(1, 42, "system") == identity.serial(1, 42, "system")
    assert identity.serial(2, 42, "system") != identity.serial(1, 42, "system")
    bmc_a, bmc_b = make_bmc("dell-r750", index=3), make_bmc("dell-r750", index=3)
    assert (bmc_a.serial, bmc_a.uuid, bmc_a.mac(0)) == (bmc_b.serial, bmc_b.uuid, bmc_b.mac(0))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profiles_are_realistic_rack_servers(name: str) -> None:
    p = PROFILES[name]
    assert 1 <= p.sockets <= 2
    assert 8 <= p.sockets * p.dimms_per_socket <= 32
    assert p.drives and p.volumes and p.nics and p.fans >= 4 and p.u_height in (1, 2)
    bmc = make_bmc(name)
    keys = set(bmc.firmware.versions())
    assert {"bmc", "bios", "raid", "nic1", "psu1", "psu2"} <= keys


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_link_of_every_profile_resolves(name: str) -> None:
    bmc = Bmc(0, "x", PROFILES[name], credentials=Credentials("admin", "pw"))
    auth = {"Authorization": "Basic YWRtaW46cHc="}
    seen: set[str] = set()
    todo = ["/redfish/v1"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        reply = handle(bmc, SimRequest("GET", path, {}, auth))
        assert reply.status == 200, (path, reply.body[:200])
        if path.endswith("$metadata"):
            continue
        doc = orjson.loads(reply.body)
        if "@odata.id" in doc:
            assert doc["@odata.id"].rstrip("/").lower() == path.rstrip("/").lower() or path == "/redfish/v1", path

        def walk(value: object) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    if key == "@odata.id" and isinstance(item, str) and "#" not in item or key in ("Uri", "TaskMonitor", "@Redfish.ActionInfo", "Members@odata.nextLink") \
                            and isinstance(item, str):
                        todo.append(item)
                    else:
                        walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(doc)
    assert len(seen) > 60


def test_flavours_differ_where_real_bmcs_differ() -> None:
    dell, hpe, lenovo, smc = (FLAVOURS[n] for n in ("dell", "hpe", "lenovo", "supermicro"))
    assert dell.system_id == "System.Embedded.1" and hpe.system_id == lenovo.system_id == "1"
    assert lenovo.thermal_model == "sensors" and dell.thermal_model == "legacy"
    assert "BiosSettings" in hpe.etag_required and not dell.etag_required
    assert smc.session_limit < dell.session_limit
    assert FLAVOURS["generic"].vmedia_at == "system" and dell.vmedia_at == "manager"
    lenovo_bmc = make_bmc("lenovo-sr650v2")
    chassis = Client(lenovo_bmc).get("/redfish/v1/Chassis/1").json
    assert "Thermal" not in chassis and "ThermalSubsystem" in chassis and "Sensors" in chassis


def test_layout_places_hosts_in_racks_without_overlap() -> None:
    hosts = layout(FleetSpec(hosts=100, racks=5))
    assert len(hosts) == 100 and len({h.name for h in hosts}) == 100
    racks: dict[str, list[range]] = {}
    for h in hosts:
        units = range(h.u, h.u + h.profile.u_height)
        assert units.stop - 1 <= 42
        for other in racks.get(h.rack, []):
            assert not set(units) & set(other), h.name
        racks.setdefault(h.rack, []).append(units)
    assert sorted(racks) == ["A01", "A02", "A03", "A04", "A05"]
    assert {h.az for h in hosts} == {"az1", "az2", "az3"}
    assert [h.profile.name for h in hosts[:4]] == list(DEFAULT_PROFILES)
    assert rack_name(19) == "A20" and rack_name(20) == "B01" and rack_name(26 * 20) == "AA01"
    with pytest.raises(UsageError):
        layout(FleetSpec(hosts=100, racks=1))


def test_ip_mode_gives_each_host_its_own_loopback_address() -> None:
    hosts = layout(FleetSpec(hosts=10_000, address_mode="ip"))
    addresses = {h.address for h in hosts}
    assert len(addresses) == 10_000
    assert all(a.startswith("127.") and not a.endswith((".0", ".255")) for a in addresses)


def test_written_inventory_loads_and_matches_the_simulated_hardware(tmp_path: Path) -> None:
    from dcops.inventory import load_inventory

    fleet = Fleet(FleetSpec(hosts=12, racks=3, password="not-in-the-file"))
    for i, host in enumerate(fleet.hosts):
        host.port = 20000 + i
    path = fleet.write_inventory(tmp_path / "sim.yaml", f"file:{tmp_path}/password")
    text = path.read_text()
    assert "not-in-the-file" not in text
    inventory = load_inventory([path])
    assert len(inventory.hosts) == 12
    first = inventory.get("sim-0001")
    assert first.bmc.port == 20000 and first.bmc.address == "127.0.0.1" and first.bmc.scheme == "http"
    assert first.bmc.password_ref == f"file:{tmp_path}/password" and first.bmc.username == "admin"
    assert first.location.rack == "A01" and first.location.u == 1 and first.az == "az1"
    assert first.vendor == "Dell" and first.profile == "dell-r750" and "sim" in first.tags
    assert first.asset.purchase_date is not None and first.asset.warranty_end is not None
    assert first.asset.purchase_date < first.asset.warranty_end
    for book_host in inventory.hosts:
        bmc = fleet.find(book_host.name)
        chassis = Client(bmc, password="not-in-the-file").get(f"/redfish/v1/Chassis/{bmc.flavour.chassis_id}").json
        assert chassis["Location"]["Placement"] == {"Rack": book_host.location.rack,
                                                    "RackOffset": book_host.location.u,
                                                    "RackOffsetUnits": "EIA_310"}
        assert book_host.asset.serial == bmc.serial
        assert book_host.location.rack == bmc.rack and book_host.location.u == bmc.u
    assert {h.location.rack for h in inventory.hosts} == {"A01", "A02", "A03"}


def test_accept_error_flood_is_cut_to_one_line_per_interval() -> None:
    import logging

    from dcops.sim.fleet import _AcceptErrorFilter

    flt = _AcceptErrorFilter()

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, None)

    passed = [flt.filter(record("socket.accept() out of system resource")) for _ in range(1000)]
    assert passed.count(True) == 1 and flt.held == 999
    assert flt.filter(record("something else"))


def test_tls_read_buffers_are_shrunk_to_one_record() -> None:
    from asyncio import sslproto

    from dcops.sim.server import shrink_tls_buffers

    shrink_tls_buffers()
    assert sslproto.SSLProtocol.max_size == 16 * 1024
