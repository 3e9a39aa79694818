"""The pure diff: baselines x what a server reports -> a Plan of Changes.

No I/O. Every Change carries the old and new value, whether it needs a host reset, and whether it
destroys data; ``problems`` say where a baseline cannot apply to this server (an attribute the
registry does not know, a bay the controller does not have), ``unverified`` what the BMC does not
report and so cannot be compared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dcops.baseline.models import (
    BiosBaseline,
    Change,
    ChangeKind,
    DiskState,
    FirmwareBaseline,
    FirmwareClass,
    Plan,
    RaidTemplate,
    VirtualDisk,
)
from dcops.baseline.raidsim import check_raid_plan
from dcops.baseline.state import (
    BiosState,
    ControllerState,
    DriveState,
    FirmwareEntry,
    HostState,
    RegistryAttribute,
    VolumeState,
)
from dcops.baseline.versions import satisfies

FW, BIOS, RAID = ChangeKind.FIRMWARE, ChangeKind.BIOS, ChangeKind.RAID

# ------------------------------------------------------------------------------------ firmware

# Checked in this order; the first class whose pattern matches an entry's id, software id or name
# wins (ids first: Dell FQDDs such as RAID.Integrated, NIC.Slot, Disk.Bay decide before names do).
_CLASS_PATTERNS: tuple[tuple[FirmwareClass, re.Pattern[str]], ...] = tuple(
    (cls, re.compile(pattern, re.IGNORECASE)) for cls, pattern in (
        (FirmwareClass.DRIVE, r"disk\.bay|\(bay |\bdrive|physical disk|\bssd|\bhdd|\bnvme"),
        (FirmwareClass.BMC, r"idrac|\bilo\s?\d?\b|\bxcc\b|\bbmc|remote access controller|baseboard management"),
        (FirmwareClass.BIOS, r"\bbios|system rom|\buefi\b"),
        (FirmwareClass.CPLD, r"\bcpld|programmable logic"),
        (FirmwareClass.PSU, r"\bpsu|power supply"),
        (FirmwareClass.HBA, r"\bhba\b|host bus adapter|fibre channel|qlogic|emulex|\blpe\d|\bfc\.slot"),
        (FirmwareClass.RAID, r"\braid|\bperc\b|megaraid|smart ?array|smartraid|\bmr\d{3}|storage controller"
                             r"|sas3908|\b9\d{3}-\d+i"),
        (FirmwareClass.NIC, r"\bnic|ethernet|network|connectx|\bbcm57|\bx710|\be810|mellanox"),
    ))


def classify_firmware(entry: FirmwareEntry) -> FirmwareClass | None:
    """Which component class an inventory entry belongs to (None when it cannot tell)."""
    for field in (entry.id, entry.software_id or "", entry.name):
        for cls, pattern in _CLASS_PATTERNS:
            if pattern.search(field):
                return cls
    return None


def diff_firmware(baseline: FirmwareBaseline, entries: Sequence[FirmwareEntry]) -> tuple[list[Change], list[str]]:
    """Firmware changes in update order, and the requirements no component answers."""
    changes: list[Change] = []
    problems: list[str] = []
    installed = [e for e in entries if e.installed]
    rank = {c: i for i, c in enumerate(baseline.order)}
    for req in baseline.ordered():
        pattern = re.compile(req.match, re.IGNORECASE) if req.match else None
        matched = [e for e in installed if classify_firmware(e) is req.component
                   and (pattern is None or pattern.search(e.name) or pattern.search(e.id))]
        if not matched:
            if req.required:
                what = f"{req.component.value}" + (f" matching /{req.match}/" if req.match else "")
                problems.append(f"firmware {baseline.name}: the server reports no {what} component")
            continue
        for entry in matched:
            ok, why = satisfies(entry.version, req.version, req.rule.value)
            if ok:
                continue
            rule = "=" if req.rule.value == "exact" else ">="
            note = why or None
            if not entry.updateable:
                problems.append(f"firmware {entry.name}: {entry.version} does not meet {rule} {req.version} and the "
                                "BMC says it is not updateable")
                continue
            if req.image is None:
                problems.append(f"firmware {entry.name}: {entry.version} does not meet {rule} {req.version} and the "
                                "baseline gives no image")
                continue
            changes.append(Change(FW, entry.name, "update", entry.version, f"{rule} {req.version}",
                                  reboot=req.reboot, note=note,
                                  detail={"class": req.component.value, "entry_id": entry.id,
                                          "entry_uri": entry.uri, "image": req.image, "version": req.version,
                                          "rule": req.rule.value, "order": rank.get(req.component, 99)}))
    return changes, problems


# ------------------------------------------------------------------------------------ BIOS

_MISSING = object()


def same_value(a: Any, b: Any) -> bool:
    """BIOS values equal as a BMC means them: exact, but ``1`` == ``"1"`` and ``True`` == ``"true"``."""
    if a is _MISSING or b is _MISSING:
        return False
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def check_registry(name: str, value: Any, attr: RegistryAttribute | None) -> str | None:
    """Why the BMC would refuse ``name = value``, or None."""
    if attr is None:
        return f"unknown attribute {name} (not in the server's attribute registry)"
    if attr.read_only:
        return f"{name} is read-only"
    if attr.type == "Enumeration":
        if not isinstance(value, str) or value not in attr.values:
            return f"{name}: {value!r} is not one of {', '.join(attr.values)}"
    elif attr.type in ("Integer", "Number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{name}: {value!r} is not a number"
        if attr.lower is not None and value < attr.lower or attr.upper is not None and value > attr.upper:
            return f"{name}: {value} is outside {attr.lower:g}..{attr.upper:g}" if attr.lower is not None \
                and attr.upper is not None else f"{name}: {value} is out of range"
    elif attr.type == "Boolean":
        if not isinstance(value, bool):
            return f"{name}: {value!r} is not true or false"
    elif attr.type == "Password":
        return f"{name} is a password: passwords do not belong in a baseline"
    elif attr.type == "String":
        if not isinstance(value, str):
            return f"{name}: {value!r} is not a string"
        if attr.max_length is not None and len(value) > attr.max_length:
            return f"{name}: longer than {attr.max_length} characters"
    return None


def diff_bios(baseline: BiosBaseline, vendor: str | None, bios: BiosState) -> tuple[list[Change], list[str]]:
    """BIOS changes (incl. values already staged and values staged by someone else) and problems."""
    wanted = baseline.for_vendor(vendor)
    changes: list[Change] = []
    problems: list[str] = []
    if not wanted:
        problems.append(f"bios {baseline.name}: no attributes for vendor {vendor or 'unknown'}")
    for name in sorted(wanted):
        value = wanted[name]
        attr = bios.registry.get(name) if bios.registry is not None else None
        if bios.registry is not None:
            why = check_registry(name, value, attr)
            if why:
                problems.append(f"bios {baseline.name}: {why}")
                continue
        current = bios.current.get(name, _MISSING)
        if current is _MISSING and bios.registry is None:
            problems.append(f"bios {baseline.name}: the server has no attribute {name}")
            continue
        pending = bios.pending.get(name, _MISSING)
        reboot = attr.reset_required if attr is not None else True
        old = None if current is _MISSING else current
        if same_value(current, value):
            if pending is not _MISSING and not same_value(pending, value):
                changes.append(Change(BIOS, name, "set", old, value, reboot=False,
                                      note=f"{pending!r} is staged and would replace it at the next reset"))
            continue
        if pending is not _MISSING and same_value(pending, value):
            changes.append(Change(BIOS, name, "pending", old, value, reboot=reboot,
                                  note="already staged; applied at the next reset"))
        else:
            note = f"replaces staged {pending!r}" if pending is not _MISSING else None
            changes.append(Change(BIOS, name, "set", old, value, reboot=reboot, note=note))
    for name in sorted(bios.pending):
        if name in wanted:
            continue
        staged = bios.pending[name]
        if same_value(staged, bios.current.get(name, _MISSING)):
            continue
        changes.append(Change(BIOS, name, "pending-foreign", bios.current.get(name), staged, reboot=True,
                              note="staged outside this baseline; the next reset applies it"))
    return changes, problems


# ------------------------------------------------------------------------------------ RAID

def pick_controller(template: RaidTemplate, controllers: Sequence[ControllerState]) -> ControllerState | None:
    if template.controller:
        pattern = re.compile(template.controller, re.IGNORECASE)
        return next((c for c in controllers if pattern.search(c.id) or pattern.search(c.model or "")), None)
    return next((c for c in controllers if c.drives), None)


def _bays_of(ctrl: ControllerState, vol: VolumeState) -> frozenset[int]:
    return frozenset(d.bay for d in (ctrl.drive_by_id(i) for i in vol.drives) if d is not None)


def _vd_detail(ctrl: ControllerState, vd: VirtualDisk) -> dict[str, Any]:
    drives = [ctrl.drive_by_bay(b) for b in vd.disks]
    return {"controller": ctrl.id, "volumes_uri": ctrl.volumes_uri, "name": vd.name, "level": vd.level,
            "bays": list(vd.disks), "drive_ids": [d.id for d in drives if d], "drive_uris": [d.uri for d in drives if d],
            "capacity_bytes": vd.capacity_bytes, "strip_size_bytes": vd.strip_size_bytes,
            "read_policy": vd.read_policy.value if vd.read_policy else None,
            "write_policy": vd.write_policy.value if vd.write_policy else None, "os": vd.os}


def _controller_mode_change(ctrl: ControllerState, converts: list[Change], volume_bays: set[int],
                            wanted: Mapping[int, DiskState]) -> tuple[list[Change], list[str]]:
    """Per-disk conversions turned into the one mode change of a controller that passes disks
    through per controller (HPE Smart Array: RAID | Mixed | HBA). Mixed passes through every disk in
    no logical drive and still lets disks join one, so it serves both Non-RAID disks and volumes; RAID
    is needed only for a disk the template wants Ready and unused, which no mode can give next to a
    Non-RAID disk."""
    to_non_raid = sorted(b for b, w in wanted.items() if w is DiskState.NON_RAID)
    ready_unused = sorted(b for b, w in wanted.items() if w is DiskState.READY and b not in volume_bays)
    if to_non_raid and ready_unused:
        return [], [f"cannot apply: controller {ctrl.id} passes disks through per controller "
                    f"({ctrl.passthrough_mode} mode), not per disk: bays {ready_unused} Ready and bays "
                    f"{to_non_raid} Non-RAID cannot both be"]
    mode = "RAID" if ready_unused else "Mixed"
    if mode == ctrl.passthrough_mode:
        return [], []
    bays = sorted(int(c.detail["bay"]) for c in converts)
    return [Change(RAID, f"controller {ctrl.id}", "mode", ctrl.passthrough_mode, mode, reboot=True,
                   note="applied at the next reset",
                   detail={"controller": ctrl.id, "mode": mode, "bays": bays, "mode_uri": ctrl.mode_uri})], []


def diff_raid(template: RaidTemplate, controllers: Sequence[ControllerState]) -> tuple[list[Change], list[str], list[str]]:
    """RAID changes in the order they must run (delete, unspare, convert, create, adjust, spare),
    problems, and what cannot be verified."""
    problems: list[str] = []
    unverified: list[str] = []
    ctrl = pick_controller(template, controllers)
    if ctrl is None:
        what = f"matching /{template.controller}/" if template.controller else "with drives"
        return [], [f"raid {template.name}: the server reports no storage controller {what}"], []
    name = template.name
    wanted_bays = {b for vd in template.virtual_disks for b in (*vd.disks, *vd.dedicated_spares)}
    wanted_bays |= set(template.global_spares) | set(template.disk_states)
    for bay in sorted(wanted_bays):
        drive = ctrl.drive_by_bay(bay)
        if drive is None:
            problems.append(f"raid {name}: controller {ctrl.id} has no drive in bay {bay}")
        elif drive.failed:
            problems.append(f"raid {name}: the drive in bay {bay} ({drive.id}) has failed")
    if problems:
        return [], problems, []
    # A controller that applies volume operations only at the next reset (OperationApplyTimeSupport
    # lists OnReset, not Immediate: Dell iDRAC9 BOSS/AHCI) gets OnReset, and each such change a reset.
    on_reset = ("OnReset" if ctrl.apply_times and "Immediate" not in ctrl.apply_times
                and "OnReset" in ctrl.apply_times else None)
    deletes: list[Change] = []
    creates: list[Change] = []
    adjust: list[Change] = []
    matched: set[str] = set()
    volume_for: dict[str, VolumeState] = {}  # template VD name -> the existing volume that is it
    for vd in template.virtual_disks:
        bays = frozenset(vd.disks)
        same = next((v for v in ctrl.volumes if _bays_of(ctrl, v) == bays and v.id not in matched), None)
        if same is not None and vd.strip_size_bytes and same.strip_size is None:
            unverified.append(f"raid {vd.name}: strip size {vd.strip_size_bytes} B (the BMC does not report it)")
        # A strip size is fixed at creation: another one means the volume is made again.
        strip_ok = same is None or not vd.strip_size_bytes or same.strip_size in (None, vd.strip_size_bytes)
        if same is not None and (same.level or "").upper() == vd.level and _capacity_ok(vd, same) and strip_ok:
            matched.add(same.id)
            volume_for[vd.name] = same
            if (same.name or "") != vd.name:
                adjust.append(Change(RAID, vd.name, "rename", same.name, vd.name,
                                     detail={"volume_uri": same.uri, "volume_id": same.id}))
            wants = (("read_policy", same.read_policy, vd.read_policy.value if vd.read_policy else None),
                     ("write_policy", same.write_policy, vd.write_policy.value if vd.write_policy else None))
            for policy, have, want in wants:
                if want is None:
                    continue
                if have is None:
                    unverified.append(f"raid {vd.name}: {policy} {want} (the BMC does not report it)")
                elif have != want:
                    adjust.append(Change(RAID, f"{vd.name}.{policy}", "policy", have, want,
                                         detail={"volume_uri": same.uri, "policy": policy, "value": want}))
            continue
        creates.append(Change(RAID, vd.name, "create", None,
                              f"{vd.level} bays {_bay_text(vd.disks)}"
                              + (f" {vd.capacity_bytes} B" if vd.capacity_bytes else " max")
                              + (f" strip {vd.strip_size_bytes} B" if vd.strip_size_bytes else ""),
                              reboot=on_reset is not None,
                              detail={**_vd_detail(ctrl, vd), "apply_time": on_reset},
                              note="holds the OS" if vd.os else None))
    # Volumes in the way (sharing bays with a VD to create) or not in the template at all.
    need = {b for c in creates for b in c.detail["bays"]}
    spare_bays = set(template.global_spares) | {b for vd in template.virtual_disks for b in vd.dedicated_spares}
    for vol in ctrl.volumes:
        if vol.id in matched:
            continue
        bays = _bays_of(ctrl, vol)
        in_way = bool(bays & (need | spare_bays | set(template.disk_states)))
        if not in_way and not template.clear_existing:
            continue
        if not template.clear_existing:
            problems.append(f"raid {name}: volume {vol.name or vol.id} ({vol.level}, bays {_bay_text(sorted(bays))}) "
                            "uses bays the template needs; set clear_existing: true to allow deleting it")
            continue
        deletes.append(Change(RAID, vol.name or vol.id, "delete",
                              f"{vol.level} bays {_bay_text(sorted(bays))}", None, destructive=True,
                              reboot=on_reset is not None, note="destroys the data on it",
                              detail={"volume_uri": vol.uri, "volume_id": vol.id, "bays": sorted(bays),
                                      "apply_time": on_reset}))
    # Hot spares and disk states, planned from the state each drive is in once the deletes and
    # spare removals are done (not from the state read now): a spare released or a volume deleted
    # leaves its drives Ready, and only what is not already so gets converted.
    deleted_bays = {b for c in deletes for b in c.detail["bays"]}
    in_vd_after = {b for vd in template.virtual_disks for b in vd.disks}
    in_vd_after |= {b for v in ctrl.volumes if v.id in matched for b in _bays_of(ctrl, v)}
    kept_other = {b for v in ctrl.volumes if v.id not in matched and not (set(_bays_of(ctrl, v)) & deleted_bays)
                  for b in _bays_of(ctrl, v)}
    wanted_spare: dict[int, tuple[str, str | None]] = {b: ("global", None) for b in template.global_spares}
    for vd in template.virtual_disks:
        for b in vd.dedicated_spares:
            wanted_spare[b] = ("dedicated", vd.name)

    def spare_ok(drive: DriveState) -> bool:
        kind, vd_name = wanted_spare[drive.bay]
        if drive.hotspare != kind:
            return False
        if kind == "dedicated":
            vol = volume_for.get(str(vd_name))
            if vol is None:
                return False  # its volume is still to be created: bound after the create
            if vol.spares_reported:
                return drive.id in vol.dedicated_spares  # Dedicated, but bound to this volume?
            unverified.append(f"raid bay {drive.bay}: dedicated spare of {vd_name} (the BMC does not report "
                              "which volume a dedicated spare serves)")
        return True

    spares: list[Change] = []
    unspares: list[Change] = []
    converts: list[Change] = []
    # A dedicated spare of a volume being deleted is freed by the delete (the controller drops it).
    released: set[int] = {d.bay for d in ctrl.drives for v in ctrl.volumes
                          if d.hotspare == "dedicated" and d.id in v.dedicated_spares
                          and v.id in {c.detail["volume_id"] for c in deletes}}
    for drive in ctrl.drives:
        spare_as = wanted_spare.get(drive.bay)
        if drive.bay in released:
            if spare_as is not None:
                spares.append(_spare_change(ctrl, drive, "none", spare_as, volume_for))
            continue
        if spare_as is None:
            if drive.hotspare != "none" and (drive.bay in in_vd_after or drive.bay in template.disk_states
                                             or template.clear_existing or drive.bay in need):
                released.add(drive.bay)
                unspares.append(Change(RAID, f"bay {drive.bay}", "unspare", drive.hotspare, "none",
                                       detail={"drive_uri": drive.uri, "drive_id": drive.id, "bay": drive.bay}))
            continue
        if spare_ok(drive):
            continue
        if drive.hotspare != "none":
            # The wrong kind, or dedicated to another volume: released first, then assigned anew.
            released.add(drive.bay)
            unspares.append(Change(RAID, f"bay {drive.bay}", "unspare", drive.hotspare, "none",
                                   detail={"drive_uri": drive.uri, "drive_id": drive.id, "bay": drive.bay}))
        spares.append(_spare_change(ctrl, drive, "none" if drive.bay in released else drive.hotspare, spare_as,
                                    volume_for))
    spare_bays = {int(c.detail["bay"]) for c in spares}
    unbindable = [c.target for c in spares if c.detail.get("type") == "dedicated"] if ctrl.spare_binding is None else []
    if unbindable:
        problems.append(f"raid {name}: cannot apply: controller {ctrl.id} offers no way to bind a dedicated spare to "
                        f"its volume (no writable Volume Links.DedicatedSpareDrives, no vendor action) for "
                        + ", ".join(unbindable))

    def state_after_clear(drive: DriveState) -> str | None:
        if drive.state is None:
            return None
        if drive.bay in deleted_bays or drive.bay in released:
            return DiskState.READY.value
        return drive.state

    wanted_states: dict[int, DiskState] = {}
    for drive in ctrl.drives:
        bay = drive.bay
        want_state: DiskState
        if bay in need or bay in spare_bays:
            want_state = DiskState.READY  # a volume or a spare takes only RAID-capable drives
        elif bay in template.disk_states:
            want_state = template.disk_states[bay]
        elif (template.unused_disks is not None and bay not in in_vd_after and bay not in wanted_spare
              and bay not in kept_other):
            want_state = template.unused_disks
        else:
            continue
        wanted_states[bay] = want_state
        have = state_after_clear(drive)
        if have is None:
            if bay not in need and bay not in spare_bays:
                unverified.append(f"raid bay {bay}: disk state {want_state.value} (the BMC does not report it)")
            continue
        if have == want_state.value or (want_state is DiskState.READY and have in ("online", "spare")):
            continue
        if (want_state is DiskState.READY and have == DiskState.NON_RAID.value and ctrl.passthrough_mode == "Mixed"
                and (bay in need or bay in spare_bays)):
            continue  # HPE Mixed mode: a passed-through disk may still join a logical drive
        converts.append(Change(RAID, f"bay {bay}", "convert", have, want_state.value,
                               detail={"drive_uri": drive.uri, "drive_id": drive.id, "bay": bay,
                                       "to": want_state.value, "controller": ctrl.id}))
    if ctrl.passthrough_mode is not None and converts:
        converts, why = _controller_mode_change(ctrl, converts, need | spare_bays, wanted_states)
        problems += [f"raid {name}: {w}" for w in why]
    if template.disk_write_cache is not None:
        for bay in sorted({b for vd in template.virtual_disks for b in vd.disks}):
            drive = ctrl.drive_by_bay(bay)
            if drive is None:
                continue
            if drive.write_cache is None:
                unverified.append(f"raid bay {bay}: disk write cache "
                                  f"{'enabled' if template.disk_write_cache else 'disabled'} (the BMC does not report it)")
            elif drive.write_cache != template.disk_write_cache:
                adjust.append(Change(RAID, f"bay {bay}.write_cache", "disk-cache", drive.write_cache,
                                     template.disk_write_cache,
                                     detail={"drive_uri": drive.uri, "drive_id": drive.id, "bay": bay}))
    changes = [*deletes, *unspares, *converts, *creates, *adjust, *spares]
    # Before any DELETE: carry the whole plan out on a model of the current layout; a step the
    # controller would refuse (or a layout that would not be the template's) is a problem, so the
    # plan is refused whole instead of failing after it destroyed something.
    if not problems:
        problems += [f"raid {name}: {why}" for why in check_raid_plan(template, ctrl, changes)]
    return changes, problems, unverified


def _spare_change(ctrl: ControllerState, drive: DriveState, old: str, want: tuple[str, str | None],
                  volume_for: Mapping[str, VolumeState]) -> Change:
    """Make ``drive`` a spare of kind ``want[0]``; a dedicated one is bound to volume ``want[1]``
    (its URI when it exists now; one created by the plan is found by name at apply time)."""
    kind, vd_for = want
    vol = volume_for.get(str(vd_for)) if vd_for else None
    return Change(RAID, f"bay {drive.bay}", "spare", old, kind, note=f"bound to {vd_for}" if vd_for else None,
                  detail={"drive_uri": drive.uri, "drive_id": drive.id, "bay": drive.bay, "type": kind,
                          "for": vd_for, "controller": ctrl.id, "volume_uri": vol.uri if vol is not None else None})


def _capacity_ok(vd: VirtualDisk, vol: VolumeState) -> bool:
    if vd.capacity_bytes is None or vol.capacity_bytes is None:
        return True
    return abs(vol.capacity_bytes - vd.capacity_bytes) <= max(vd.capacity_bytes * 0.01, 2**20)


def _bay_text(bays: Sequence[int]) -> str:
    values = sorted(bays)
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}-{values[-1]}"
    return ",".join(str(b) for b in values)


# ------------------------------------------------------------------------------------ a host

def diff_host(host: str, profile: str | None, state: HostState, *, firmware: FirmwareBaseline | None = None,
              bios: BiosBaseline | None = None, raid: RaidTemplate | None = None,
              kinds: Sequence[str] | None = None) -> Plan:
    """The plan of one host: every change of the baselines given (and selected by ``kinds``)."""
    selected = set(kinds) if kinds else {"firmware", "bios", "raid"}
    changes: list[Change] = []
    problems: list[str] = []
    unverified: list[str] = []
    names: dict[str, str] = {}
    if firmware is not None and "firmware" in selected:
        names["firmware"] = firmware.name
        c, p = diff_firmware(firmware, state.firmware)
        changes += c
        problems += p
    if bios is not None and "bios" in selected:
        names["bios"] = bios.name
        if state.bios is None:
            problems.append(f"bios {bios.name}: the server reports no BIOS settings")
        else:
            c, p = diff_bios(bios, state.vendor, state.bios)
            changes += c
            problems += p
    if raid is not None and "raid" in selected:
        names["raid"] = raid.name
        c, p, u = diff_raid(raid, state.controllers)
        changes += c
        problems += p
        unverified += u
    return Plan(host, profile, tuple(changes), tuple(problems), tuple(unverified), names)


def plan_summary(plan: Plan) -> Mapping[str, Any]:
    """Counts per kind, for reports and the store."""
    return {k: len([c for c in plan.changes if c.kind.value == k]) for k in ("firmware", "bios", "raid")}
