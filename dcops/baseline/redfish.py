"""The BMC target of baselines and provisioning: one host's ``Bmc`` (every Redfish concern over one
connector, one session) and the whole-server read a baseline is diffed against.

BIOS, RAID, firmware, tasks and boot waits are the BMC layer's drivers (``dcops.bmc.redfish``:
``bios``, ``raid``, ``firmware``, ``drivers.RedfishPower``); vendor quirks live in
``dcops.bmc.redfish.oem``. What baselines need from them beyond a plain call -- starting a write
and waiting for it separately, so that the journal records the task monitor in between -- is
their ``wait=False`` (``raid.create_volume/delete_volume/convert_drive``, ``firmware.update``)
followed by ``tasks.wait``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dcops.baseline.state import ControllerState, FirmwareEntry, HostState
from dcops.bmc import base
from dcops.bmc.redfish.docs import FetchError
from dcops.bmc.redfish.tasks import Clock, Pacing
from dcops.bmc.state import BiosState, TaskOutcome
from dcops.errors import UnreachableError
from dcops.models import Host, Protocol

__all__ = ["Clock", "OpenTarget", "Pacing", "Target", "TaskOutcome", "open_target", "opened", "read_state",
           "target_of"]

KINDS = frozenset({"firmware", "bios", "raid"})


def read_state(host: str, bmc: base.Bmc, kinds: set[str] | None = None) -> HostState:
    """Identity plus the BIOS, storage and firmware sections named by ``kinds`` (all by default);
    a section that cannot be read is named in ``errors``. Raises UnreachableError when the BMC
    does not answer at all."""
    kinds = kinds or set(KINDS)
    ident = bmc.inventory.identity()
    errors: list[str] = []
    bios: BiosState | None = None
    controllers: tuple[ControllerState, ...] = ()
    firmware: tuple[FirmwareEntry, ...] = ()
    if "bios" in kinds:
        try:
            bios = bmc.bios.read()
        except FetchError as exc:
            errors.append(str(exc))
    if "raid" in kinds:
        try:
            controllers = tuple(bmc.raid.controllers())
        except FetchError as exc:
            errors.append(str(exc))
    if "firmware" in kinds:
        try:
            firmware = tuple(bmc.firmware.entries())
        except FetchError as exc:
            errors.append(str(exc))
    vendor = ident.vendor if ident.vendor and ident.vendor != "generic" else None
    return HostState(host, vendor, ident.manufacturer, ident.model, bios, controllers, firmware, tuple(errors))


@dataclass
class Target:
    """One host's BMC for baselines and provisioning: every concern over one connection (one
    session), and the ``pacing`` and ``clock`` its drivers were built with (for the waits
    baselines and provisioning do themselves)."""

    host: Host
    bmc: base.Bmc
    pacing: Pacing = field(default_factory=Pacing)
    clock: Clock = field(default_factory=Clock)

    @property
    def tasks(self) -> base.TaskInterface:
        tasks = self.bmc.tasks
        if tasks is None:  # pragma: no cover - Bmc.__post_init__ always sets one
            raise UnreachableError(f"{self.host.name}: no task service")
        return tasks

    def close(self) -> None:
        self.bmc.close()


OpenTarget = Callable[[Host], Target]


def target_of(host: Host, bmc: base.Bmc, pacing: Pacing | None = None, clock: Clock | None = None) -> Target:
    """A ``Target`` over an open ``bmc`` (built with the same ``pacing`` and ``clock``)."""
    return Target(host, bmc, pacing or Pacing(), clock or Clock())


def open_target(host: Host, pacing: Pacing | None = None) -> Target:
    """Open the Redfish target of ``host``. Raises CredentialError when the password reference
    cannot be resolved, UnsupportedError for IPMI-only hosts (BIOS, RAID, firmware and virtual
    media need Redfish)."""
    from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
    from dcops.bmc.redfish.drivers import redfish_bmc
    from dcops.secrets import resolve

    endpoint = host.bmc
    if Protocol(endpoint.protocol) is Protocol.IPMI:
        raise base.UnsupportedError(f"{host.name}: baselines and provisioning need Redfish (protocol: ipmi)")
    password = resolve(endpoint.password_ref or "plain:", what=f"{host.name}: BMC password")
    conn = RedfishConnector(host.name, endpoint, password, Timeouts(connect=5, read=60, deadline=180))
    pacing, clock = pacing or Pacing(), Clock()
    return target_of(host, redfish_bmc(host.name, conn, pacing=pacing, clock=clock), pacing, clock)


@contextmanager
def opened(opener: OpenTarget, host: Host) -> Iterator[Target]:
    target = opener(host)
    try:
        yield target
    finally:
        target.close()
