"""The DMTF Redfish Service Validator against each vendor flavour: 0 FAIL.

Runs offline (``--skipschema``) with the CSDL bundle in tests/fixtures/redfish-csdl/. Before the run
the BMC is put in a busy state (a firmware task running, a drive failed and its volume rebuilding,
a fault in the SEL, a session open) so those documents are validated too. Prints PASS/WARN/FAIL.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dcops.sim.faults import apply_fault
from dcops.sim.fleet import FleetSpec
from dcops.sim.state import Timings
from dcops.sim.testing import ThreadedFleet
from tests.helpers.timing import PATIENT

CSDL = Path(__file__).resolve().parents[2] / "fixtures" / "redfish-csdl" / "csdl-2025.4.tar.xz"
FLAVOUR_PROFILES = ["dell-r750", "hpe-dl360-gen10p", "lenovo-sr650v2", "supermicro-x13", "generic-1s"]
SUMMARY = re.compile(r"\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|")


@pytest.fixture(scope="module")
def schema_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("csdl")
    with tarfile.open(CSDL) as archive:
        archive.extractall(target, filter="data")
    return target / "csdl"


def run_validator(url: str, password: str, schema_dir: Path, logdir: Path) -> tuple[int, int, int, str]:
    from tests.integration.sim.conftest import need

    need("redfish_service_validator")
    exe = Path(sys.executable).parent / "rf_service_validator"
    done = subprocess.run([str(exe), "--ip", url, "-u", "admin", "-p", password, "--schema_directory",
                           str(schema_dir), "--logdir", str(logdir), "--skipschema",
                           "--collectionlimit", "LogEntry", "8", "Memory", "8", "Sensor", "8"],
                          capture_output=True, text=True, timeout=PATIENT * 3, check=False)
    match = SUMMARY.search(done.stdout)
    assert match, done.stdout[-2000:] + done.stderr[-2000:]
    passed, warned, failed, _ = (int(g) for g in match.groups())
    fails = "\n".join(line for line in done.stdout.splitlines() if "FAIL -" in line)
    log = next(logdir.rglob("RedfishServiceValidatorDebug_*.log"), None)
    if log is not None:
        fails = "\n".join(line for line in log.read_text().splitlines() if " - ERROR - " in line)[:4000]
    return passed, warned, failed, fails


@pytest.mark.slow
@pytest.mark.timeout(int(PATIENT * 3 + 120))
@pytest.mark.parametrize("profile", FLAVOUR_PROFILES)
def test_service_validator_reports_no_failures(profile: str, schema_dir: Path, tmp_path: Path) -> None:
    timings = Timings.preset("demo").with_overrides({"task": 120.0, "rebuild": 120.0})
    spec = FleetSpec(hosts=1, profiles=(profile,), timings=timings, password="validator-pw")
    with ThreadedFleet(spec, control=False) as sim:
        def busy() -> None:
            bmc = sim.fleet.bmc(0)
            bmc.firmware.simple_update({"ImageURI": "http://repo/bios_9.9.9.bin"})
            apply_fault(bmc, "drive_fail", {"drive": "0"})
            apply_fault(bmc, "fan_fail", {"fan": "1"})
            bmc.login("admin", "validator-pw")

        sim.call(busy)
        passed, warned, failed, fails = run_validator(sim.url(0), sim.password, schema_dir, tmp_path / "logs")
    print(f"\nvalidator {profile}: PASS {passed} WARN {warned} FAIL {failed}")
    assert passed > 1000
    assert failed == 0, fails
