"""What each provisioning step does to one host. Every step is written to be resumed: it reads the
server first and consults its attempt's journal, so an attempt interrupted at any instant and run
again finishes the work without repeating a side effect that already happened.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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
from dcops.bmc.base import UnsupportedError
from dcops.bmc.redfish.docs import FetchError
from dcops.errors import ApplyError, DcopsError, InvalidInputError, UnreachableError
from dcops.installer import answers, media, render, stock
from dcops.installer.server import MediaServer, new_token, token_hash
from dcops.models import Host
from dcops.observation import PowerState
from dcops.provision import switchport
from dcops.provision.workflow import Step
from dcops.secrets import remember


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
    media: MediaServer | None = None  # serves answer images and hears installers (started by the CLI)
    reach_port: int | None = None  # the reachability gate's TCP port (default: the OS baseline's reach_port)
    delivered_hook: str | None = None  # URL (POST) or command (stdin) given the delivered host's facts
    allow_unverified: bool = False  # deliver hosts with settings dcops cannot verify (e.g. Non-RAID disks)
    secure_erase: bool = False  # erase every disk in the RAID step (re-provisioning, decommissioning)
    bastion: str | None = None  # ssh ProxyJump ([user@]host[:port][,...]) to the provisioning network


@dataclass
class StepContext:
    host: Host
    baselines: Baselines
    options: Options
    journal: Any  # dcops.provision.store.StepJournal
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


def os_volume_disk(host: str, template: Any, controllers: Sequence[Any], override: str | None) -> render.Disk:
    """The install disk: the RAID template's OS volume, named by its Redfish durable name
    (``Volume.Identifiers``). A network file's ``extra.os_disk`` (a /dev/disk/by-id path) wins,
    for BMCs that report no Identifiers. Never a kernel name such as sda: the order of
    enumeration changes with virtual media, USB and NVMe devices."""
    if override:
        if not override.startswith("/dev/disk/by-"):
            raise InvalidInputError(f"{host}: extra.os_disk {override!r} must be a /dev/disk/by-id (or by-path) "
                                    "name; kernel names like sda change with enumeration order")
        return render.Disk(override, override.rsplit("/", 1)[-1])
    if template is None or template.os_disk is None:
        raise InvalidInputError(f"{host}: the profile's RAID template marks no OS volume (os: true), and the network "
                                "file gives no extra.os_disk: dcops will not guess an install disk")
    from dcops.baseline.diff import pick_controller

    vd = template.os_disk
    ctrl = pick_controller(template, controllers)
    vol = None
    if ctrl is not None:
        bays = frozenset(vd.disks)
        for v in ctrl.volumes:
            on = frozenset(d.bay for d in (ctrl.drive_by_id(i) for i in v.drives) if d is not None)
            if on == bays or (v.name and v.name == vd.name and not vol):
                vol = v
                if on == bays:
                    break
    if vol is None:
        raise ApplyError(f"{host}: the OS volume {vd.name} ({vd.level} on bays {list(vd.disks)}) is not on the "
                         "controller: run the raid step first")
    for fmt, name in vol.identifiers:
        try:
            return render.disk_from_identifier(fmt, name, vol.capacity_bytes)
        except InvalidInputError:
            continue
    raise ApplyError(f"{host}: the OS volume {vol.id} reports no durable name the installer can use "
                     f"(Identifiers: {list(vol.identifiers) or 'none'}; iDRAC 6.00 lists [] for pass-through "
                     "volumes, Huawei iBMC 3.12 has no Identifiers): give extra.os_disk: /dev/disk/by-id/... for "
                     "this host in the network file")


def render_answer(os_b: OsBaseline, host: Host, net: NetworkValues, disk: render.Disk, *, profile: str,
                  serial: str | None, done_url: str, ssh_key: str, media_ca: str | None = None) -> str:
    """The answer file of one host: its template with the install-time network values (the
    provisioning address when the book has one), the install disk, the deploy user and key, and
    the single-use completion URL."""
    inst = net.install
    values = render.values(host.name, render.AnswerNetwork(net.hostname, inst.ip, inst.prefix, inst.gateway,
                                                           inst.dns, inst.vlan, inst.interface or "eth0"),
                           disk, profile=profile, serial=serial, deploy_user=os_b.deploy_user, ssh_key=ssh_key,
                           done_url=done_url, media_ca=media_ca)
    return render.render(Path(os_b.answer_template).read_text(encoding="utf-8"), values)


def _ssh_key(os_b: OsBaseline) -> str:
    if not os_b.ssh_key:
        raise InvalidInputError(f"OS baseline {os_b.name}: deploy.ssh_public_key is not set; the post-install "
                                "playbooks could not log in to the installed host")
    from dcops.secrets import resolve

    key = resolve(os_b.ssh_key, what="deploy SSH public key").reveal().strip()
    if not re.match(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$", key):
        raise InvalidInputError(f"OS baseline {os_b.name}: deploy.ssh_public_key is not an OpenSSH public key line")
    return key


def _seed_files(host: Host, answer: str, net: NetworkValues) -> dict[str, bytes]:
    """A NoCloud seed: ``user-data`` (the autoinstall), ``meta-data``, ``network-config`` (static)."""
    inst = net.install
    meta = f"instance-id: dcops-{host.name}\nlocal-hostname: {net.hostname.split('.')[0]}\n"
    address = {"addresses": [f"{inst.ip}/{inst.prefix}"],
               **({"routes": [{"to": "default", "via": inst.gateway}]} if inst.gateway else {}),
               **({"nameservers": {"addresses": list(inst.dns)}} if inst.dns else {})}
    iface = inst.interface or "eth0"
    config: dict[str, Any] = {"version": 2, "ethernets": {iface: {"dhcp4": False, **({} if inst.vlan else address)}}}
    if inst.vlan:
        config["vlans"] = {f"{iface}.{inst.vlan}": {"id": inst.vlan, "link": iface, **address}}
    network_config = yaml.safe_dump(config, sort_keys=False)
    return {"user-data": answer.encode(), "meta-data": meta.encode(), "network-config": network_config.encode()}


def _answer_media(kind: str, host: Host, answer: str, net: NetworkValues) -> tuple[str, str, dict[str, bytes]]:
    """(label, file name, files) of the answer image: OEMDRV with ks.cfg, or a NoCloud CIDATA seed."""
    if kind == "kickstart":
        return media.OEMDRV, f"{host.name}-oemdrv.img", {"ks.cfg": answer.encode()}
    return media.CIDATA, f"{host.name}-cidata.img", _seed_files(host, answer, net)


# Where the answer goes on a per-host installer ISO, and the kernel arguments that make the
# installer read it there: Anaconda's ``inst.ks=cdrom:/ks.cfg`` (the boot CD), cloud-init's NoCloud
# seed directory on the CD plus subiquity's ``autoinstall`` (without it subiquity 22.04+ asks
# "Continue with autoinstall?" and waits for someone at the console).
SEED_DIR = "nocloud"
KICKSTART_ARGS = ("inst.ks=cdrom:/ks.cfg",)
AUTOINSTALL_ARGS = ("autoinstall", f"ds=nocloud;s=/cdrom/{SEED_DIR}/")
_USB_TYPES = frozenset({"USBStick", "Floppy", "RemovableDisk"})


def _install_iso(kind: str, host: Host, answer: str, net: NetworkValues) -> tuple[str, list[str], dict[str, bytes]]:
    """(file name, kernel arguments, files to add) of a host's own installer ISO."""
    if kind == "kickstart":
        return f"{host.name}-install.iso", list(KICKSTART_ARGS), {"ks.cfg": answer.encode()}
    files = {f"{SEED_DIR}/{name}": data for name, data in _seed_files(host, answer, net).items()}
    return f"{host.name}-install.iso", list(AUTOINSTALL_ARGS), files


def one_iso(remaster: bool | None, kind: str, slots: Sequence[Any]) -> tuple[bool, str]:
    """Whether the host boots its own installer ISO carrying the answer (True) or the stock ISO
    plus an answer volume on a second slot (False), and why. A BMC has room for an answer volume
    when it has two slots and one of them takes a USB stick / removable disk / floppy (or lists no
    types: XCC and Supermicro offer every type on every slot)."""
    second = len(slots) >= 2 and any(not s.media_types or _USB_TYPES & set(s.media_types) for s in slots)
    if not second:
        if remaster is False:
            raise InvalidInputError("the BMC has one virtual media slot (no room for an answer volume) and the OS "
                                    "baseline says installer.remaster: false: nothing could carry the answer file")
        return True, "one virtual media slot: the answer rides on a per-host installer ISO"
    if remaster is not None:
        return remaster, "installer.remaster"
    if kind == "autoinstall":
        return True, "subiquity needs autoinstall on its kernel command line"
    return False, "OEMDRV volume on the second slot"


def _ours(image: str | None, name: str, server_url: str, media_url: str | None) -> bool:
    """The answer image of this attempt: its exact URL when this process made the token, else
    this host's image on this media server (a resumed attempt that adopted it)."""
    if not image:
        return False
    if media_url is not None:
        return image == f"{media_url}/{name}"
    return image.startswith(server_url + "/media/") and image.endswith("/" + name)


def _masked(image: str | None) -> str | None:
    """A media URL without its token (for the journal and the audit log)."""
    return re.sub(r"/media/[^/]+/", "/media/…/", image) if image else image


def _build_media(ctx: StepContext, srv: MediaServer, bmc: Any, os_b: OsBaseline, net: NetworkValues) -> None:
    """Render and check the answer file, build its image and serve it under a new token. Nothing
    touches the BMC's settings before the answer file passed the installer's own parser."""
    j, host, profile = ctx.journal, ctx.host, ctx.profile()
    tmpl = ctx.baselines.raid.get(profile.raid) if profile.raid else None
    disk = os_volume_disk(host.name, tmpl, bmc.raid.controllers() if tmpl else [], net.extra.get("os_disk"))
    token = new_token()
    remember(token)  # the token is a credential: masked wherever dcops prints or stores text
    answer = render_answer(os_b, host, net, disk, profile=profile.name, serial=ctx.data.get("serial"),
                           done_url=srv.done_url(token), ssh_key=_ssh_key(os_b), media_ca=srv.ca_pem)
    facts = answers.check(os_b.answer_kind, answer)
    if not facts.valid:
        raise ApplyError(f"{host.name}: the rendered {os_b.answer_kind} file is refused by its parser: "
                         + "; ".join(p.describe() for p in facts.problems[:5]))
    distrust = facts.distrust(srv.ca_pem)
    if distrust:
        # Over HTTPS with a private CA, a completion call that does not trust it fails (curl: (60))
        # and dcops would wait out the timeout: refused before the BMC is touched.
        raise ApplyError(f"{host.name}: the answer rendered from {os_b.answer_template} cannot verify the HTTPS "
                         f"media server (--media-ca): {distrust}")
    combined, why = one_iso(os_b.remaster, os_b.answer_kind, bmc.vmedia.slots())
    if combined:
        name, args, files = _install_iso(os_b.answer_kind, host, answer, net)
        label = "ISO"
        source = os_b.iso_source or os_b.iso
        stock_iso = stock.local_copy(source, srv.directory / "_stock", os_b.iso_sha256)
        j.before("os:media", {"name": name, "label": label, "token_sha256": token_hash(token), "combined": True})

        def write(dest: Path) -> None:
            media.remaster(str(stock_iso), str(dest), args, files)

        _url, sha = srv.publish_file(host.name, token, name, write)
        extra: dict[str, Any] = {"combined": True, "why": why, "kernel_args": args}
    else:
        label, name, files = _answer_media(os_b.answer_kind, host, answer, net)
        j.before("os:media", {"name": name, "label": label, "token_sha256": token_hash(token)})
        _url, sha = srv.publish(host.name, token, name, media.build_image(label, files))
        extra = {"combined": False}
    _keep_copy(os_b, host.name, answer)
    j.after("os:media", {"name": name, "label": label, "token_sha256": token_hash(token), "sha256": sha,
                         "answer_sha256": hashlib.sha256(answer.encode()).hexdigest(), "disk": disk.by_id,
                         "ip": net.install.ip, "server": srv.url, **extra})


def _media_for_this_run(ctx: StepContext, srv: MediaServer, bmc: Any, os_b: OsBaseline,
                        net: NetworkValues) -> bool:
    """Make sure this process serves the answer image the BMC has or will get. Returns True when
    the images must be inserted again (an old answer image the installer cannot reach was
    replaced before the installer booted).

    A resumed attempt in another process knows only the token's hash: with the same media server
    address (``--media-listen`` with a fixed port, as in production) it serves the image on disk
    again and the URL the BMC holds works; otherwise, as long as the installer has not been
    booted, it builds a new image and swaps it in; once the installer may be running, it keeps
    what is there and the installer's power-off is the evidence left."""
    j = ctx.journal
    info = j.info("os:media") if j.state("os:media") == "done" else {}
    known = info.get("token_sha256")
    if not known:
        _build_media(ctx, srv, bmc, os_b, net)
        return False
    if srv.url_for(str(known)) is not None:
        return False  # this process made it
    name = str(info["name"])
    path = srv.image_path(ctx.host.name, name)
    held = [s.image for s in bmc.vmedia.slots() if s.inserted and s.image and str(s.image).endswith("/" + name)]
    same_server = all(str(h).startswith(srv.url + "/media/") for h in held)
    if held and same_server and path.is_file():
        srv.adopt(ctx.host.name, str(known), path)
        return False
    if j.state("os:power") is not None:
        if path.is_file():
            srv.adopt(ctx.host.name, str(known), path)
        return False  # the installer may be running: leave its media alone
    srv.withdraw(ctx.host.name, str(known))
    if ctx.on_event and held:
        ctx.on_event(f"os-install: the answer image the BMC holds is served at {info.get('server')}, not by this "
                     f"run ({srv.url}): replacing it before the installer boots")
    _build_media(ctx, srv, bmc, os_b, net)
    if held:
        j.before("os:eject-stale")
        bmc.vmedia.eject()
        j.after("os:eject-stale")
        return True
    return False


def os_install(ctx: StepContext) -> StepResult:
    profile = ctx.profile()
    if not profile.os:
        return {"note": "the profile names no OS baseline"}
    os_b = ctx.baselines.os[profile.os]
    j = ctx.journal
    host = ctx.host
    net = network_values(os_b, host)
    srv = ctx.options.media
    emit = ctx.on_event or (lambda _m: None)
    if srv is None:
        raise InvalidInputError(f"{host.name}: os-install needs the media server (it serves the answer image "
                                "and hears the installer): give --media-listen / --media-url")
    t = ctx.target()
    bmc = t.bmc
    # 0. The answer file and its image, built once per attempt.
    reinsert = _media_for_this_run(ctx, srv, bmc, os_b, net)
    info = dict(j.info("os:media"))
    token_sha, name = str(info["token_sha256"]), str(info["name"])
    media_url = srv.url_for(token_sha)  # None after a restart when the BMC already holds the URL
    # 1. The installer ISO in the virtual CD, the answer image in a USB/removable slot (images of
    #    ours already there count; others are ejected).
    combined = bool(info.get("combined"))
    if j.state("os:insert") != "done" or reinsert:
        slots = bmc.vmedia.slots()
        # With a per-host installer ISO the stock ISO is foreign too (it has no answer file).
        foreign = [s for s in slots if s.inserted and (combined or s.image != os_b.iso)
                   and not _ours(s.image, name, srv.url, media_url)]
        if foreign:
            j.before("os:eject-old", {"images": [_masked(s.image) for s in foreign]})
            bmc.vmedia.eject()
            j.after("os:eject-old")
            slots = bmc.vmedia.slots()
        j.before("os:insert", {"iso": os_b.iso, "answer": name})
        if combined:
            if not any(s.inserted and _ours(s.image, name, srv.url, media_url) for s in slots):
                assert media_url is not None  # rebuilt above when this process does not know the token
                emit(f"os-install: insert the host's installer ISO {name} ({info.get('why')})")
                bmc.vmedia.insert(f"{media_url}/{name}", media="cd", ca_pem=srv.ca_pem)
        elif not any(s.inserted and s.image == os_b.iso for s in slots):
            emit(f"os-install: insert {os_b.iso}")
            bmc.vmedia.insert(os_b.iso, media="cd")
        if not combined and not any(s.inserted and _ours(s.image, name, srv.url, media_url) for s in slots):
            assert media_url is not None  # rebuilt above when this process does not know the token
            emit(f"os-install: insert the answer image {name} ({info['label']})")
            try:
                bmc.vmedia.insert(f"{media_url}/{name}", media="usb", ca_pem=srv.ca_pem)
            except UnsupportedError as exc:
                raise ApplyError(f"{host.name}: {exc}; set installer.remaster: true in the OS baseline to boot a "
                                 "per-host installer ISO that carries the answer file instead") from exc
        j.after("os:insert", {"iso": os_b.iso, "answer": name})
    # 2. Boot once from CD, then power on (or reset) into the installer.
    if j.state("os:boot") != "done":
        target, enabled = bmc.boot.get()
        if not (str(target).lower() == "cd" and str(enabled).lower() == "once"):
            j.before("os:boot")
            bmc.boot.set_once("cd")
        j.after("os:boot")
    deadline = t.clock.now() + os_b.timeout_seconds
    resumed = _power_into_installer(ctx, t)
    if j.state("os:installed") != "done":
        stamp = j.info("os:power").get("stamp")
        armed = bool(j.info("os:power").get("armed", True))
        j.before("os:installed", {"stamp": stamp})
        heard = _wait_install(ctx, t, os_b, token_sha, stamp, armed, deadline, resumed)
        j.after("os:installed", heard)
    # 3. Eject, withdraw the media, and boot the installed system from disk when the installer
    #    powered off.
    if j.state("os:eject") != "done":
        if any(s.inserted for s in bmc.vmedia.slots()):
            j.before("os:eject")
            bmc.vmedia.eject()
        srv.withdraw(host.name, token_sha)
        j.after("os:eject")
    if j.state("os:boot-disk") != "done":
        power, _, stamp = bmc.power.boot_progress()
        if power in (PowerState.OFF, PowerState.POWERING_OFF):
            j.before("os:boot-disk")
            bmc.power.request("on")
            bmc.power.wait_boot(stamp, until="post", deadline=t.clock.now() + t.pacing.reboot_timeout)
        j.after("os:boot-disk")
    heard = dict(j.info("os:installed"))
    if heard.get("host_keys"):
        ctx.data["host_keys"] = heard["host_keys"]
    ctx.data["provisioning_ip"] = net.install.ip
    return {"iso": name if combined else os_b.iso, "answer_image": name, "kernel_args": info.get("kernel_args"), "answer_label": info["label"], "image_sha256": info["sha256"],
            "answer_sha256": info["answer_sha256"], "os_disk": info["disk"], "completion": heard.get("completion"),
            "ip": net.install.ip, "hostname": net.hostname}


def _keep_copy(os_b: OsBaseline, host: str, text: str) -> None:
    """``answer_file.publish_dir``: a copy of each rendered answer file for the operator (the
    installer reads the image from the media server)."""
    if not os_b.publish_dir:
        return
    directory = Path(os_b.publish_dir) / host
    directory.mkdir(parents=True, exist_ok=True)
    name = "ks.cfg" if os_b.answer_kind == "kickstart" else "user-data"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".answer-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o600)  # it holds the single-use completion token
    os.replace(tmp, directory / name)


def _power_into_installer(ctx: StepContext, t: Target) -> bool:
    """Power on (or reset) into the installer once; True when an earlier, interrupted attempt
    already did (the installer may have finished while no one was watching)."""
    j = ctx.journal
    bmc = t.bmc
    if j.state("os:power") == "done":
        return True
    power, _last, stamp = bmc.power.boot_progress()
    adopted = False
    before = stamp
    if j.state("os:power") == "started":
        # Interrupted around the reset: if the host already left the state we saw, the reset
        # happened; a second one would restart the installer.
        seen = j.info("os:power").get("stamp")
        consumed = _consumed(*bmc.boot.get())
        adopted = (stamp is not None and stamp != seen) or power is PowerState.POWERING_ON or consumed
        if adopted:
            before = seen
    if not adopted:
        # Armed: the one-time override is there before our boot, so seeing it consumed later
        # proves that boot happened (some BMCs may never show it armed: then it proves nothing).
        armed = not _consumed(*bmc.boot.get())
        j.before("os:power", {"stamp": stamp, "power": power.value, "armed": armed})
        if ctx.on_event:
            ctx.on_event("os-install: boot the installer")
        if power in (PowerState.OFF, PowerState.POWERING_OFF):
            bmc.power.request("on")
        else:
            bmc.power.request("reset")
    j.after("os:power", {"stamp": before, "armed": j.info("os:power").get("armed", True)})
    return adopted


def _wait_install(ctx: StepContext, t: Target, os_b: OsBaseline, token_sha: str, stamp: str | None, armed: bool,
                  deadline: float, resumed: bool) -> dict[str, Any]:
    """Until the installer says it is done (``completion: callback``), or the lab modes
    (power-off, powered-on, os-running). A failure call ends the wait at once with the
    installer's words; power-off after the call is supporting evidence."""
    srv = ctx.options.media
    assert srv is not None
    bmc = t.bmc
    if os_b.completion == "power-off":
        if not (resumed and _installer_powered_off(bmc, stamp, armed)):
            _wait_installer_off(t, stamp, armed, deadline)
        return {"completion": "power-off"}
    if os_b.completion != "callback":
        bmc.power.wait_boot(stamp, until=os_b.completion, deadline=deadline)
        return {"completion": os_b.completion}
    while True:
        done = srv.wait(token_sha, max(0.05, t.pacing.poll))
        if done is not None:
            break
        if _installer_powered_off(bmc, stamp, armed):
            done = srv.completion(token_sha)  # a call that landed just before the power-off
            if done is not None:
                break
            if resumed:
                # The call came while no dcops process was listening (a resumed run): the
                # installer powering off after the boot we caused is the evidence left.
                return {"completion": "power-off (the completion call was not heard: dcops was not running)"}
            raise ApplyError(f"{ctx.host.name}: the host powered off after the installer booted, but the installer "
                             f"never called {srv.url}/done/…: the install cannot be trusted; check that the "
                             "provisioning network reaches the media server (--media-url) and the host's console")
        if t.clock.now() > deadline:
            power, last, _ = bmc.power.boot_progress()
            fetched = srv.fetched(token_sha)
            hint = ("the BMC never fetched the answer image" if not fetched else
                    f"the answer image was fetched {fetched} time(s), but the installer never called back")
            if os_b.answer_kind == "autoinstall" and not ctx.journal.info("os:media").get("combined"):
                hint += ("; subiquity asks \"Continue with autoinstall? (yes|no)\" and waits when autoinstall is "
                         "not on its kernel command line: installer.remaster (the default) builds an ISO with it")
            raise ApplyError(f"{ctx.host.name}: the installer did not report within {os_b.timeout_seconds:.0f} s "
                             f"(power {power.value}, boot progress {last or 'unknown'}; {hint}); see the host's "
                             "console")
    if done.status != "ok":
        tail = "\n".join(done.text.strip().splitlines()[-15:]) or "(no log sent)"
        raise ApplyError(f"{ctx.host.name}: the installer reported a failed install:\n{tail}")
    keys = [k for k in done.text.splitlines() if k.strip() and re.match(r"^\S+ [A-Za-z0-9+/=]+", k.strip())]
    # The answer files end with poweroff: wait (bounded) for it before ejecting the media. The
    # call proves the installer ran, so any power-off from now on is its own (no boot-progress
    # reasoning needed: sushy-tools and older iLO report no BootProgress and never clear the
    # one-time override).
    until = min(deadline, t.clock.now() + t.pacing.reboot_timeout)
    while True:
        try:
            power = bmc.power.boot_progress()[0]
        except (UnreachableError, FetchError):
            power = PowerState.UNKNOWN
        if power is PowerState.OFF:
            break
        if t.clock.now() > until:
            raise ApplyError(f"{ctx.host.name}: the installer reported success but the host did not power off "
                             f"(power {power.value}); the answer file should end with poweroff")
        t.clock.sleep(t.pacing.poll)
    return {"completion": "callback", "host_keys": keys[:8]}


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
        if net.provisioning is not None:
            p = net.provisioning
            values["dcops_provisioning"] = {"ip": p.ip, "prefix": p.prefix, "gateway": p.gateway, "vlan": p.vlan,
                                            "interface": p.interface}
    values.update(ctx.options.playbook_vars)
    return values


def _os_and_net(ctx: StepContext) -> tuple[OsBaseline | None, NetworkValues | None]:
    profile = ctx.profile()
    os_b = ctx.baselines.os.get(profile.os) if profile.os else None
    return os_b, (os_b.network.get(ctx.host.name) if os_b else None)


def _host_vars(ctx: StepContext, os_b: OsBaseline | None, net: NetworkValues | None,
               known_hosts: Path | None) -> dict[str, Any]:
    """How Ansible reaches the host: on its provisioning address (never the production one before
    the network step's gate), as the deploy user, with the host keys the installer sent pinned."""
    if net is None:
        return {}
    found: dict[str, Any] = {"ansible_host": net.install.ip}
    if os_b is not None:
        found["ansible_user"] = os_b.deploy_user
    args = []
    if known_hosts is not None:
        args.append(f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes")
    jump = net.extra.get("bastion") or ctx.options.bastion
    if jump and ctx.options.ansible_connection != "local":
        # The bastion's own host key is checked against the operator's known_hosts: ssh passes
        # none of the -o options above to the jump connection.
        args.append(f"-o ProxyJump={proxy_jump(jump)}")
    if args:
        found["ansible_ssh_common_args"] = " ".join(args)
    return found


_JUMP_HOP = re.compile(r"^(?:[A-Za-z0-9._][A-Za-z0-9._-]*@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$")


def proxy_jump(value: str) -> str:
    """A ProxyJump value (``[user@]host[:port]``, hops separated by commas) checked: nothing that
    ssh would read as an option or that a shell would split."""
    hops = [h.strip() for h in value.split(",")]
    for hop in hops:
        if not hop or hop.startswith("-") or not _JUMP_HOP.match(hop):
            raise InvalidInputError(f"bastion {value!r}: each hop must be [user@]host[:port] (hops separated by "
                                    "commas)")
    return ",".join(hops)


def _known_hosts(ctx: StepContext, net: NetworkValues | None, directory: Path) -> Path | None:
    keys = ctx.data.get("host_keys") or []
    if not keys or net is None or ctx.options.ansible_connection == "local":
        return None
    path = directory / "known_hosts"
    path.write_text("".join(f"{net.install.ip} {' '.join(str(k).split()[:2])}\n" for k in keys), encoding="utf-8")
    return path


def _run_books(ctx: StepContext, books: list[str], prefix: str, *, check: bool = False) -> list[dict[str, Any]]:
    from dcops.ansible import run_playbook

    os_b, net = _os_and_net(ctx)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dcops-hostkeys-") as keydir:
        host_vars = _host_vars(ctx, os_b, net, _known_hosts(ctx, net, Path(keydir)))
        for book in books:
            key = f"{prefix}:{book}"
            if ctx.journal.state(key) == "done":
                results.append({"playbook": book, "result": "done earlier"})
                continue
            ctx.journal.before(key, {"address": host_vars.get("ansible_host")})
            if ctx.on_event:
                ctx.on_event(f"{prefix}: {book}" + (" (check mode)" if check else "")
                             + (f" on {host_vars['ansible_host']}" if host_vars.get("ansible_host") else ""))
            result = run_playbook(Path(ctx.options.playbooks_dir) / book, hosts={ctx.host.name: host_vars},
                                  extravars=_playbook_vars(ctx, net), connection=ctx.options.ansible_connection,
                                  timeout=ctx.options.playbook_timeout, check=check)
            entry = {"playbook": book, "ok": result.ok, "failed_task": result.failed_task, "message": result.message,
                     "tasks_ok": result.tasks_ok, "changed": result.tasks_changed, "seconds": round(result.seconds, 1),
                     "address": host_vars.get("ansible_host")}
            if check:
                entry["drift"] = list(result.changed_tasks)
            results.append(entry)
            drift = (f"{book} would still change " + ", ".join(f'"{t}"' for t in result.changed_tasks[:5])
                     if check and result.changed_tasks else "")
            if not result.ok:
                ctx.journal.after(key, {"failed": result.failed_task})
                raise _StepFailed(f"{ctx.host.name}: {prefix}: " + (f"{drift}; then " if drift else "")
                                  + result.describe(), {"playbooks": results})
            if drift:
                ctx.journal.after(key, {"drift": list(result.changed_tasks)})
                raise _StepFailed(f"{ctx.host.name}: {prefix}: {drift}: the host does not hold its post-install "
                                  "state", {"playbooks": results})
            ctx.journal.after(key)
    return results


def post_install(ctx: StepContext) -> StepResult:
    books = list(ctx.profile().playbooks)
    if not books:
        return {"note": "the profile names no post-install playbooks"}
    return {"playbooks": _run_books(ctx, books, "post-install")}


def verify(ctx: StepContext) -> StepResult:
    """The hardware against its baselines (re-read from the BMC), then the OS: every post-install
    playbook again in Ansible check mode, which must find nothing to change (patches at their
    versions in the package database, settings applied and read back live, agents present)."""
    hb = _baselines(ctx)
    kinds = [k for k in ("firmware", "bios", "raid") if getattr(hb, k) is not None]
    out: dict[str, Any] = {}
    if kinds:
        _, plan = read_and_diff(ctx.target(), hb, kinds)
        ctx.data["verify_plan"] = {"changes": len(plan.changes), "problems": list(plan.problems)}
        if plan.unverified and not ctx.options.allow_unverified:
            raise _StepFailed(f"{ctx.host.name}: verify: dcops cannot verify " + "; ".join(plan.unverified)
                              + " (--allow-unverified delivers it anyway)", {"unverified": list(plan.unverified)})
        if not plan.compliant:
            raise _StepFailed(f"{ctx.host.name}: verify: differs from the profile: "
                              + "; ".join([c.describe() for c in plan.changes] + list(plan.problems)),
                              {"changes": [c.describe() for c in plan.changes], "problems": list(plan.problems)})
        out.update({"compliant": True, "kinds": kinds, "unverified": list(plan.unverified)})
    books = list(ctx.profile().playbooks)
    if books:
        out["os"] = _run_books(ctx, books, "verify-os", check=True)
    return out or {"note": "no baselines or playbooks to verify"}


def verify_os(baselines: Baselines, host: Host, data: Mapping[str, Any], options: Options) -> list[dict[str, Any]]:
    """``baseline verify --os``: a delivered host's post-install playbooks in check mode, as the
    verify step runs them (provisioning address, deploy user, pinned host keys from the stored
    workflow). Raises ApplyError naming the drift or the failed task."""
    from dcops.baseline.apply import MemoryJournal

    def no_bmc() -> Target:
        raise ApplyError(f"{host.name}: verify --os does not use the BMC")

    ctx = StepContext(host, baselines, options, MemoryJournal(), dict(data), no_bmc)
    books = list(ctx.profile().playbooks)
    if not books:
        return []
    return _run_books(ctx, books, "verify-os", check=True)


def network(ctx: StepContext) -> StepResult:
    """Production network, in this order: the host's production interface (its playbook, over
    the provisioning address), the switch port moved to the production VLAN (the OS baseline's
    switch playbook), then the gate: the production address answers on ``reach_port``. Nothing
    before this step touches the production address. Then the ``delivered`` hook."""
    os_b, net = _os_and_net(ctx)
    out: dict[str, Any] = {}
    book = ctx.profile().network_playbook
    if book:
        out["playbooks"] = _run_books(ctx, [book], "network")
    if os_b is not None and net is not None:
        out["switch"] = _switch(ctx, os_b, net)
        out["reachable"] = _gate(ctx, os_b, net)
    out["delivered_hook"] = _delivered_hook(ctx, net)
    return out


def _switch(ctx: StepContext, os_b: OsBaseline, net: NetworkValues) -> dict[str, Any]:
    from dcops.ansible import run_playbook
    from dcops.secrets import resolve

    j = ctx.journal
    if j.state("network:switch") == "done":
        done = dict(ctx.data.get("switch_port") or {})
        return {"switch": done.get("switch"), "port": done.get("port"), "result": "done earlier"}
    decision = _switch_port(ctx, os_b, net)
    if decision.port is None or not os_b.switch_playbook:
        what = decision.note if decision.port is None else "no network.switch_playbook"
        return {"note": f"{what}: the switch is left as it is", "source": decision.source}
    port = decision.port
    sw = os_b.switches[port.switch]
    vars_ = {"name": sw.name, "api": sw.api, "username": sw.username, "validate_certs": sw.validate_certs,
             "port": port.port, "vlan": port.vlan, "trunk_vlan": net.vlan}
    if sw.password:
        vars_["password"] = resolve(sw.password, what=f"switch {sw.name} password").reveal()
    j.before("network:switch", {"switch": sw.name, "port": port.port, "vlan": port.vlan or net.vlan})
    if ctx.on_event:
        ctx.on_event(f"network: switch {sw.name} port {port.port} -> VLAN {port.vlan or net.vlan}")
    result = run_playbook(Path(ctx.options.playbooks_dir) / os_b.switch_playbook, hosts={sw.name: {}},
                          extravars={**_playbook_vars(ctx, net), "dcops_switch": vars_}, connection="local",
                          timeout=ctx.options.playbook_timeout)
    if not result.ok:
        j.after("network:switch", {"failed": result.failed_task})
        raise _StepFailed(f"{ctx.host.name}: network: switch {sw.name}: {result.describe()}",
                          {"switch": sw.name, "port": port.port})
    j.after("network:switch")
    return {"switch": sw.name, "port": port.port, "vlan": port.vlan or net.vlan, "changed": result.tasks_changed,
            "source": decision.source}


def _switch_port(ctx: StepContext, os_b: OsBaseline, net: NetworkValues) -> switchport.Decision:
    """The switch port of the host: the book's, checked against the LLDP neighbours the BMC
    reports (HPE iLO 6 Port LLDPReceive), or LLDP's alone; kept in the workflow data for the
    hand-off. A BMC that reports no LLDP leaves the book's word."""
    try:
        seen = ctx.target().bmc.inventory.lldp()
        heard = ""
    except (UnsupportedError, FetchError, UnreachableError) as exc:
        seen, heard = [], f" (LLDP not read: {exc})"
    decision = switchport.decide(ctx.host.name, net.switch, seen, os_b.switches)
    if ctx.on_event:
        ctx.on_event(f"network: switch port: {decision.note}{heard}")
    if decision.port is not None:
        ctx.data["switch_port"] = {"switch": decision.port.switch, "port": decision.port.port,
                                   "source": decision.source}
    return decision


def _gate(ctx: StepContext, os_b: OsBaseline, net: NetworkValues) -> dict[str, Any]:
    from dcops.provision.handover import wait_reachable

    port = ctx.options.reach_port or os_b.reach_port
    if not port:
        return {"note": "network.reach_port is 0: no reachability gate (a lab without a production network)"}
    if ctx.on_event:
        ctx.on_event(f"network: wait for {net.ip}:{port} (production)")
    t = ctx.options.pacing
    seconds = wait_reachable(net.ip, port, time.monotonic() + t.reboot_timeout, poll=max(0.05, t.poll))
    return {"address": net.ip, "port": port, "seconds": round(seconds, 1)}


def _delivered_hook(ctx: StepContext, net: NetworkValues | None) -> dict[str, Any] | None:
    from dcops.provision.handover import call_hook

    hook = ctx.options.delivered_hook
    if not hook:
        return None
    j = ctx.journal
    if j.state("network:delivered-hook") == "done":
        return {"result": "done earlier"}
    facts = {"host": ctx.host.name, "profile": ctx.data.get("profile"), "serial": ctx.data.get("serial"),
             "identity": ctx.data.get("identity"), "rack": ctx.host.location.rack, "az": ctx.host.az,
             "role": ctx.host.role, "hostname": net.hostname if net else None,
             "address": net.ip if net else None, "vlan": net.vlan if net else None,
             "host_keys": ctx.data.get("host_keys") or [],
             "switch_port": ctx.data.get("switch_port")}  # {switch, port, source: book | lldp | ...}
    j.before("network:delivered-hook")
    result = call_hook(hook, facts)
    j.after("network:delivered-hook", result)
    return result


STEP_FUNCTIONS: dict[Step, Callable[[StepContext], StepResult]] = {
    Step.DISCOVER: discover, Step.ACCEPT: accept, Step.POOL: pool, Step.FIRMWARE: firmware, Step.BIOS: bios,
    Step.RAID: raid, Step.OS_INSTALL: os_install, Step.POST_INSTALL: post_install, Step.VERIFY: verify,
    Step.NETWORK: network,
}
