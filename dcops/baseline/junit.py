"""JUnit XML for CI systems: one test suite per baseline kind, one test case per host.

A difference is a ``failure`` (the gate fails), and so is a wanted setting dcops cannot verify
(unless the operator accepts it: ``allow_unverified``); a baseline that cannot apply to the server
is an ``error``, an unreachable host an ``error`` too, a compliant host passes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dcops.baseline.models import Plan


@dataclass(frozen=True)
class Case:
    host: str
    kind: str  # firmware | bios | raid
    baseline: str | None
    differences: Sequence[str] = ()
    problems: Sequence[str] = ()
    error: str | None = None
    seconds: float = 0.0
    unverified: Sequence[str] = field(default_factory=tuple)
    unverified_fails: bool = True


def cases_from_plan(plan: Plan, seconds: float = 0.0, *, allow_unverified: bool = False) -> list[Case]:
    out = []
    for kind, baseline in plan.baselines.items():
        diffs = [c.describe() for c in plan.changes if c.kind.value == kind]
        problems = [p for p in plan.problems if p.startswith(f"{kind} ")]
        unverified = [u for u in plan.unverified if u.startswith(f"{kind} ")]
        out.append(Case(plan.host, kind, baseline, diffs, problems, None, seconds, unverified,
                        unverified_fails=not allow_unverified))
    return out


def write_junit(path: str | Path, suite_name: str, cases: Sequence[Case]) -> None:
    """Write ``cases`` as JUnit XML (testsuites > testsuite per kind > testcase per host)."""
    root = ET.Element("testsuites", name=suite_name)
    kinds = sorted({c.kind for c in cases})
    total_fail = total_err = 0
    for kind in kinds:
        members = [c for c in cases if c.kind == kind]
        failures = sum(1 for c in members if (c.differences or (c.unverified and c.unverified_fails))
                       and not c.problems and not c.error)
        errors = sum(1 for c in members if c.problems or c.error)
        total_fail += failures
        total_err += errors
        suite = ET.SubElement(root, "testsuite", name=f"{suite_name}.{kind}", tests=str(len(members)),
                              failures=str(failures), errors=str(errors),
                              time=f"{sum(c.seconds for c in members):.3f}")
        for case in members:
            el = ET.SubElement(suite, "testcase", classname=f"{suite_name}.{kind}", name=case.host,
                               time=f"{case.seconds:.3f}")
            if case.error:
                err = ET.SubElement(el, "error", message=case.error[:500], type="unreachable")
                err.text = case.error
            elif case.problems:
                err = ET.SubElement(el, "error", message=f"{len(case.problems)} problem(s) with baseline "
                                                         f"{case.baseline}", type="invalid")
                err.text = "\n".join(case.problems)
            elif case.differences:
                fail = ET.SubElement(el, "failure", message=f"{len(case.differences)} difference(s) from "
                                                            f"{case.baseline}", type="drift")
                fail.text = "\n".join(case.differences)
            elif case.unverified and case.unverified_fails:
                fail = ET.SubElement(el, "failure", message=f"{len(case.unverified)} setting(s) of {case.baseline} "
                                                            "dcops cannot verify", type="unverified")
                fail.text = "\n".join(case.unverified)
            if case.unverified:
                out = ET.SubElement(el, "system-out")
                out.text = "not verifiable (the BMC does not report it):\n" + "\n".join(case.unverified)
    root.set("tests", str(len(cases)))
    root.set("failures", str(total_fail))
    root.set("errors", str(total_err))
    ET.indent(root)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
