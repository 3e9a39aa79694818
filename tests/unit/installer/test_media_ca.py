"""HTTPS media with a private CA (issue 16): the shipped answer templates carry the CA for curl
(never -k), the parsers tell where the installer's curl finds it, the simulated installer's curl
verifies against it and fails as curl does without it, and the simulated BMC's virtual-media
client verifies only when VerifyCertificate is on, against the certificates imported."""

from __future__ import annotations

import ssl
import urllib.error
from pathlib import Path

import pytest

from dcops.bmc.redfish.bodies import media_trust
from dcops.installer import answers, render
from dcops.installer.server import MediaServer, new_token
from dcops.sim import installer
from dcops.sim.runner import make_certificates

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = [("kickstart", "rhel9-trading.ks"), ("autoinstall", "ubuntu-2204.user-data")]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def _values(ca: str | None) -> dict[str, str]:
    return render.values("h1", render.AnswerNetwork("h1.example.net", "192.0.2.10", 24, "192.0.2.1", ("192.0.2.53",),
                                                    None, "ens1f0"),
                         render.Disk("/dev/disk/by-id/wwn-0x6001", "6001"), profile="p", serial="S1",
                         deploy_user="dcops", ssh_key="ssh-ed25519 AAAAC3Nza dcops",
                         done_url="https://192.0.2.1:8470/done/T", media_ca=ca)


@pytest.mark.parametrize("kind,name", TEMPLATES)
@pytest.mark.parametrize("with_ca", [True, False])
def test_shipped_templates_carry_the_media_ca(kind: str, name: str, with_ca: bool,
                                              tls: tuple[Path, Path, Path]) -> None:
    template = (ROOT / "baselines/os/templates" / name).read_text()
    pem = tls[0].read_text() if with_ca else None
    text = render.render(template, _values(pem))
    assert len(text.splitlines()) == len(template.splitlines())  # parser lines point into the template
    facts = answers.check(kind, text)
    assert facts.valid, facts.problems
    assert facts.done_urls and facts.error_urls
    if with_ca:
        assert facts.cacert == render.CA_PATH and facts.trusted_ca() == pem
    else:  # plain HTTP or a public CA: curl's own trust, and an empty CA file written harmlessly
        assert facts.cacert is None and facts.trusted_ca() is None


@pytest.mark.parametrize("kind,text", [
    ("kickstart", "text\n%post\ncurl -k -X POST https://127.0.0.1:1/done/T\n%end\n"),
    ("kickstart", "text\n%post\ncat x | curl -fsSk https://127.0.0.1:1/done/T\n%end\n"),
    ("kickstart", "text\n%onerror\ncurl --insecure https://127.0.0.1:1/done/T\n%end\n"),
    ("autoinstall", "#cloud-config\nautoinstall:\n  version: 1\n  late-commands:\n"
                    "    - \"curl -k -X POST https://127.0.0.1:1/done/T\"\n"),
])
def test_curl_without_verification_is_refused_with_its_line(kind: str, text: str) -> None:
    facts = answers.check(kind, text)
    assert not facts.valid
    problem = facts.problems[0]
    assert "-k/--insecure" in problem.message
    assert problem.line == next(n for n, line in enumerate(text.splitlines(), 1) if "curl" in line)


@pytest.mark.parametrize("kind,text", [
    ("kickstart", "text\n%post\ncurl -fsS --retry-connrefused --cacert /tmp/ca.pem https://127.0.0.1:1/done/T\n%end\n"),
    ("autoinstall", "#cloud-config\nautoinstall:\n  version: 1\n  late-commands:\n"
                    "    - \"curl -fsS --cacert /tmp/ca.pem https://127.0.0.1:1/done/T\"\n"),
])
def test_a_cacert_never_written_fails_as_curl_does(kind: str, text: str) -> None:
    facts = answers.check(kind, text)
    assert facts.valid and facts.cacert == "/tmp/ca.pem"
    with pytest.raises(ValueError, match=r"curl: \(77\)"):
        facts.trusted_ca()


def test_the_sim_installers_curl_verifies_against_the_answers_ca(tmp_path: Path,
                                                                 tls: tuple[Path, Path, Path]) -> None:
    ca, cert, key = tls
    with MediaServer(tmp_path / "media", tls_cert=str(cert), tls_key=str(key), tls_ca=str(ca)) as srv:
        assert srv.ca_pem == ca.read_text()
        token = new_token()
        srv.publish("h1", token, "a.img", b"image")
        url = srv.done_url(token)
        # No CA in the answer: curl trusts the public CAs only and stops, loudly, without retrying.
        errors = installer.call([url], "ok", "keys")
        assert len(errors) == 1 and errors[0].startswith("curl: (60) SSL certificate problem"), errors
        assert installer.call([url], "ok", "keys", srv.ca_pem) == []


@pytest.mark.parametrize("verify,imported,fetched", [
    (False, False, True),  # VerifyCertificate off (the default): the BMC mounts without verifying
    (True, False, False),  # on, and nothing imported: every server fails
    (True, True, True),  # on, with the media server's CA imported
])
def test_the_sim_bmc_verifies_virtual_media_only_when_told(verify: bool, imported: bool, fetched: bool,
                                                           tmp_path: Path, tls: tuple[Path, Path, Path]) -> None:
    ca, cert, key = tls
    with MediaServer(tmp_path / "media", tls_cert=str(cert), tls_key=str(key)) as srv:
        url, _ = srv.publish("h1", new_token(), "a.img", b"image")
        context = installer.bmc_tls(verify, [ca.read_text()] if imported else [])
        if fetched:
            assert installer.fetch(url, context) == b"image"
        else:
            with pytest.raises((ssl.SSLError, urllib.error.URLError)):
                installer.fetch(url, context)


XCC = {"@odata.id": "/redfish/v1/Managers/1/VirtualMedia/Remote1", "VerifyCertificate": False,
       "Certificates": {"@odata.id": "/redfish/v1/Managers/1/VirtualMedia/Remote1/Certificates"}}
X13 = {"@odata.id": "/redfish/v1/Managers/1/VirtualMedia/VirtualMedia1", "VerifyCertificate": None}


@pytest.mark.parametrize("doc,image,with_ca,imported,expected", [
    (XCC, "https://192.0.2.1/media/t/a.img", True, False, (XCC["Certificates"]["@odata.id"], True)),
    (XCC, "https://192.0.2.1/media/t/a.img", True, True, (None, True)),
    ({**XCC, "VerifyCertificate": True}, "https://192.0.2.1/media/t/a.img", True, True, (None, False)),
    (XCC, "http://192.0.2.1/media/t/a.img", True, False, (None, False)),  # plain HTTP: nothing to verify
    (XCC, "https://192.0.2.1/media/t/a.img", False, False, (None, False)),  # public CA: the BMC's own trust
    (X13, "https://192.0.2.1/media/t/a.img", True, False, (None, False)),  # Supermicro X13: no store
])
def test_media_trust_plan(doc: dict, image: str, with_ca: bool, imported: bool, expected: tuple,
                          tls: tuple[Path, Path, Path]) -> None:
    pem = tls[0].read_text()
    assert media_trust(doc, image, pem if with_ca else None, [pem] if imported else []) == expected


PLAIN_KS = "text\n%post\ncurl -fsS -X POST https://127.0.0.1:1/done/T\n%end\n"
CA_KS = ("text\n%post\necho '{b64}' | base64 -d > /tmp/ca.pem\n"
         "curl -fsS --cacert /tmp/ca.pem -X POST https://127.0.0.1:1/done/T\n%end\n")


@pytest.mark.parametrize("answer,media_ca,refused", [
    ("plain", None, None),  # plain HTTP or a public CA
    ("plain", "ca", "does not trust the media CA"),  # a template without ${curl_ca}: refused before the BMC
    ("ca", "ca", None),
    ("other", "ca", "does not trust the media CA"),  # an old CA baked into the template
    ("unwritten", None, "curl: (77)"),
])
def test_an_answer_that_cannot_verify_the_media_server_is_named(answer: str, media_ca: str | None,
                                                               refused: str | None,
                                                               tls: tuple[Path, Path, Path],
                                                               tmp_path: Path) -> None:
    import base64

    pem = tls[0].read_text()
    other = make_certificates(tmp_path)[0].read_text()
    text = {"plain": PLAIN_KS, "ca": CA_KS.format(b64=base64.b64encode(pem.encode()).decode()),
            "other": CA_KS.format(b64=base64.b64encode(other.encode()).decode()),
            "unwritten": PLAIN_KS.replace("-fsS", "-fsS --cacert /tmp/ca.pem")}[answer]
    facts = answers.check("kickstart", text)
    assert facts.valid, facts.problems
    why = facts.distrust(pem if media_ca else None)
    assert (why is None) if refused is None else (why is not None and refused in why)
