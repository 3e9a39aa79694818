"""Protocol choice per host and per operation.

``redfish`` and ``ipmi`` mean what they say. ``auto`` means Redfish, falling back to IPMI for
power, boot and sensors/health/logs when the BMC has no Redfish service (404 on the service root)
or Redfish does not answer within the probe deadline. Virtual media, BIOS, RAID and firmware
stay on Redfish (IPMI cannot do them); the serial console is always IPMI SOL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dcops.bmc import base
from dcops.bmc.redfish.resources import FetchError
from dcops.errors import UnreachableError
from dcops.models import Host, Protocol
from dcops.secrets import resolve

log = logging.getLogger(__name__)


def open_bmc(host: Host, *, timeouts: Any = None) -> base.Bmc:
    """The BMC of ``host`` with the concerns its protocol setting allows (close it when done).

    Raises CredentialError when the password reference cannot be resolved.
    """
    from dcops.bmc.ipmi import ipmi_bmc
    from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
    from dcops.bmc.redfish.drivers import redfish_bmc

    endpoint = host.bmc
    password = resolve(endpoint.password_ref, what=f"{host.name}: BMC password") if endpoint.password_ref \
        else resolve("plain:", what=f"{host.name}: BMC password")
    protocol = Protocol(endpoint.protocol)
    if protocol is Protocol.IPMI:
        return ipmi_bmc(host.name, endpoint, password)
    conn = RedfishConnector(host.name, endpoint, password, timeouts or Timeouts())
    redfish = redfish_bmc(host.name, conn)
    if protocol is Protocol.REDFISH:
        return redfish
    ipmi = ipmi_bmc(host.name, endpoint, password)
    probe = _Probe(redfish)
    return base.Bmc(
        host=host.name, protocol="auto",
        power=_fallback(base.PowerInterface, probe, redfish.power, ipmi.power),  # type: ignore[arg-type]
        boot=_fallback(base.BootInterface, probe, redfish.boot, ipmi.boot),  # type: ignore[arg-type]
        vmedia=redfish.vmedia, inventory=redfish.inventory,
        health=_fallback(base.HealthInterface, probe, redfish.health, ipmi.health),  # type: ignore[arg-type]
        logs=_fallback(base.LogsInterface, probe, redfish.logs, ipmi.logs),  # type: ignore[arg-type]
        bios=redfish.bios, raid=redfish.raid, firmware=redfish.firmware, console=ipmi.console,
        closers=[*ipmi.closers, *redfish.closers],
    )


class _Probe:
    """Whether this BMC speaks Redfish: decided once, on first use."""

    def __init__(self, redfish: base.Bmc) -> None:
        self.redfish = redfish
        self.answer: bool | None = None

    def redfish_ok(self) -> bool:
        if self.answer is None:
            try:
                shared = self.redfish.power.s  # type: ignore[attr-defined]
                shared.root()
                self.answer = True
            except (FetchError, UnreachableError) as exc:
                log.info("%s: no Redfish (%s); using IPMI for power, boot and health", self.redfish.host, exc)
                self.answer = False
        return self.answer


def _fallback(interface: type, probe: _Probe, primary: Any, secondary: Any) -> Any:
    """An object implementing ``interface`` that calls ``primary`` when Redfish answers, else
    ``secondary`` (also when a Redfish call finds the BMC unreachable mid-way)."""

    def make(name: str) -> Callable[..., Any]:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            if probe.redfish_ok():
                try:
                    return getattr(primary, name)(*args, **kwargs)
                except UnreachableError:
                    probe.answer = False
            return getattr(secondary, name)(*args, **kwargs)

        return method

    names = sorted(getattr(interface, "__abstractmethods__", ()))
    cls = type(f"Auto{interface.__name__}", (interface,), {n: make(n) for n in names} | {"protocol": "auto"})
    return cls()
