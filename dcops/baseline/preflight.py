"""Preflight: every refusal of a host's plan, computed before its first write (pure).

A refusal found half-way (RAID needing ``--allow-data-loss`` after firmware was flashed and the
BIOS reset) leaves a host changed and the operator told it was refused; so ``baseline apply`` and
the provisioning steps ask this first, for every kind they are about to apply, and write nothing
when it answers anything.
"""

from __future__ import annotations

from dcops.baseline.models import ChangeKind, Plan


def bios_update_planned(plan: Plan) -> bool:
    """A BIOS image is about to be flashed: the attribute registry may change with it."""
    return any(c.detail.get("class") == "bios" for c in plan.of(ChangeKind.FIRMWARE))


def refusals(plan: Plan, *, allow_destructive: bool = False, allow_foreign_pending: bool = False,
             allow_unverified: bool = True) -> list[str]:
    """Why ``plan`` must not start, one reason each (empty: it may).

    BIOS attribute problems are not refusals when the same plan flashes a new BIOS first: the new
    registry decides (the BIOS step re-plans after the firmware and fails then, before staging)."""
    out: list[str] = []
    deferred = bios_update_planned(plan)
    for problem in plan.problems:
        if deferred and problem.startswith("bios "):
            continue
        out.append(f"cannot apply: {problem}")
    destructive = [c for c in plan.changes if c.destructive]
    if destructive and not allow_destructive:
        out.append("raid: the plan deletes volumes with data (" + ", ".join(c.target for c in destructive)
                   + "); allow it explicitly (--allow-data-loss)")
    foreign = [c for c in plan.changes if c.action == "pending-foreign"]
    if foreign and not allow_foreign_pending:
        out.append("bios: values staged outside this baseline would be applied by the reset: "
                   + ", ".join(f"{c.target}={c.new!r}" for c in foreign)
                   + " (clear the pending settings on the BMC, or allow them explicitly)")
    if plan.unverified and not allow_unverified:
        out.append("unverified: dcops cannot check " + "; ".join(plan.unverified)
                   + " (accept it with --allow-unverified)")
    return out
