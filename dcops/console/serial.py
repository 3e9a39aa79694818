"""Choosing and opening a host's serial console: IPMI SOL, or Redfish ``SerialConsole`` over the
BMC's SSH (config ``console: {serial: auto|sol|ssh}``).

* ``sol``: IPMI SOL always (``dcops.console.gateway.sol_opener``).
* ``ssh``: the BMC's SSH serial console always; a BMC that does not advertise one is refused
  with the reason (no silent fall back to SOL when the operator asked for SSH).
* ``auto`` (the default): ask the BMC over Redfish (Manager, its NetworkProtocol, the first
  ComputerSystem); SSH when it advertises an enabled SSH serial console with a known way in
  (``serial_plan.plan``), else IPMI SOL. A BMC the book says is IPMI only, or whose Redfish
  cannot be read, gets SOL.

SSH host keys: ``console: {ssh_known_hosts: FILE}`` checks them against an OpenSSH known_hosts
file; without it the key is recorded in the state store on first use and a different key later
is refused (``HostKeyChanged``), never replaced silently. ``console: {ssh_client_keys: [FILE]}``
adds key files for BMC accounts that have a public key enrolled; the password always comes from
the book's secret reference and is never logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from dcops.console import serial_plan
from dcops.console import store as sessions
from dcops.console.gateway import Opener, sol_opener
from dcops.console.stream import ConsoleStream
from dcops.errors import DcopsError, InvalidInputError
from dcops.models import Host, Protocol
from dcops.secrets import redact

log = logging.getLogger(__name__)


class NoSshConsole(DcopsError):
    """``console.serial: ssh`` for a BMC that advertises no SSH serial console."""


@dataclass(frozen=True)
class SerialSettings:
    mode: str = "auto"
    sol: str = "pyghmi"
    known_hosts: str | None = None
    client_keys: tuple[str, ...] = ()
    command: str | None = None  # overrides the vendor command (console.ssh_command)


def settings_from(section: dict[str, Any], where: str = "config") -> SerialSettings:
    """The ``console:`` section of the config file, checked (errors name the file and key)."""
    mode = str(section.get("serial", "auto"))
    if mode not in serial_plan.SERIAL_MODES:
        raise InvalidInputError(f"{where}: console.serial: {mode!r} is not one of "
                                f"{', '.join(serial_plan.SERIAL_MODES)}")
    keys = section.get("ssh_client_keys") or ()
    if isinstance(keys, str):
        keys = (keys,)
    if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
        raise InvalidInputError(f"{where}: console.ssh_client_keys: a list of key file paths")
    known = section.get("ssh_known_hosts")
    command = section.get("ssh_command")
    return SerialSettings(mode=mode, sol=str(section.get("sol", "pyghmi")),
                          known_hosts=str(known) if known else None, client_keys=tuple(keys),
                          command=str(command) if command else None)


def _link(value: Any) -> str | None:
    return value.get("@odata.id") if isinstance(value, dict) else None


def discover_sync(host: Host, command: str | None = None) -> serial_plan.SshSerialPlan | None:
    """Ask the BMC over Redfish whether (and how) it offers its serial console over SSH."""
    from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
    from dcops.console.graphical import first_manager
    from dcops.secrets import resolve

    endpoint = host.bmc
    password = resolve(endpoint.password_ref or "plain:", what=f"{host.name}: BMC password")
    with RedfishConnector(host.name, endpoint, password, Timeouts()) as conn:
        manager = first_manager(conn)
        network = None
        if path := _link(manager.get("NetworkProtocol")):
            network = conn.get(path)
        system = None
        members = conn.get("/redfish/v1/Systems").get("Members") or []
        if members and (path := _link(members[0])):
            system = conn.get(path)
    return serial_plan.plan(manager, system, network, command=command)


def ssh_opener(store: Any, settings: SerialSettings, ssh_plan: serial_plan.SshSerialPlan) -> Opener:
    async def open_ssh(host: Host) -> ConsoleStream:
        from dcops.bmc.ssh_serial import HostKeyChanged, SshSerial
        from dcops.secrets import resolve

        endpoint = host.bmc
        password = await asyncio.to_thread(resolve, endpoint.password_ref or "plain:",
                                           what=f"{host.name}: BMC password")
        pinned = None if settings.known_hosts else await asyncio.to_thread(sessions.pinned_key, store, host.name)
        stream = SshSerial(host.name, endpoint.address, ssh_plan.port, endpoint.username, password,
                           command=ssh_plan.command, known_hosts=settings.known_hosts, pinned=pinned,
                           client_keys=settings.client_keys)
        await stream.open()
        if stream.first_use and stream.host_key:
            fingerprint = _fingerprint(stream.host_key)
            recorded = await asyncio.to_thread(sessions.pin_key, store, host.name, address=endpoint.address,
                                               port=ssh_plan.port, key=stream.host_key, fingerprint=fingerprint,
                                               at=dt.datetime.now(dt.UTC))
            if recorded.split()[:2] != stream.host_key.split()[:2]:  # another first use won with another key
                await stream.close()
                raise HostKeyChanged(f"{host.name}: the BMC's SSH host key changed while it was first recorded: "
                                     f"refused")
            log.info("%s: recorded the BMC's SSH host key %s (first use)", host.name, fingerprint)
        return stream

    return open_ssh


def _fingerprint(key_line: str) -> str:
    import base64
    import hashlib

    blob = base64.b64decode(key_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def serial_opener(store: Any, settings: SerialSettings) -> Opener:
    """The gateway's opener for ``settings.mode``: per host, SOL or SSH serial."""
    open_sol = sol_opener(settings.sol)
    if settings.mode == "sol":
        return open_sol

    async def choose(host: Host) -> ConsoleStream:
        ssh_plan = None
        if Protocol(host.bmc.protocol) is not Protocol.IPMI:
            try:
                ssh_plan = await asyncio.to_thread(discover_sync, host, settings.command)
            except Exception as exc:  # noqa: BLE001 - auto falls back to SOL; ssh says why below
                log.info("%s: could not read the BMC's SerialConsole over Redfish: %s", host.name,
                         redact(str(exc)))
                if settings.mode == "ssh":
                    raise NoSshConsole(f"{host.name}: console.serial is ssh, and the BMC's Redfish could not "
                                       f"be read: {redact(str(exc))}") from None
        if ssh_plan is None:
            if settings.mode == "ssh":
                raise NoSshConsole(f"{host.name}: console.serial is ssh, but the BMC advertises no enabled SSH "
                                   f"serial console with a known command (set console.ssh_command)")
            return await open_sol(host)
        log.info("%s: serial console over SSH port %d (%s, %s)", host.name, ssh_plan.port, ssh_plan.vendor,
                 ssh_plan.source)
        return await ssh_opener(store, settings, ssh_plan)(host)

    return choose
