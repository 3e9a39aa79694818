"""Replaying captured mockups: every document of a capture comes back as captured."""

from __future__ import annotations

import base64
import tarfile
from pathlib import Path

import orjson
import pytest

from dcops.sim.replay import ReplayBmc
from dcops.sim.server import SimRequest
from dcops.sim.state import Credentials

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "redfish"
CAPTURES = ["dell-poweredge-r750-idrac9-6.00", "hpe-proliant-dl360-gen10plus-ilo5-3.11",
            "lenovo-thinksystem-sr670v2-xcc-2.83", "supermicro-sys-821ge-tnhr-x13"]
AUTH = {"Authorization": "Basic " + base64.b64encode(b"admin:pw").decode()}


def archive(name: str) -> Path:
    path = FIXTURES / f"{name}.tar.gz"
    if not path.exists():
        pytest.fail(f"missing fixture {path}")
    return path


def captured(name: str) -> dict[str, bytes]:
    out = {}
    with tarfile.open(archive(name)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith("/index.json"):
                rel = member.name.removeprefix("./").rsplit("/", 1)[0] if "/" in member.name.removeprefix("./") else ""
                handle = tar.extractfile(member)
                assert handle is not None
                out["/redfish/v1" + ("/" + rel if rel and rel != "index.json" else "")] = handle.read()
    return out


@pytest.mark.parametrize("name", CAPTURES)
def test_replay_answers_every_document_as_captured(name: str) -> None:
    bmc = ReplayBmc(archive(name), Credentials("admin", "pw"))
    docs = captured(name)
    assert len(bmc) == len(docs) > 100
    for uri, body in docs.items():
        reply = bmc.handle(SimRequest("GET", uri, {}, AUTH))
        assert reply.status == 200, uri
        assert orjson.loads(reply.body) == orjson.loads(body), uri


def test_replay_follows_hpe_lower_case_links_and_trailing_slashes() -> None:
    bmc = ReplayBmc(archive(CAPTURES[1]), Credentials("admin", "pw"))
    system = orjson.loads(bmc.handle(SimRequest("GET", "/redfish/v1/Systems/1", {}, AUTH)).body)
    link = system["Bios"]["@odata.id"]
    assert link == "/redfish/v1/systems/1/bios"
    bios = orjson.loads(bmc.handle(SimRequest("GET", link + "/", {}, AUTH)).body)
    settings = bios["@Redfish.Settings"]["SettingsObject"]["@odata.id"]
    assert settings.endswith("/") and bmc.handle(SimRequest("GET", settings, {}, AUTH)).status == 200


def test_replay_needs_credentials_and_offers_sessions() -> None:
    bmc = ReplayBmc(archive(CAPTURES[0]), Credentials("admin", "pw"))
    assert bmc.handle(SimRequest("GET", "/redfish/v1")).status == 200
    assert bmc.handle(SimRequest("GET", "/redfish/v1/Systems")).status == 401
    login = bmc.handle(SimRequest("POST", "/redfish/v1/SessionService/Sessions", {}, {},
                                  b'{"UserName": "admin", "Password": "pw"}'))
    assert login.status == 201
    token = login.headers["X-Auth-Token"]
    assert bmc.handle(SimRequest("GET", "/redfish/v1/Systems", {}, {"X-Auth-Token": token})).status == 200
    assert bmc.handle(SimRequest("PATCH", "/redfish/v1/Systems/System.Embedded.1", {}, AUTH, b"{}")).status == 405
    assert bmc.handle(SimRequest("DELETE", login.headers["Location"], {}, {"X-Auth-Token": token})).status == 204
    assert bmc.sessions == {}


def test_replay_reads_tall_and_short_directories(tmp_path: Path) -> None:
    tall = tmp_path / "tall" / "redfish" / "v1"
    with tarfile.open(archive(CAPTURES[3])) as tar:
        tar.extractall(tall, filter="data")
    short = tmp_path / "short"
    with tarfile.open(FIXTURES / "dmtf-public-rackmount1.tar.gz") as tar:
        tar.extractall(short, filter="data")
    tall_bmc = ReplayBmc(tmp_path / "tall", Credentials("admin", "pw"))
    short_bmc = ReplayBmc(short, Credentials("admin", "pw"))
    assert tall_bmc.document("/redfish/v1")["RedfishVersion"] == "1.11.0"  # type: ignore[index]
    assert short_bmc.document("/redfish/v1/Systems")["Members"]  # type: ignore[index]
    meta = short_bmc.handle(SimRequest("GET", "/redfish/v1/$metadata"))
    assert meta.status == 200 and meta.body.startswith(b"<?xml")
