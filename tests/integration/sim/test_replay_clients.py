"""Replayed vendor captures on sockets: the DMTF `redfish` library reads them back exactly as they
were captured (dangling links to the parts the capture left out answer 404, as on the real BMC)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import orjson
import pytest

from tests.integration.sim.conftest import Factory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"
CAPTURES = ["dell-poweredge-r750-idrac9-6.00", "hpe-proliant-dl360-gen10plus-ilo5-3.11",
            "lenovo-thinksystem-sr670v2-xcc-2.83", "supermicro-sys-821ge-tnhr-x13"]


def captured(archive: Path) -> dict[str, object]:
    out = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("./")
            if member.isfile() and name.endswith("index.json"):
                rel = name[: -len("index.json")].rstrip("/")
                handle = tar.extractfile(member)
                assert handle is not None
                out[("/redfish/v1/" + rel).rstrip("/").lower()] = orjson.loads(handle.read())
    return out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("capture", CAPTURES)
def test_redfish_library_reads_a_replayed_capture_as_captured(fleet_factory: Factory, capture: str) -> None:
    import redfish

    archive = FIXTURES / f"{capture}.tar.gz"
    sim = fleet_factory(0, mockups=(str(archive),))
    replay = sim.fleet.replays[0]
    expected = captured(archive)
    client = redfish.redfish_client(base_url=f"http://127.0.0.1:{replay.port}", username=sim.username,
                                    password=sim.password, timeout=5, max_retry=1)
    client.login(auth="session")
    try:
        seen: set[str] = set()
        todo = ["/redfish/v1"]
        matched = missing = 0
        while todo and len(seen) < 400:
            uri = todo.pop()
            key = uri.split("#")[0].rstrip("/").lower()
            if key in seen or not key.startswith("/redfish/v1"):
                continue
            seen.add(key)
            response = client.get(uri)
            if key not in expected:
                assert response.status == 404, uri
                missing += 1
                continue
            assert response.status == 200, uri
            assert response.dict == expected[key], uri
            matched += 1
            stack = [response.dict]
            while stack:
                item = stack.pop()
                if isinstance(item, dict):
                    for k, v in item.items():
                        if k == "@odata.id" and isinstance(v, str):
                            todo.append(v)
                        elif isinstance(v, (dict, list)):
                            stack.append(v)
                elif isinstance(item, list):
                    stack.extend(item)
        assert matched > 50
    finally:
        client.logout()
    assert replay.sessions == {}
