"""What each provisioning step does to one host. Every step is written to be resumed: it reads the
server first and consults its attempt's journal, so an attempt interrupted at any instant and run
again finishes the work without repeating a side effect that already happened.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import string
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcops.baseline.accept import check_acceptance
from dcops.baseline.apply import (
    HostBaselines,
    KindResult,
    apply_bios,
    apply_firmware,
    apply_raid,
    read_and_diff,
    secure_erase,
)
from dcops.baseline.load import match_profile
from dcops.baseline.models import Baselines, NetworkValues, OsBaseline, Profile
from dcops.baseline.preflight import refusals
from dcops.baseline.redfish import Pacing, Target
from dcops.bmc.redfish.docs import FetchError
from dcops.errors import ApplyError, DcopsError, InvalidInputError, UnreachableError
from dcops.models import Host
from dcops.observation import PowerState
from dcops.provision.workflow import Step


@dataclass
class Options:
    """How a provisioning run behaves (the CLI fills it)."""

    until: Step | None = None
    force: bool = False
    parallel: int = 20
    per_rack: int | None = None
    pacing: Pacing = field(default_factory=Pacing)
    playbooks_dir: str = "playbooks"
    ansible_connection: str | None = None  # "local" in tests; ssh by default
    playbook_vars: Mapping[str, Any] = field(default_factory=dict)
    playbook_timeout: float = 3600.0
    heartbeat_seconds: float = 5.0
    allow_unverified: bool = False  # deliver hosts with settings dcops cannot verify (e.g. Non-RAID disks)
    secure_erase: bool = False  # erase every disk in the RAID step (re-provisioning, decommissioning)


@dataclass
class StepContext:
    host: Host
    baselines: Baselines
    options: Options
    journal: Any  # dcops.store.provision.StepJournal
    data: dict[str, Any]  # what earlier steps stored for the host (profile, identity, ...)
    target: Callable[[], Target]  # opens the BMC on first use
    on_event: Callable[[str], None] | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # in memory, this process only

    def profile(self) -> Profile:
        name = self.data.get("profile") or self.host.profile
        if not name or name not in self.baselines.profiles:
            raise InvalidInputError(f"{self.host.name}: no profile resolved (discover first)")
        return self.baselines.profiles[str(name)]


StepResult = dict[str, Any]
SECURE_ERASE_KEY = "secure_erase"  # in the host's stored data: the run asked for --secure-erase


def resolve_profile(baselines: Baselines, host: Host, manufacturer: str | None, model: str | None) -> Profile:
    """The book's profile when it names one (it must exist), else the one profile that matches."""
    if host.profile:
        if host.profile not in baselines.profiles:
            raise InvalidInputError(f"{host.name}: the inventory names profile '{host.profile}', which "
                                    f"{baselines.root}/profiles does not define")
        return baselines.profiles[host.profile]
    found = match_profile(baselines, manufacturer, model)
    if len(found) != 1:
        what = "no profile" if not found else f"{len(found)} profiles ({', '.join(p.name for p in found)})"
        raise InvalidInputError(f"{host.name}: {what} match {manufacturer} {model}; name one in the inventory")
    return found[0]


def discover(ctx: StepContext) -> StepResult:
    obs = ctx.target().bmc.inventory.observe()
    ctx.cache["observation"] = obs
    ident = obs.identity
    if ident.manufacturer is None and ident.model is None:
        raise ApplyError(f"{ctx.host.name}: discover: the BMC reports no identity "
                         + "; ".join(f"{e.what}: {e.reason}" for e in obs.errors[:3]))
    profile = resolve_profile(ctx.baselines, ctx.host, ident.manufacturer, ident.model)
    found = {"manufacturer": ident.manufacturer, "model": ident.model, "serial": ident.serial,
             "uuid": ident.uuid, "bios_version": ident.bios_version, "bmc_version": ident.bmc_version,
             "power": ident.power_state.value, "parts": obs.counts(), "read_errors": len(obs.errors)}
    ctx.data.update({"profile": profile.name, "identity": found})
    return {"profile": profile.name, **found}


def accept(ctx: StepContext) -> StepResult:
    profile = ctx.profile()
    # Judge what discover just read; read again only when resuming in another process.
    obs = ctx.cache.pop("observation", None) or ctx.target().bmc.inventory.observe()
    acceptance = check_acceptance(profile, obs)
    verdicts = [{"field": v.field, "expected": v.expected, "observed": v.observed, "verdict": v.verdict,
                 "note": v.note} for v in acceptance.verdicts]
    if not acceptance.accepted:
        failed = "; ".join(f"{v.field}: expected {v.expected}, {v.verdict} ({v.observed if v.observed is not None else 'not reported'})"
                           for v in acceptance.failed)
        raise _StepFailed(f"{ctx.host.name}: accept: hardware does not match profile {profile.name}: {failed}",
                          {"verdicts": verdicts})
    ctx.data["serial"] = obs.identity.serial
    return {"accepted": True, "verdicts": verdicts}


def pool(ctx: StepContext) -> StepResult:
    return {"pool": ctx.profile().name, "note": "accepted into the bare-metal pool"}


class _StepFailed(ApplyError):
    """A failure that carries the step's ``after`` (e.g. acceptance verdicts) for the record."""

    def __init__(self, message: str, after: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.after = dict(after)


def _baselines(ctx: StepContext) -> HostBaselines:
    p = ctx.profile()
    b = ctx.baselines
    return HostBaselines(p.name, b.firmware.get(p.firmware) if p.firmware else None,
                         b.bios.get(p.bios) if p.bios else None, b.raid.get(p.raid) if p.raid else None)


def _preflight(ctx: StepContext, kinds: tuple[str, ...]) -> None:
    """Before a writing step's first write: plan every kind still to come (this step's and the
    later ones') and fail the step, having changed nothing, when any of them is refused. Skipped
    when the attempt already wrote (its journal has records): a resumed step re-plans anyway."""
    if getattr(ctx.journal, "records", None):
        return
    hb = _baselines(ctx)
    wanted = [k for k in kinds if getattr(hb, k) is not None]
    if not wanted:
        return
    _, plan = read_and_diff(ctx.target(), hb, wanted)
    # A server being provisioned holds no data yet: the RAID template's clear_existing decides
    # deletes (a problem in the plan when it does not allow them).
    why = refusals(plan, allow_destructive=True, allow_unverified=ctx.options.allow_unverified)
    if why:
        raise _StepFailed(f"{ctx.host.name}: preflight: refused before any change: " + "; ".join(why),
                          {"refused": why, "plan": [c.describe() for c in plan.changes]})


def _kind_step(run: Callable[[list[KindResult]], KindResult]) -> StepResult:
    """Run one kind; on a failure, the step's record says every write made before it."""
    into: list[KindResult] = []
    try:
        r = run(into)
    except DcopsError as exc:
        if into:
            rec = into[0].record()
            exc.after = {**rec, "before": [{k: a[k] for k in ("target", "action", "old")}  # type: ignore[attr-defined]
                                           for a in rec["applied"]]}
        raise
    return {"baseline": r.baseline, "changes": r.before, "applied": r.applied, "skipped": r.skipped,
            "writes": r.record()["applied"], "destroyed": r.record()["destroyed"], "remaining": r.after,
            "reboots": r.reboots}


def firmware(ctx: StepContext) -> StepResult:
    hb = _baselines(ctx)
    _preflight(ctx, ("firmware", "bios", "raid"))
    if hb.firmware is None:
        return {"note": "the profile names no firmware baseline"}
    fw = hb.firmware
    return _kind_step(lambda into: apply_firmware(ctx.target(), fw, ctx.journal, ctx.on_event,
                                                                   into=into))


def bios(ctx: StepContext) -> StepResult:
    hb = _baselines(ctx)
    _preflight(ctx, ("bios", "raid"))
    if hb.bios is None:
        return {"note": "the profile names no BIOS baseline"}
    b = hb.bios
    return _kind_step(lambda into: apply_bios(ctx.target(), b, ctx.journal, graceful=False,
                                                           on_event=ctx.on_event, into=into))


def raid(ctx: StepContext) -> StepResult:
    hb = _baselines(ctx)
    _preflight(ctx, ("raid",))
    erased: StepResult = {}
    if ctx.options.secure_erase or ctx.data.get(SECURE_ERASE_KEY):
        # Opt-in, remembered with the workflow: a resumed attempt finishes the erase (its journal
        # knows what was erased already) even when resume is not given the flag again.
        r = _kind_step(lambda into: secure_erase(ctx.target(), ctx.journal, on_event=ctx.on_event, into=into))
        erased = {"erased": r["writes"], "erase_skipped": r["skipped"]}
    if hb.raid is None:
        return {"note": "the profile names no RAID template", **erased}
    # A server being provisioned holds no data yet; the template itself says whether existing
    # volumes may go (clear_existing).
    t = hb.raid
    return {**_kind_step(lambda into: apply_raid(ctx.target(), t, ctx.journal, allow_destructive=True,
                                                 on_event=ctx.on_event, into=into)), **erased}


# ------------------------------------------------------------------------------------ OS install

def network_values(os_b: OsBaseline, host: Host) -> NetworkValues:
    net = os_b.network.get(host.name)
    if net is None:
        raise InvalidInputError(f"{host.name}: OS baseline {os_b.name} has no static network values for this host "
                                "(add it to the baseline's network file; there is no DHCP on the production network)")
    return net


def render_answer(os_b: OsBaseline, host: Host, net: NetworkValues, *, profile: str, serial: str | None,
                  os_disk_size: int | None = None) -> str:
    """The answer file of one host: the template with its static network values."""
    template = Path(os_b.answer_template).read_text(encoding="utf-8")
    netmask = str(ipaddress.ip_network(f"{net.ip}/{net.prefix}", strict=False).netmask)
    values = {"host": host.name, "hostname": net.hostname, "ip": net.ip, "prefix": str(net.prefix),
              "netmask": netmask, "gateway": net.gateway or "", "dns": ",".join(net.dns),
              "dns_list": ", ".join(net.dns), "vlan": str(net.vlan or ""), "interface": net.interface or "eth0",
              "os_disk": net.extra.get("os_disk", "sda"), "os_disk_size_bytes": str(os_disk_size or ""),
              "profile": profile, "serial": serial or ""}
    return string.Template(template).substitute(values)


def _publish(os_b: OsBaseline, host: str, text: str) -> str | None:
    if not os_b.publish_dir:
        return None
    name = "ks.cfg" if os_b.answer_kind == "kickstart" else "user-data"
    directory = Path(os_b.publish_dir) / host
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".answer-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, directory / name)  # atomic: an installer never reads half a file
    return f"{os_b.publish_url.rstrip('/')}/{host}/{name}" if os_b.publish_url else str(directory / name)


def os_install(ctx: StepContext) -> StepResult:
    profile = ctx.profile()
    if not profile.os:
        return {"note": "the profile names no OS baseline"}
    os_b = ctx.baselines.os[profile.os]
    j = ctx.journal
    host = ctx.host
    net = network_values(os_b, host)
    tmpl = ctx.baselines.raid.get(profile.raid) if profile.raid else None
    os_vd = tmpl.os_disk if tmpl else None
    answer = render_answer(os_b, host, net, profile=profile.name, serial=ctx.data.get("serial"),
                           os_disk_size=os_vd.capacity_bytes if os_vd else None)
    digest = hashlib.sha256(answer.encode()).hexdigest()
    url = _publish(os_b, host.name, answer)
    t = ctx.target()
    bmc = t.bmc
    emit = ctx.on_event or (lambda _m: None)
    # 1. The installer ISO in the virtual CD (an image of ours already there counts; another is ejected).
    if j.state("os:insert") != "done":
        slots = bmc.vmedia.slots()
        if any(s.inserted and s.image == os_b.iso for s in slots):
            j.after("os:insert", {"image": os_b.iso, "adopted": True})
        else:
            if any(s.inserted for s in slots):
                j.before("os:eject-old", {"images": [s.image for s in slots if s.inserted]})
                bmc.vmedia.eject()
                j.after("os:eject-old")
            j.before("os:insert", {"image": os_b.iso})
            emit(f"os-install: insert {os_b.iso}")
            bmc.vmedia.insert(os_b.iso)
            j.after("os:insert", {"image": os_b.iso})
    # 2. Boot once from CD, then power on (or reset) into the installer.
    if j.state("os:boot") != "done":
        target, enabled = bmc.boot.get()
        if not (str(target).lower() == "cd" and str(enabled).lower() == "once"):
            j.before("os:boot")
            bmc.boot.set_once("cd")
        j.after("os:boot")
    deadline = t.clock.now() + os_b.timeout_seconds
    # The installer was started by an earlier, interrupted attempt: it may have finished (and
    # powered the host off) while no one was watching.
    resumed = j.state("os:power") == "done"
    if j.state("os:power") != "done":
        power, last, stamp = bmc.power.boot_progress()
        adopted = False
        before = stamp
        if j.state("os:power") == "started":
            # Interrupted around the reset: if the host already left the state we saw, the reset
            # happened; a second one would restart the installer.
            seen = j.info("os:power").get("stamp")
            consumed = _consumed(*bmc.boot.get())
            # The one-time override we set is consumed only by a boot, i.e. ours: adopted whether
            # the host is on (installing) or already off again (an installer that powered off;
            # the simulator then shows no LastStateTime at all).
            adopted = (stamp is not None and stamp != seen) or power is PowerState.POWERING_ON or consumed
            resumed = adopted
            if adopted:
                # The wait below must compare with the boot progress from before our reset: the
                # one read now may already be the installer's (a wait from it would never see the
                # boot it is waiting for, and time out).
                before = seen
        if not adopted:
            # Armed: the one-time override is there before our boot, so seeing it consumed later
            # proves that boot happened (some BMCs may never show it armed: then it proves nothing).
            armed = not _consumed(*bmc.boot.get())
            j.before("os:power", {"stamp": stamp, "power": power.value, "armed": armed})
            emit("os-install: boot the installer")
            if power in (PowerState.OFF, PowerState.POWERING_OFF):
                bmc.power.request("on")
            else:
                bmc.power.request("reset")
        j.after("os:power", {"stamp": before})
    if j.state("os:installed") != "done":
        stamp = j.info("os:power").get("stamp")
        armed = bool(j.info("os:power").get("armed", True))
        if os_b.completion == "power-off":
            if not (resumed and _installer_powered_off(bmc, stamp, armed)):
                j.before("os:installed", {"stamp": stamp})
                _wait_installer_off(t, stamp, armed, deadline)
        else:
            j.before("os:installed", {"stamp": stamp})
            bmc.power.wait_boot(stamp, until=os_b.completion, deadline=deadline)
        j.after("os:installed", {"completion": os_b.completion})
    # 3. Eject, and boot the installed system from disk when the installer powered off.
    if j.state("os:eject") != "done":
        if any(s.inserted for s in bmc.vmedia.slots()):
            j.before("os:eject")
            bmc.vmedia.eject()
        j.after("os:eject")
    if os_b.completion == "power-off" and j.state("os:boot-disk") != "done":
        power, _, stamp = bmc.power.boot_progress()
        if power in (PowerState.OFF, PowerState.POWERING_OFF):
            j.before("os:boot-disk")
            bmc.power.request("on")
            bmc.power.wait_boot(stamp, until="post", deadline=t.clock.now() + t.pacing.reboot_timeout)
        j.after("os:boot-disk")
    return {"iso": os_b.iso, "answer_sha256": digest, "answer_url": url, "completion": os_b.completion,
            "ip": net.ip, "hostname": net.hostname}


def _consumed(target: object, enabled: object) -> bool:
    """The one-time boot override is gone (only a boot consumes it)."""
    return str(enabled).lower() == "disabled" or str(target).lower() in ("none", "")


def _installer_powered_off(bmc: Any, stamp: str | None, armed: bool = True) -> bool:
    """Is the host off because the installer we booted finished? Off, and the boot we caused
    happened: the one-time CD override we armed is consumed, or boot progress moved past
    ``stamp`` (what it was before our power-on)."""
    power, _, now = bmc.power.boot_progress()
    if power is not PowerState.OFF:
        return False
    return (armed and _consumed(*bmc.boot.get())) or (now is not None and stamp is not None and now != stamp)


def _wait_installer_off(t: Target, stamp: str | None, armed: bool, deadline: float) -> None:
    """``wait_for: power-off``: until the host is off after the boot we caused. Either it was
    seen on in that boot and then off, or it is off with our armed override consumed: an installer
    that finished between two polls (the BMC layer's ``wait_boot`` waits to see the host on first,
    and would wait out the deadline for a power-off it missed). Raises ApplyError at ``deadline``."""
    bmc = t.bmc
    seen_on = False
    power, last = PowerState.UNKNOWN, None
    while True:
        try:
            power, last, now = bmc.power.boot_progress()
            consumed = armed and _consumed(*bmc.boot.get())
        except (UnreachableError, FetchError):
            power, last, now, consumed = PowerState.UNKNOWN, None, None, False
        if power in (PowerState.ON, PowerState.POWERING_ON) and (consumed or (now is not None and now != stamp)):
            seen_on = True
        if power is PowerState.OFF and (seen_on or consumed):
            return
        if t.clock.now() > deadline:
            raise ApplyError(f"{t.host.name}: host did not reach power-off in time (power {power.value}, "
                             f"boot progress {last or 'unknown'})")
        t.clock.sleep(t.pacing.poll)


# ------------------------------------------------------------------------------------ playbooks

def _playbook_vars(ctx: StepContext, net: NetworkValues | None) -> dict[str, Any]:
    values: dict[str, Any] = {"dcops_host": ctx.host.name, "dcops_profile": ctx.data.get("profile"),
                              "dcops_serial": ctx.data.get("serial")}
    if net is not None:
        values["dcops_network"] = {"hostname": net.hostname, "ip": net.ip, "prefix": net.prefix,
                                   "gateway": net.gateway, "dns": list(net.dns), "vlan": net.vlan,
                                   "interface": net.interface}
    values.update(ctx.options.playbook_vars)
    return values


def _run_books(ctx: StepContext, books: list[str], prefix: str) -> list[dict[str, Any]]:
    from dcops.ansible import run_playbook

    profile = ctx.profile()
    os_b = ctx.baselines.os.get(profile.os) if profile.os else None
    net = os_b.network.get(ctx.host.name) if os_b else None
    host_vars: dict[str, Any] = {"ansible_host": net.ip} if net else {}
    results: list[dict[str, Any]] = []
    for book in books:
        key = f"{prefix}:{book}"
        if ctx.journal.state(key) == "done":
            results.append({"playbook": book, "result": "done earlier"})
            continue
        ctx.journal.before(key)
        if ctx.on_event:
            ctx.on_event(f"{prefix}: {book}")
        result = run_playbook(Path(ctx.options.playbooks_dir) / book, hosts={ctx.host.name: host_vars},
                              extravars=_playbook_vars(ctx, net), connection=ctx.options.ansible_connection,
                              timeout=ctx.options.playbook_timeout)
        entry = {"playbook": book, "ok": result.ok, "failed_task": result.failed_task, "message": result.message,
                 "tasks_ok": result.tasks_ok, "changed": result.tasks_changed, "seconds": round(result.seconds, 1)}
        results.append(entry)
        if not result.ok:
            ctx.journal.after(key, {"failed": result.failed_task})
            raise _StepFailed(f"{ctx.host.name}: {prefix}: {result.describe()}", {"playbooks": results})
        ctx.journal.after(key)
    return results


def post_install(ctx: StepContext) -> StepResult:
    books = list(ctx.profile().playbooks)
    if not books:
        return {"note": "the profile names no post-install playbooks"}
    return {"playbooks": _run_books(ctx, books, "post-install")}


def verify(ctx: StepContext) -> StepResult:
    hb = _baselines(ctx)
    kinds = [k for k in ("firmware", "bios", "raid") if getattr(hb, k) is not None]
    if not kinds:
        return {"note": "no baselines to verify"}
    _, plan = read_and_diff(ctx.target(), hb, kinds)
    ctx.data["verify_plan"] = {"changes": len(plan.changes), "problems": list(plan.problems)}
    if plan.unverified and not ctx.options.allow_unverified:
        raise _StepFailed(f"{ctx.host.name}: verify: dcops cannot verify " + "; ".join(plan.unverified)
                          + " (--allow-unverified delivers it anyway)", {"unverified": list(plan.unverified)})
    if not plan.compliant:
        raise _StepFailed(f"{ctx.host.name}: verify: differs from the profile: "
                          + "; ".join([c.describe() for c in plan.changes] + list(plan.problems)),
                          {"changes": [c.describe() for c in plan.changes], "problems": list(plan.problems)})
    return {"compliant": True, "kinds": kinds, "unverified": list(plan.unverified)}


def network(ctx: StepContext) -> StepResult:
    book = ctx.profile().network_playbook
    if not book:
        return {"note": "the profile names no production-network playbook"}
    return {"playbooks": _run_books(ctx, [book], "network")}


STEP_FUNCTIONS: dict[Step, Callable[[StepContext], StepResult]] = {
    Step.DISCOVER: discover, Step.ACCEPT: accept, Step.POOL: pool, Step.FIRMWARE: firmware, Step.BIOS: bios,
    Step.RAID: raid, Step.OS_INSTALL: os_install, Step.POST_INSTALL: post_install, Step.VERIFY: verify,
    Step.NETWORK: network,
}
