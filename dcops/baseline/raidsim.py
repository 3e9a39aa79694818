"""Carry a RAID plan out on a model of a controller's current layout, before anything is sent.

Pure. Each operation is checked against the state the previous ones leave, with the rules the
controllers enforce (PERC, Smart Array and MegaRAID alike): a volume takes only drives that are in
no volume, no spare and RAID-capable; a spare likewise, and a dedicated spare needs its volume to
exist; a conversion needs a drive in no volume and no spare; a delete releases its volume's drives
(Ready) and its dedicated spares. At the end the model must be the template's layout. A plan that
fails here is refused whole, before its first DELETE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dcops.baseline.models import Change, DiskState, RaidTemplate
from dcops.baseline.state import ControllerState


@dataclass
class _Bay:
    volume: str | None  # name of the model volume holding it
    spare: str  # none | global | dedicated | chassis
    mode: str | None  # raid (Ready or in use) | non-raid | None (the BMC does not say)
    serves: str | None = None  # the volume a dedicated spare is bound to (None: unknown or unbound)


@dataclass
class _Model:
    bays: dict[int, _Bay] = field(default_factory=dict)
    volumes: dict[str, set[int]] = field(default_factory=dict)  # volume key -> bays
    names: dict[str, str] = field(default_factory=dict)  # volume id or name -> key
    mixed: bool = False  # HPE Smart Array Mixed mode: a passed-through disk may join a volume


def _model(ctrl: ControllerState) -> _Model:
    m = _Model(mixed=ctrl.passthrough_mode == "Mixed")
    bay_of = {d.id: d.bay for d in ctrl.drives}
    for vol in ctrl.volumes:
        key = vol.id
        m.volumes[key] = {bay_of[i] for i in vol.drives if i in bay_of}
        m.names[vol.id] = key
        if vol.name:
            m.names.setdefault(vol.name, key)
    for d in ctrl.drives:
        mode = None if d.state is None else ("non-raid" if d.state == DiskState.NON_RAID.value else "raid")
        holder = next((k for k, bays in m.volumes.items() if d.bay in bays), None)
        serves = next((v.id for v in ctrl.volumes if d.id in v.dedicated_spares), None)
        m.bays[d.bay] = _Bay(holder, d.hotspare, mode, serves)
    return m


def _free(m: _Model, bay: int, what: str) -> str | None:
    b = m.bays.get(bay)
    if b is None:
        return f"{what}: no drive in bay {bay}"
    if b.volume is not None:
        return f"{what}: bay {bay} is still in volume {b.volume}"
    if b.spare != "none":
        return f"{what}: bay {bay} is still a {b.spare} hot spare"
    return None


def _step(m: _Model, c: Change) -> str | None:
    d = c.detail
    what = f"{c.action} {c.target}"
    if c.action == "delete":
        key = m.names.get(str(d.get("volume_id")))
        if key is None or key not in m.volumes:
            return f"{what}: no such volume"
        for bay in m.volumes.pop(key):
            m.bays[bay].volume = None
        for freed in m.bays.values():
            if freed.spare == "dedicated" and freed.serves == key:
                freed.spare, freed.serves = "none", None  # its volume is gone: the controller frees it
        return None
    if c.action == "unspare":
        b = m.bays.get(int(d["bay"]))
        if b is None or b.spare == "none":
            return f"{what}: bay {d['bay']} is not a hot spare (any more)"
        b.spare, b.serves = "none", None
        return None
    if c.action == "convert":
        bay = int(d["bay"])
        why = _free(m, bay, what)
        if why:
            return why
        b = m.bays[bay]
        to = "non-raid" if d["to"] == DiskState.NON_RAID.value else "raid"
        if b.mode == to:
            return f"{what}: bay {bay} is already {d['to']}"
        b.mode = to
        return None
    if c.action == "mode":
        # A controller-wide pass-through mode (HPE): every disk in no volume and no spare follows it.
        for b in m.bays.values():
            if b.volume is None and b.spare == "none":
                b.mode = "raid" if d["mode"] == "RAID" else "non-raid"
        m.mixed = d["mode"] == "Mixed"
        return None
    if c.action == "create":
        bays = [int(x) for x in d["bays"]]
        for bay in bays:
            why = _free(m, bay, what)
            if why:
                return why
            if m.bays[bay].mode == "non-raid" and not m.mixed:
                return f"{what}: bay {bay} is Non-RAID (convert it to RAID first)"
        key = f"new:{d['name']}"
        m.volumes[key] = set(bays)
        m.names[str(d["name"])] = key
        for bay in bays:
            m.bays[bay].volume = key
        return None
    if c.action == "disk-cache":
        return None if int(d["bay"]) in m.bays else f"{what}: no drive in bay {d['bay']}"
    if c.action in ("rename", "policy"):
        key = m.names.get(str(d.get("volume_id"))) or m.names.get(str(d.get("volume_uri", "")))
        if key is None and c.action == "policy":
            return None  # located by URI at apply time
        return None if key is None or key in m.volumes else f"{what}: the volume is gone by then"
    if c.action == "spare":
        bay = int(d["bay"])
        why = _free(m, bay, what)
        if why:
            return why
        b = m.bays[bay]
        if b.mode == "non-raid" and not m.mixed:
            return f"{what}: bay {bay} is Non-RAID (convert it to RAID first)"
        serves = None
        if d.get("type") == "dedicated":
            serves = m.names.get(str(d.get("for")))
            if serves is None or serves not in m.volumes:
                return f"{what}: volume {d.get('for')} does not exist when the spare is bound to it"
        b.spare, b.serves = str(d.get("type")), serves
        return None
    return None


def check_raid_plan(template: RaidTemplate, ctrl: ControllerState, changes: Sequence[Change]) -> list[str]:
    """Why ``changes``, run in order on ``ctrl``'s layout, would fail or not end as ``template``."""
    m = _model(ctrl)
    for n, change in enumerate(changes, 1):
        why = _step(m, change)
        if why:
            return [f"the plan fails at step {n} of {len(changes)} ({why}); nothing was changed"]
    out: list[str] = []
    for vd in template.virtual_disks:
        key = m.names.get(vd.name)
        have = next((k for k, bays in m.volumes.items() if bays == set(vd.disks)), None)
        if have is None:
            out.append(f"after the plan, no volume holds bays {sorted(vd.disks)} for {vd.name}")
            continue
        for bay in vd.dedicated_spares:
            b = m.bays.get(bay)
            if b is None or b.spare != "dedicated" or (b.serves is not None and b.serves not in (have, key)):
                out.append(f"after the plan, bay {bay} is not a dedicated spare of {vd.name}")
    for bay in template.global_spares:
        b = m.bays.get(bay)
        if b is None or b.spare != "global":
            out.append(f"after the plan, bay {bay} is not a global spare")
    return out
