"""An OS install over HTTPS media signed by a private CA (issue 16): the answer file carries the
CA and its completion call verifies against it (``curl --cacert``, never ``-k``); a BMC that offers
the DMTF virtual-media certificate store (XCC: ``VerifyCertificate`` + ``Certificates``) gets the
CA imported and verification turned on before it fetches; one without (Supermicro X13) mounts as
it does, and the installer still verifies its completion call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dcops.installer.render import CA_PATH
from dcops.sim.fleet import FleetSpec
from dcops.sim.resources import render
from dcops.sim.runner import make_certificates
from dcops.sim.testing import ThreadedFleet
from tests.integration.provision.conftest import FAST
from tests.integration.provision.lab import cli, installs, requests, sim_baselines, write_inventory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]


@pytest.fixture
def fleet() -> Iterator[ThreadedFleet]:
    # Lenovo XCC (rhel9-trading, kickstart on an OEMDRV stick) and Supermicro (ubuntu autoinstall ISO).
    with ThreadedFleet(FleetSpec(hosts=2, profiles=("lenovo-sr650v2", "supermicro-x13"), timings=FAST,
                                 request_log=4096)) as sim:
        yield sim


def test_install_over_https_media_with_a_private_ca(fleet: ThreadedFleet, state: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ca, cert, key = make_certificates(tmp_path / "tls")
    inv = write_inventory(fleet, tmp_path / "inv.yaml", monkeypatch)
    base = sim_baselines(tmp_path, ["sim-0001", "sim-0002"], playbooks=False)
    code, data, err = cli(capsys, "provision", "run", "sim-0001", "sim-0002", "-i", str(inv), "--baselines",
                          str(base), "--poll", "0.05", "--until", "os-install", "--media-dir",
                          str(tmp_path / "media"), "--media-cert", str(cert), "--media-key", str(key),
                          "--media-ca", str(ca), "--allow-unverified", "--yes", "-v")
    assert code == 0, err
    pem = ca.read_text()
    for host, kind in (("sim-0001", "kickstart"), ("sim-0002", "autoinstall")):
        install = installs(fleet, host)
        assert install and install["state"] == "installed", install
        assert install["media"] and all(u.startswith("https://127.0.0.1:") for u in install["media"]
                                        if "/media/" in u), install["media"]
        assert install["answer"]["kind"] == kind and install["answer"]["valid"], install["answer"]
        # The installer found the CA in the answer and its curl was told to trust it (--cacert).
        assert install["answer"]["cacert"] == CA_PATH
        # The completion call went through with certificate verification: no curl error recorded.
        assert install["callbacks"] == [], install["callbacks"]
        ours = [f for f in install["fetched"] if "/media/" in f["url"]]
        assert ours and all("error" not in f and f.get("files") for f in ours), install["fetched"]
    # XCC: the CA went into the answer slot's Certificates collection and VerifyCertificate was turned
    # on before the image was inserted; the simulated BMC then verified the media server against it.
    # (The CD slot holds the stock ISO from the operator's mirror, not from dcops: left alone.)
    log = requests(fleet, "sim-0001")
    posts = [r for r in log if r["method"] == "POST" and r["path"].endswith("/Certificates")]
    patches = [r for r in log if r["method"] == "PATCH" and "/VirtualMedia/" in r["path"]]
    assert len(posts) == 1 and len(patches) == 1, (posts, patches)
    insert = next(i for i, r in enumerate(log) if r["path"].endswith("Remote1/Actions/VirtualMedia.InsertMedia"))
    assert log.index(posts[0]) < log.index(patches[0]) < insert
    xcc = fleet.bmc(0)
    slot = fleet.call(lambda: render(xcc, "/redfish/v1/Managers/1/VirtualMedia/Remote1"))
    assert slot is not None and slot["VerifyCertificate"] is True
    member = fleet.call(lambda: render(xcc, "/redfish/v1/Managers/1/VirtualMedia/Remote1/Certificates/1"))
    assert member is not None and member["CertificateString"].strip() == pem.strip()
    # Supermicro X13 has no such store: nothing was written there.
    assert not [r for r in requests(fleet, "sim-0002") if r["path"].endswith("/Certificates")]
