"""Firmware inventory and ``UpdateService.SimpleUpdate``: a task that runs for a while, then changes a
version. A BMC update reboots the BMC (unreachable, sessions gone); a BIOS update is staged and
applied at the next host reset; other components change when the task completes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dcops.sim.messages import RedfishError
from dcops.sim.profiles import HardwareProfile

if TYPE_CHECKING:
    from dcops.sim.state import Bmc, Task


@dataclass(frozen=True)
class Component:
    key: str  # bmc, bios, cpld, raid, nic1, psu1, drive0
    name: str
    default: str
    fqdd: str  # Dell device name, used in Dell inventory ids
    component_id: int  # Dell component id


_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bmc", ("idrac", "ilo", "xcc", "bmc", "firmimg", "redfish")),
    ("bios", ("bios", "uefi", "rom")),
    ("cpld", ("cpld",)),
    ("raid", ("raid", "perc", "megaraid", "storage", "smartarray", "sas3908")),
    ("nic1", ("nic", "network", "ethernet", "bcm", "mlx", "connectx")),
    ("psu1", ("psu", "power")),
    ("drive0", ("drive", "ssd", "hdd", "disk", "nvme")),
)

_NAMES: dict[str, dict[str, str]] = {
    "bmc": {"dell": "Integrated Dell Remote Access Controller", "hpe": "iLO 5", "lenovo": "XCC (Primary)",
            "supermicro": "BMC", "generic": "BMC Firmware", "huawei": "ActiveBMC"},
    "bios": {"dell": "BIOS", "hpe": "System ROM", "lenovo": "UEFI", "supermicro": "BIOS", "generic": "BIOS", "huawei": "Bios"},
    "cpld": {"dell": "System CPLD", "hpe": "System Programmable Logic Device", "lenovo": "CPLD",
             "supermicro": "CPLD", "generic": "CPLD", "huawei": "MainBoardCPLD"},
}

_NAMED_IDS: dict[str, dict[str, str]] = {
    "lenovo": {"bmc": "BMC-Primary", "bios": "UEFI", "cpld": "CPLD"},
    "supermicro": {"bmc": "BMC", "bios": "BIOS", "cpld": "CPLD_Motherboard"},
}


_COMPONENTS: dict[str, list[Component]] = {}
_DEFAULTS: dict[str, dict[str, str]] = {}


def components(bmc: Bmc) -> list[Component]:
    """Every firmware-carrying component of the host, in inventory order (shared per profile)."""
    found = _COMPONENTS.get(bmc.profile.name)
    if found is None:
        found = _COMPONENTS[bmc.profile.name] = _components(bmc.profile)
    return found


def _components(profile: HardwareProfile) -> list[Component]:
    fl = profile.flavour
    out = [
        Component("bmc", _NAMES["bmc"][fl.name], profile.bmc_firmware, "iDRAC.Embedded.1-1", 25227),
        Component("bios", _NAMES["bios"][fl.name], profile.bios_version, "BIOS.Setup.1-1", 159),
        Component("cpld", _NAMES["cpld"][fl.name], profile.cpld_version, "CPLD.Embedded.1", 27763),
        Component("raid", profile.raid_model, profile.raid_firmware, fl.storage_id, 108160),
    ]
    for n, nic in enumerate(profile.nics, start=1):
        out.append(Component(f"nic{n}", nic.model, nic.firmware, f"NIC.{nic.slot}-1-1", 108255 + n))
    for n in (1, 2):
        out.append(Component(f"psu{n}", f"Power Supply {n}", profile.psu_firmware, f"PSU.Slot.{n}", 0))
    for bay, drive in enumerate(profile.drives):
        out.append(Component(f"drive{bay}", f"{drive.model} (bay {bay})", drive.firmware,
                             f"Disk.Bay.{bay}:Enclosure.Internal.0-1:{fl.storage_id}", 0))
    return out


@dataclass
class FirmwareState:
    bmc: Bmc
    current: dict[str, str] = field(default_factory=dict)  # key -> version, only changed ones
    previous: dict[str, str] = field(default_factory=dict)
    staged: dict[str, str] = field(default_factory=dict)  # applied at the next host reset (BIOS)
    running: str | None = None  # id of the update task in progress
    last: str | None = None  # id of the latest update task (HPE's UpdateService Oem.Hpe.State reports it)

    def hpe_state(self, now: float) -> dict[str, Any]:
        """HPE iLO 5's update progress, as UpdateService ``Oem.Hpe`` reports it (the DL360 capture
        shows ``State: Idle``; HPE documents Idle, Uploading, Verifying, Writing, Updating,
        Complete, Error): the phase of the latest update, ``FlashProgressPercent`` while it runs, and
        ``Result.MessageId`` once it ended."""
        task = self.bmc.tasks.get(self.last) if self.last is not None else None
        if task is None:
            return {"State": "Idle"}
        if task.state in ("Running", "Pending"):
            pct = task.percent(now)
            phase = "Uploading" if pct < 10 else ("Verifying" if pct < 25 else "Writing")
            return {"State": phase, "FlashProgressPercent": pct}
        first = next((m[0] for m in task.messages if not m[0].startswith("TaskEvent.")), "Base.1.4.Success")
        return {"State": "Complete" if task.state == "Completed" else "Error", "FlashProgressPercent": 100,
                "Result": {"MessageId": first}}

    def version(self, key: str) -> str:
        if key in self.current:
            return self.current[key]
        defaults = _DEFAULTS.get(self.bmc.profile.name)
        if defaults is None:
            defaults = _DEFAULTS[self.bmc.profile.name] = {c.key: c.default for c in components(self.bmc)}
        return defaults[key]

    def versions(self) -> dict[str, str]:
        return {c.key: self.current.get(c.key, c.default) for c in components(self.bmc)}

    def inventory(self) -> list[tuple[str, Component, str, str]]:
        """(id, component, version, state) of every inventory member; Dell adds Previous-... items."""
        fl = self.bmc.flavour
        items: list[tuple[str, Component, str, str]] = []
        comps = components(self.bmc)
        for n, comp in enumerate(comps, start=1):
            version = self.current.get(comp.key, comp.default)
            if fl.fw_id_style == "dell":
                items.append((f"Installed-{comp.component_id}-{version}__{comp.fqdd}", comp, version, "Enabled"))
            elif fl.fw_id_style == "numeric":
                items.append((str(n), comp, version, "Enabled"))
            else:
                ident = _NAMED_IDS.get(fl.name, {}).get(comp.key) or comp.key.upper()
                items.append((ident, comp, version, "Enabled"))
        if fl.fw_id_style == "dell":
            for comp in comps:
                if comp.key in self.previous:
                    old = self.previous[comp.key]
                    items.append((f"Previous-{comp.component_id}-{old}__{comp.fqdd}", comp, old, "Disabled"))
        return items

    def item(self, ident: str) -> tuple[str, Component, str, str] | None:
        low = ident.lower()
        return next((it for it in self.inventory() if it[0].lower() == low), None)

    # ------------------------------------------------------------------ update
    def simple_update(self, params: dict[str, Any]) -> Task:
        """UpdateService.SimpleUpdate: validate, start a task, apply when it completes."""
        bmc = self.bmc
        action = "UpdateService.SimpleUpdate"
        image = params.get("ImageURI")
        if image is None:
            raise RedfishError(400, "ActionParameterMissing", (action, "ImageURI"))
        if not isinstance(image, str) or "://" not in image:
            raise RedfishError(400, "ActionParameterValueFormatError", (str(image), "ImageURI", action))
        scheme = image.split("://", 1)[0].upper()
        protocol = params.get("TransferProtocol") or scheme
        if protocol not in ("HTTP", "HTTPS", "NFS", "CIFS", "TFTP", "SFTP", "FTP"):
            raise RedfishError(400, "ActionParameterValueNotInList", (str(protocol), "TransferProtocol", action))
        targets = params.get("Targets")
        key: str | None = None
        if targets is not None:
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                raise RedfishError(400, "ActionParameterValueTypeError", (str(targets), "Targets", action))
            if targets:
                found = self.item(targets[0].rstrip("/").rsplit("/", 1)[-1])
                if found is None:
                    raise RedfishError(400, "ActionParameterValueNotInList", (targets[0], "Targets", action))
                key = found[1].key
        filename = image.rsplit("/", 1)[-1]
        if key is None:
            key = infer_component(filename)
        # A task the BMC forgot (task_vanish) no longer holds the update lock, although its update
        # goes on: the BMC lost track of it altogether.
        running = bmc.tasks.get(self.running) if self.running is not None else None
        if running is not None and running.state == "Running":
            raise RedfishError(409, "ResourceInUse", vendor=(
                ("IDRAC.2.8.RED014", "Unable to start the update because another update is in progress.")
                if bmc.flavour.name == "dell" else None))
        task = bmc.new_task(f"Firmware update: {filename}", "firmware", bmc.timings.task,
                            target="/redfish/v1/UpdateService")
        self.running = self.last = task.id
        broken = any(word in filename.lower() for word in ("corrupt", "invalid", "broken"))

        def done(at: float) -> None:
            if self.running == task.id:
                self.running = None
            if key is None:
                bmc.finish_task(task, at, ok=False, message=(
                    "Update.1.1.InvalidUpdate",
                    f"The image {filename} does not apply to any component of this system."))
                return
            if broken:
                bmc.finish_task(task, at, ok=False, message=(
                    "Update.1.1.VerificationFailed", f"Verification of image '{filename}' at "
                    f"'{key}' failed."))
                return
            old = self.version(key)
            new = parse_version(filename) or bump(old)
            if key == "bios":
                self.staged["bios"] = new
                bmc.finish_task(task, at, message=(
                    "Update.1.1.AwaitToActivate", f"Awaiting for an action to proceed with activating image "
                    f"'{filename}' on '{key}' (a host reset)."))
                return
            self._set(key, old, new, at)
            bmc.finish_task(task, at, message=("Update.1.1.UpdateSuccessful",
                                               f"Device '{key}' successfully updated with image '{filename}'."))
            if key == "bmc":
                bmc.reboot_bmc(at)

        bmc.schedule(bmc.timings.task, done)
        return task

    def _set(self, key: str, old: str, new: str, at: float) -> None:
        self.previous[key] = old
        self.current[key] = new
        name = next(c.name for c in components(self.bmc) if c.key == key)
        self.bmc.add_sel("firmware_updated", at=at, name=name, version=new)

    def apply_staged(self, at: float) -> None:
        """Called at POST: staged images (BIOS) become the running version."""
        for key, new in list(self.staged.items()):
            self._set(key, self.version(key), new, at)
            del self.staged[key]


def infer_component(filename: str) -> str | None:
    """Which component an image file is for, from its name (None when it cannot tell)."""
    low = filename.lower()
    for key, words in _KEYWORDS:
        if any(word in low for word in words):
            return key
    return None


_VERSION = re.compile(r"(\d+(?:[._]\d+)+(?:-\d+)?)")


def parse_version(filename: str) -> str | None:
    """The version in an image name: ``BIOS_1.13.2.bin`` -> ``1.13.2``."""
    stem = filename.rsplit(".", 1)[0] if filename.count(".") >= 1 and not filename[-1].isdigit() else filename
    found = _VERSION.findall(stem)
    return found[-1].replace("_", ".") if found else None


def bump(version: str) -> str:
    """The next version after ``version`` (last number + 1), for images whose names carry none."""
    parts = re.split(r"(\d+)", version)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].isdigit():
            parts[i] = str(int(parts[i]) + 1).zfill(len(parts[i]))
            return "".join(parts)
    return version + ".1"
