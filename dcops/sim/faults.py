"""Fault kinds: what breaks, the state it changes, and the SEL entries and health a real BMC shows.

``apply_fault(bmc, kind, args)`` and ``clear_faults(bmc, kind=None)`` are pure state changes (no
sockets); the control API and ``dcops sim fault`` call them for one host or a whole rack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dcops.errors import UsageError
from dcops.sim.profiles import dimm_id, dimm_locator, drive_id, sensor_id
from dcops.sim.state import Bmc, Fault


def parse_seconds(text: str) -> float:
    """``"250ms"``, ``"2s"``, ``"1.5"`` -> seconds."""
    value = text.strip().lower()
    try:
        if value.endswith("ms"):
            return float(value[:-2]) / 1000.0
        if value.endswith("s"):
            return float(value[:-1])
        return float(value)
    except ValueError:
        raise UsageError(f"not a duration: {text!r} (examples: 250ms, 2s, 1.5)") from None


def parse_latency(text: str) -> tuple[float, float]:
    """``"50-300ms"`` -> (0.05, 0.3); ``"2s"`` -> (2.0, 2.0); ``"0"`` -> (0, 0)."""
    value = text.strip().lower()
    if "-" in value:
        lo, hi = value.split("-", 1)
        unit = "ms" if hi.endswith("ms") else "s" if hi.endswith("s") else ""
        if unit and not lo.endswith(("s", "ms")):
            lo += unit
        low, high = parse_seconds(lo), parse_seconds(hi)
    else:
        low = high = parse_seconds(value)
    if low < 0 or high < low:
        raise UsageError(f"bad latency range {text!r}")
    return low, high


def _int(args: dict[str, str], key: str, default: int, lo: int, hi: int) -> int:
    raw = args.get(key, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{key}={raw!r} is not a number") from None
    if not lo <= value <= hi:
        raise UsageError(f"{key}={value} is out of range {lo}..{hi}")
    return value


def _rate(args: dict[str, str], default: float) -> float:
    raw = args.get("rate", str(default))
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"rate={raw!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise UsageError("rate must be between 0 and 1")
    return value


# ----------------------------------------------------------------------------- component faults

def _psu(bmc: Bmc, args: dict[str, str], event: str) -> str:
    n = _int(args, "psu", 1, 1, 2)
    key = f"psu:{n}"
    bmc.health[key] = "Critical"
    if event == "psu_input_lost":
        bmc.comp_state[key] = "UnavailableOffline"
    bmc.add_sel(event, n=n, name=f"PS{n}")
    bmc.add_sel("redundancy_lost")
    if all(bmc.component_health(f"psu:{i}") == "Critical" for i in (1, 2)):
        bmc.abnormal_power_off()  # no PSU left: the host loses power
    return str(n)


def _psu_clear(bmc: Bmc, fault: Fault) -> None:
    key = f"psu:{fault.target}"
    bmc.health.pop(key, None)
    bmc.comp_state.pop(key, None)
    bmc.add_sel("psu_ok", n=fault.target, name=f"PS{fault.target}")
    if not bmc.redundancy_lost and bmc.rollup("psu:") == "OK":
        bmc.add_sel("redundancy_ok")


def _redundancy(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.redundancy_lost = True
    bmc.add_sel("redundancy_lost")
    return ""


def _redundancy_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.redundancy_lost = False
    if bmc.rollup("psu:") == "OK":
        bmc.add_sel("redundancy_ok")


def _fan(bmc: Bmc, args: dict[str, str]) -> str:
    n = _int(args, "fan", 1, 1, bmc.profile.fans)
    bmc.health[f"fan:{n}"] = "Critical"
    bmc.readings[f"fan:{n}"] = 0.0
    bmc.add_sel("fan_fail", n=n, name=bmc.profile.fan_names[n - 1])
    return str(n)


def _fan_clear(bmc: Bmc, fault: Fault) -> None:
    n = int(fault.target)
    bmc.health.pop(f"fan:{n}", None)
    bmc.readings.pop(f"fan:{n}", None)
    bmc.add_sel("fan_ok", n=n, name=bmc.profile.fan_names[n - 1])


def _find_temp(bmc: Bmc, wanted: str) -> Any:
    low = wanted.lower()
    for spec in bmc.profile.temps:
        if low in (spec.key, spec.name.lower(), sensor_id(spec.name).lower()):
            return spec
    names = ", ".join(f"{s.key} ({s.name})" for s in bmc.profile.temps)
    raise UsageError(f"{bmc.name}: no temperature sensor {wanted!r}; known: {names}")


def _over_temp(bmc: Bmc, args: dict[str, str]) -> str:
    spec = _find_temp(bmc, args.get("sensor", "inlet"))
    raw = args.get("value")
    try:
        value = float(raw) if raw is not None else spec.upper_critical + 3.0
    except ValueError:
        raise UsageError(f"value={raw!r} is not a number") from None
    key = f"temp:{spec.key}"
    bmc.readings[key] = value
    bmc.health[key] = "Critical" if value >= spec.upper_critical else "Warning" if value >= spec.upper_caution \
        else "OK"
    bmc.add_sel("temp_critical", name=spec.name, value=f"{value:g}")
    return spec.key


def _over_temp_clear(bmc: Bmc, fault: Fault) -> None:
    key = f"temp:{fault.target}"
    bmc.readings.pop(key, None)
    bmc.health.pop(key, None)
    spec = _find_temp(bmc, fault.target)
    bmc.add_sel("temp_ok", name=spec.name)


def _find_dimm(bmc: Bmc, wanted: str | None) -> tuple[int, int]:
    p, fl = bmc.profile, bmc.flavour
    populated = [(s, n) for s, n, pop in p.dimm_slots() if pop]
    if wanted is None:
        return populated[0]
    low = wanted.lower()
    for sock, slot in populated:
        per = p.dimm_slots_per_socket
        if low in (dimm_id(fl, sock, slot, per).lower(), dimm_locator(fl, sock, slot, per).lower(),
                   f"{sock}:{slot}"):
            return sock, slot
    raise UsageError(f"{bmc.name}: no populated DIMM {wanted!r} (e.g. {dimm_id(fl, *populated[0], p.dimm_slots_per_socket)})")


def _dimm(bmc: Bmc, args: dict[str, str]) -> str:
    sock, slot = _find_dimm(bmc, args.get("dimm"))
    bmc.health[f"dimm:{sock}:{slot}"] = "Critical"
    bmc.add_sel("dimm_ue", name=dimm_locator(bmc.flavour, sock, slot, bmc.profile.dimm_slots_per_socket))
    return f"{sock}:{slot}"


def _dimm_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.health.pop(f"dimm:{fault.target}", None)
    sock, slot = (int(x) for x in fault.target.split(":"))
    bmc.add_sel("dimm_ok", name=dimm_locator(bmc.flavour, sock, slot, bmc.profile.dimm_slots_per_socket))


def _find_drive(bmc: Bmc, wanted: str | None) -> int:
    count = len(bmc.profile.drives)
    if wanted is None:
        return 0
    if wanted.isdigit() and int(wanted) < count:
        return int(wanted)
    for bay in range(count):
        if drive_id(bmc.flavour, bay).lower() == wanted.lower():
            return bay
    raise UsageError(f"{bmc.name}: no drive {wanted!r} (bays 0..{count - 1})")


def _drive_predictive(bmc: Bmc, args: dict[str, str]) -> str:
    from dcops.sim.profiles import drive_locator

    bay = _find_drive(bmc, args.get("drive"))
    bmc.storage.drives[bay].predicted = True
    bmc.add_sel("drive_predictive", name=drive_locator(bmc.flavour, bay))
    return str(bay)


def _drive_predictive_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.storage.drives[int(fault.target)].predicted = False


def _drive_fail(bmc: Bmc, args: dict[str, str]) -> str:
    bay = _find_drive(bmc, args.get("drive"))
    bmc.storage.fail_drive(bay)
    return str(bay)


def _drive_fail_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.storage.replace_drive(int(fault.target))


def _volume(bmc: Bmc, args: dict[str, str]) -> str:
    volumes = bmc.storage.volumes
    if not volumes:
        raise UsageError(f"{bmc.name}: has no volume to degrade")
    wanted = args.get("volume")
    vol = volumes[0] if wanted is None else (
        bmc.storage.volume(wanted) or next((v for v in volumes if v.name == wanted), None)
        or (volumes[int(wanted)] if wanted.isdigit() and int(wanted) < len(volumes) else None))
    if vol is None:
        raise UsageError(f"{bmc.name}: no volume {wanted!r}")
    vol.forced_degraded = True
    bmc.add_sel("volume_degraded", name=vol.name, controller=bmc.profile.raid_model)
    return vol.id


def _volume_clear(bmc: Bmc, fault: Fault) -> None:
    vol = bmc.storage.volume(fault.target)
    if vol is not None:
        vol.forced_degraded = False
        bmc.add_sel("volume_ok", name=vol.name, controller=bmc.profile.raid_model)


def _abnormal(bmc: Bmc, args: dict[str, str]) -> str:
    n = _int(args, "cpu", 1, 1, bmc.profile.sockets)
    bmc.health[f"cpu:{n}"] = "Critical"
    bmc.add_sel("cpu_ierr", n=n, name=f"CPU{n}")
    bmc.abnormal_power_off()
    bmc.add_sel("abnormal_shutdown")
    return str(n)


def _abnormal_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.health.pop(f"cpu:{fault.target}", None)


# ----------------------------------------------------------------------------- network faults

def _unreachable(bmc: Bmc, args: dict[str, str]) -> str:
    mode = args.get("mode", "refuse")
    if mode not in ("refuse", "hang"):
        raise UsageError("mode must be refuse (connection refused) or hang (accept, never answer)")
    bmc.net.down_mode = mode
    bmc.set_down("fault", True)
    if "duration" in args:
        seconds = parse_seconds(args["duration"])
        bmc.schedule(seconds, lambda at: None if clear_faults(bmc, "bmc_unreachable") else None)
    return ""


def _unreachable_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.set_down("fault", False)


def _network_down(bmc: Bmc, args: dict[str, str]) -> str:
    """The host's switch/VLAN for one network dies: its address there stops answering (the
    fleet's listener closes: connections refused). On ``mgmt``, the network the BMCs share, the
    BMC goes dark with it: what a dead management switch looks like from patrol."""
    network = args.get("network")
    if not network:
        raise UsageError("network_down needs network=NAME (one of the fleet's --network names)")
    bmc.net.links_down.add(network)
    if network == "mgmt":
        bmc.net.down_mode = "refuse"
        bmc.set_down("switch", True)
    if bmc.on_reachability is not None:
        bmc.on_reachability(bmc)  # the fleet closes the listener
    return network


def _network_down_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.net.links_down.discard(fault.target)
    if fault.target == "mgmt":
        bmc.set_down("switch", False)
    if bmc.on_reachability is not None:
        bmc.on_reachability(bmc)


def _slow(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.net.extra_latency = parse_latency(args.get("latency", "2s"))
    # ``paths=Memory,Storage``: only requests with one of these path segments are slow. Real BMCs
    # answer their part documents far slower than the rest: an iDRAC's Memory members 3-6 s each
    # (mrlhansen/idrac_exporter#133, 2025), so the inventory tier runs long while a minute read
    # (system, chassis, sensors, log) stays quick.
    bmc.net.slow_paths = tuple(p.strip().lower() for p in args.get("paths", "").split(",") if p.strip())
    return ""


def _slow_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.net.extra_latency = (0.0, 0.0)
    bmc.net.slow_paths = ()


def _errors(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.net.error_rate = _rate(args, 0.5)
    bmc.net.error_status = _int(args, "status", 500, 500, 599)
    return ""


def _errors_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.net.error_rate = 0.0


def _readback_fails(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.net.errors_after_reset = _int(args, "status", 503, 500, 599)
    return ""


def _readback_fails_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.net.errors_after_reset = 0
    bmc.net.error_rate = 0.0


def _malformed(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.net.malformed_rate = _rate(args, 1.0)
    return ""


def _malformed_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.net.malformed_rate = 0.0


def _ac_lost(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.ac_lost()
    return ""


def _ac_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.ac_restored()


# ----------------------------------------------------------------------------- behaviour faults

def _bios_refuse(bmc: Bmc, args: dict[str, str]) -> str:
    name = args.get("attribute")
    if not name:
        raise UsageError("bios_refuse needs attribute=NAME (a BIOS attribute of the flavour's registry)")
    attr = bmc.registry.get(name) or next((a for a in bmc.registry.attributes if a.name.lower() == name.lower()),
                                          None)
    if attr is None:
        known = ", ".join(a.name for a in bmc.registry.attributes if not a.read_only)
        raise UsageError(f"{bmc.name}: no BIOS attribute {name!r}; known: {known}")
    bmc.bios_refused.add(attr.name)
    return attr.name


def _bios_refuse_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.bios_refused.discard(fault.target)


def _task_vanish(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.vanish_tasks = _int(args, "count", 1, 1, 1000)
    return ""


def _task_vanish_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.vanish_tasks = 0


def _install_poweroff(bmc: Bmc, args: dict[str, str]) -> str:
    seconds = parse_seconds(args["duration"]) if "duration" in args else bmc.timings.install
    if seconds < 0:
        raise UsageError("duration must be >= 0")
    bmc.install_poweroff = seconds
    return ""


def _install_poweroff_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.install_poweroff = None


def _leak(bmc: Bmc, args: dict[str, str]) -> str:
    from dcops.sim.traits import LEAK_DETECTORS

    if "leak-detector" not in bmc.profile.traits:
        raise UsageError(f"{bmc.name}: no leak detectors (start the simulator with --trait leak-detector)")
    name = args.get("detector", LEAK_DETECTORS[0])
    if name not in LEAK_DETECTORS:
        raise UsageError(f"{bmc.name}: no leak detector {name!r}; known: {', '.join(LEAK_DETECTORS)}")
    bmc.health[f"leak:{name}"] = "Critical"
    return name


def _leak_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.health.pop(f"leak:{fault.target}", None)


def _pcie_nic(bmc: Bmc, args: dict[str, str]) -> str:
    if "pcie-nic-health" not in bmc.profile.traits:
        raise UsageError(f"{bmc.name}: no PCIe devices (start the simulator with --trait pcie-nic-health)")
    n = _int(args, "nic", 1, 1, len(bmc.profile.nics))
    bmc.health[f"pcie_nic:{n}"] = "Warning"
    return str(n)


def _pcie_nic_clear(bmc: Bmc, fault: Fault) -> None:
    bmc.health.pop(f"pcie_nic:{fault.target}", None)


def _raid_on_reset(bmc: Bmc, args: dict[str, str]) -> str:
    bmc.storage.on_reset_only = True
    return ""


def _raid_on_reset_clear(bmc: Bmc, fault: Fault) -> None:
    # Back to what the controller of the profile does (a BOSS stays OnReset only).
    bmc.storage.on_reset_only = tuple(bmc.profile.raid_apply_times) == ("OnReset",)


def _lldp(bmc: Bmc, args: dict[str, str]) -> str:
    nics = bmc.profile.nics
    nic = _int(args, "nic", 1, 1, len(nics))
    port = _int(args, "port", 1, 1, nics[nic - 1].ports)
    switch, switch_port = args.get("switch", ""), args.get("switch_port", "")
    if not switch or not switch_port:
        raise UsageError("lldp_neighbor needs switch=NAME and switch_port=IFNAME")
    index = sum(n.ports for n in nics[:nic - 1]) + port - 1
    bmc.lldp[index] = {"system": switch, "port": switch_port,
                       "chassis": args.get("chassis", "02:1C:73:00:00:01")}
    return f"{nic}.{port}"


def _lldp_clear(bmc: Bmc, fault: Fault) -> None:
    nic, _, port = fault.target.partition(".")
    nics = bmc.profile.nics
    bmc.lldp.pop(sum(n.ports for n in nics[:int(nic) - 1]) + int(port) - 1, None)


@dataclass(frozen=True)
class FaultKind:
    name: str
    help: str
    params: str
    apply: Callable[[Bmc, dict[str, str]], str]
    clear: Callable[[Bmc, Fault], None]


FAULT_KINDS: dict[str, FaultKind] = {k.name: k for k in (
    FaultKind("psu_fail", "a power supply fails; redundancy is lost", "psu=1|2",
              lambda b, a: _psu(b, a, "psu_fail"), _psu_clear),
    FaultKind("psu_input_lost", "a power supply loses its AC input; redundancy is lost", "psu=1|2",
              lambda b, a: _psu(b, a, "psu_input_lost"), _psu_clear),
    FaultKind("redundancy_lost", "power supply redundancy lost (PSUs themselves OK)", "", _redundancy,
              _redundancy_clear),
    FaultKind("fan_fail", "a fan stops (0 RPM, critical)", "fan=N", _fan, _fan_clear),
    FaultKind("over_temp", "a temperature sensor goes above its critical threshold",
              "sensor=inlet|exhaust|cpu1|cpu2|dimm|<name> value=C", _over_temp, _over_temp_clear),
    FaultKind("dimm_ue", "uncorrectable memory errors on a DIMM", "dimm=<id|locator|sock:slot>", _dimm,
              _dimm_clear),
    FaultKind("drive_predictive", "a drive reports predictive failure", "drive=<bay|id>", _drive_predictive,
              _drive_predictive_clear),
    FaultKind("drive_fail", "a drive fails; its volume degrades and a hot spare rebuilds", "drive=<bay|id>",
              _drive_fail, _drive_fail_clear),
    FaultKind("volume_degraded", "a RAID volume becomes degraded", "volume=<id|name|index>", _volume,
              _volume_clear),
    FaultKind("abnormal_shutdown", "CPU IERR: power goes off, SEL entries and a critical CPU", "cpu=N",
              _abnormal, _abnormal_clear),
    FaultKind("bmc_unreachable", "the BMC stops answering", "mode=refuse|hang duration=S", _unreachable,
              _unreachable_clear),
    FaultKind("network_down", "the host's switch/VLAN on one network dies (its address there refuses "
              "connections); on mgmt the BMC goes dark too", "network=NAME", _network_down, _network_down_clear),
    FaultKind("bmc_slow", "the BMC answers slowly (paths=: only those path segments)",
              "latency=2s|1-3s|500ms paths=Memory,Storage", _slow, _slow_clear),
    FaultKind("bmc_errors", "a share of requests fail with a 5xx", "rate=0.5 status=500|503", _errors,
              _errors_clear),
    # The BMC carries out the next ComputerSystem.Reset, answers it, then fails every request: what
    # a client sees when a BMC restarts its web service or (shared-NIC / NC-SI BMCs) loses its link
    # while the host resets. A client must not call that power action "failed" and retry it.
    FaultKind("readback_fails", "after the next accepted power reset, every request fails with a 5xx",
              "status=503|500", _readback_fails, _readback_fails_clear),
    FaultKind("malformed_json", "a share of responses carry broken JSON", "rate=1.0", _malformed,
              _malformed_clear),
    FaultKind("rack_power_loss", "AC power lost: host off, BMC dark until cleared", "", _ac_lost, _ac_clear),
    FaultKind("bios_refuse", "a BIOS attribute is accepted by the PATCH but dropped at POST (its config job "
              "fails)", "attribute=NAME", _bios_refuse, _bios_refuse_clear),
    FaultKind("task_vanish", "the next firmware/volume task monitor disappears (404); the operation completes",
              "count=1", _task_vanish, _task_vanish_clear),
    FaultKind("leak", "a cold-plate leak detector turns Critical; LeakDetection and the chassis stay OK "
              "(needs --trait leak-detector)", "detector=ColdPlate_0|ColdPlate_1", _leak, _leak_clear),
    FaultKind("pcie_nic", "a NIC's PCIeFunction reports Warning; nothing else does (needs --trait pcie-nic-health)",
              "nic=N", _pcie_nic, _pcie_nic_clear),
    FaultKind("install_poweroff", "an OS install booted from virtual media powers the host off when done",
              "duration=S (default: the install timing)", _install_poweroff, _install_poweroff_clear),
    # Not a failure: the lab's cabling. A switch port answering LLDP on one of the host's NIC
    # ports, as HPE iLO 6 reports it (Chassis/1/NetworkAdapters/<id>/Ports/<n> Ethernet.LLDPReceive).
    FaultKind("lldp_neighbor", "a NIC port sees an LLDP neighbour (switch name and port) in Port LLDPReceive",
              "nic=N port=P switch=NAME switch_port=IFNAME [chassis=MAC]", _lldp, _lldp_clear),
    FaultKind("raid_onreset", "the controller applies volume creates/deletes only at the next host reset "
              "(OperationApplyTimeSupport lists OnReset only, like Dell BOSS/AHCI)", "", _raid_on_reset,
              _raid_on_reset_clear),
)}


def apply_fault(bmc: Bmc, kind: str, args: dict[str, str] | None = None) -> str:
    """Inject ``kind`` into ``bmc``; returns the fault key (``kind:target``). Re-applying replaces."""
    spec = FAULT_KINDS.get(kind)
    if spec is None:
        raise UsageError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
    args = dict(args or {})
    bmc.tick()
    target = spec.apply(bmc, args)
    key = f"{kind}:{target}" if target else kind
    bmc.faults[key] = Fault(kind, target, args, bmc.clock())
    return key


def arm_fault(bmc: Bmc, kind: str, args: dict[str, str] | None, before: str) -> str:
    """Inject ``kind`` just before the BMC serves the first request whose path contains ``before``
    (e.g. "LogServices"): a fault that happens *during* a client's visit, between its reads, at
    a point the test chooses rather than one a race picks."""
    if kind not in FAULT_KINDS:
        raise UsageError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
    if not before.strip():
        raise UsageError("before: a path substring is required")
    bmc.armed.append((before.strip().lower(), kind, dict(args or {})))
    return f"armed:{kind}:before:{before.strip()}"


def strike_armed(bmc: Bmc, path: str) -> None:
    """Apply the armed faults whose path substring this request's path contains (once each)."""
    lowered = path.lower()
    for armed in [a for a in bmc.armed if a[0] in lowered]:
        bmc.armed.remove(armed)
        apply_fault(bmc, armed[1], armed[2])


def clear_faults(bmc: Bmc, kind: str | None = None) -> list[str]:
    """Undo the faults of ``bmc`` (all, or those of ``kind``); returns the keys cleared."""
    if kind is not None and kind not in FAULT_KINDS:
        raise UsageError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
    bmc.tick()
    bmc.armed = [a for a in bmc.armed if kind is not None and a[1] != kind]
    cleared = []
    for key, fault in list(bmc.faults.items()):
        if kind is None or fault.kind == kind:
            del bmc.faults[key]
            FAULT_KINDS[fault.kind].clear(bmc, fault)
            cleared.append(key)
    return cleared


def parse_args(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["psu=2", "rate=0.5"]`` -> ``{"psu": "2", "rate": "0.5"}``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"fault arguments are KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out
