"""``dcops sim up|down|status|fault|clear|requests|profiles|faults``: the simulated BMC fleet."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from dcops.cli.common import emit, global_options, structured_output
from dcops.errors import ExitCode, UsageError
from dcops.report import Column, Report

TABLE_LIMIT = 20


def _state_dir(given: str | None) -> Path:
    from dcops.sim.runner import default_state_dir

    return Path(given).expanduser() if given else default_state_dir()


dir_option = click.option("--dir", "state_dir", metavar="DIR",
                          help="State directory of the fleet. Default: $XDG_RUNTIME_DIR/dcops-sim or "
                               "~/.local/state/dcops/sim.")


@click.group()
@global_options
def sim() -> None:
    """Simulated Redfish BMCs: a fleet from one to 10,000 servers for tests, demos and fault drills.

    Every BMC listens on 127.0.0.1 (its own port, or its own 127.x.y.z address) and behaves like
    the vendor it imitates: sessions, power and boot state machines, BIOS settings pending until a
    reset, RAID, firmware update tasks, SEL, and faults injected with `dcops sim fault`.
    """


def _host_columns() -> list[Column]:
    return [Column("name", "HOST"), Column("address", "ADDRESS"), Column("port", "PORT"),
            Column("profile", "PROFILE"), Column("rack", "RACK"), Column("u", "U"), Column("az", "AZ")]


def _up_report(state: dict[str, Any], rows: list[dict[str, Any]]) -> Report:
    report = Report("sim.up", items=rows, columns=_host_columns(), title="Simulated BMCs")
    report.summary = {k: state.get(k) for k in ("hosts", "replays", "scheme", "control_port", "inventory",
                                                "state_dir", "startup_seconds", "pid")}
    return report


@sim.command()
@click.option("--hosts", "hosts", type=click.IntRange(0, 100_000), default=4, show_default=True,
              help="How many BMCs.")
@click.option("--profile", "profiles", multiple=True, metavar="P",
              help="Hardware profile(s) or flavour(s), assigned round robin (repeatable). "
                   "See `dcops sim profiles`. Default: dell, hpe, lenovo, supermicro.")
@click.option("--racks", type=click.IntRange(1, 100_000), help="How many racks (default: 16 hosts a rack).")
@click.option("--latency", default="0", show_default=True, metavar="RANGE",
              help="Added latency per request, e.g. 50-300ms or 1s.")
@click.option("--tls", is_flag=True, help="HTTPS with a self-signed CA (tls/ca.pem in the state dir).")
@click.option("--write-inventory", "inventory_path", metavar="PATH",
              help="Write the fleet's inventory here (default: inventory.yaml in the state dir).")
@click.option("--background", is_flag=True, help="Run detached; `dcops sim down` stops it.")
@dir_option
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of serials, MACs and UUIDs.")
@click.option("--username", default="admin", show_default=True, help="The fleet's BMC user.")
@click.option("--timings", "timing_preset", type=click.Choice(["fast", "demo", "real"]), default="demo",
              show_default=True, help="How long power, boot, update tasks and BMC reboots take.")
@click.option("--timing", "timing_overrides", multiple=True, metavar="NAME=SECONDS",
              help="Override one timing (power_on, power_off, boot, restart_gap, task, bmc_reboot, raid, "
                   "rebuild, ac_restore, install).")
@click.option("--address-mode", type=click.Choice(["port", "ip"]), default="port", show_default=True,
              help="port: 127.0.0.1 and a port per BMC; ip: a 127.x.y.z address per BMC on one port.")
@click.option("--base-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="First port in port mode (0: any free ports).")
@click.option("--port", "shared_port", type=click.IntRange(1, 65535),
              help="The port every BMC uses in ip mode (default 8080, or 8443 with --tls).")
@click.option("--mockup", "mockups", multiple=True, metavar="DIR",
              help="Also serve a captured mockup tree (directory or .tar.gz, tall or short form) as a BMC.")
@click.option("--trait", "traits", multiple=True, metavar="NAME",
              help="Serve a real-service trait on every simulated host (repeatable): gpu-baseboard, "
                   "duplicate-drive-views, placeholder-thresholds, energy-counters, leak-detector, "
                   "pcie-nic-health, error-body (docs/sim.md).")
@click.option("--page-size", type=click.IntRange(0, 100_000), default=0, show_default=True,
              help="Serve every collection in pages of N members with Members@odata.nextLink (0: no paging); "
                   "replayed mockups too.")
@click.option("--control-port", type=click.IntRange(0, 65535), default=0, help="Port of the control API.")
@click.option("--request-log", type=click.IntRange(0, 100_000), default=128, show_default=True,
              help="Requests remembered per BMC for the control API.")
@click.option("--inband", is_flag=True,
              help="Each host also listens on its own (in-band) address: an SSH banner while it runs, "
                   "a reset when it is off or its rack has no power (patrol's in-band probe).")
@click.option("--serial-ssh-port", type=click.IntRange(0, 65535), default=0,
              help="Every BMC advertises its serial console over SSH (Manager.SerialConsole \"SSH\", "
                   "NetworkProtocol SSH.Port) on this port, e.g. a local sshd's; 0: as the vendor captures.")
@click.option("--network", "networks", multiple=True, metavar="NAME",
              help="Each host also listens on one address per network NAME (repeatable: mgmt, biz-a, storage): "
                   "what the heartbeat probes; closed while the host is off or the network_down fault is set.")
@click.option("--pdus", type=click.Choice(["mgmt", "separate"]), default=None,
              help="One Redfish rack PDU per rack (PowerEquipment/RackPDUs), in the book as the rack's pdus: "
                   "mgmt = on the BMCs' management switch (dark with it), separate = on its own path.")
@global_options
def up(hosts: int, profiles: tuple[str, ...], racks: int | None, latency: str, tls: bool,
       inventory_path: str | None, background: bool, state_dir: str | None, seed: int, username: str,
       timing_preset: str, timing_overrides: tuple[str, ...], address_mode: str, base_port: int,
       shared_port: int | None, mockups: tuple[str, ...], traits: tuple[str, ...], page_size: int,
       control_port: int, request_log: int, inband: bool, networks: tuple[str, ...], pdus: str | None,
       serial_ssh_port: int) -> None:
    """Start a fleet of simulated BMCs and write its inventory."""
    from dcops.sim.faults import parse_latency, parse_seconds
    from dcops.sim.fleet import FleetSpec
    from dcops.sim.profiles import DEFAULT_PROFILES, get_profile
    from dcops.sim.runner import read_state, run_fleet, spawn_background
    from dcops.sim.state import Timings

    directory = _state_dir(state_dir)
    running = read_state(directory)
    if running is not None:
        raise UsageError(f"a simulator already runs from {directory} (pid {running['pid']}); "
                         "`dcops sim down` first or use --dir")
    for name in profiles:
        try:
            get_profile(name)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from None
    overrides = {}
    for item in timing_overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--timing takes NAME=SECONDS, got {item!r}")
        overrides[key] = parse_seconds(value)
    try:
        timings = Timings.preset(timing_preset).with_overrides(overrides)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from dcops.sim.traits import with_traits

    for name in profiles or DEFAULT_PROFILES[:1]:
        with_traits(get_profile(name), traits, page_size)  # unknown traits: a usage error now
    for mockup in mockups:
        if not Path(mockup).exists():
            raise UsageError(f"--mockup {mockup}: no such directory or archive")
    spec = FleetSpec(hosts=hosts, profiles=profiles or DEFAULT_PROFILES, racks=racks, seed=seed,
                     latency=parse_latency(latency), tls=tls, address_mode=address_mode, base_port=base_port,
                     port=shared_port, username=username, timings=timings, request_log=request_log,
                     mockups=tuple(str(Path(m).resolve()) for m in mockups), traits=tuple(traits),
                     page_size=page_size, inband=inband, networks=tuple(networks), pdus=pdus or "",
                     serial_ssh_port=serial_ssh_port)
    inventory = Path(inventory_path).resolve() if inventory_path else None

    if background:
        argv = ["--hosts", str(hosts), "--latency", latency, "--seed", str(seed), "--username", username,
                "--timings", timing_preset, "--address-mode", address_mode, "--base-port", str(base_port),
                "--control-port", str(control_port), "--request-log", str(request_log)]
        for name in profiles:
            argv += ["--profile", name]
        for item in timing_overrides:
            argv += ["--timing", item]
        for mockup in spec.mockups:
            argv += ["--mockup", mockup]
        for trait in traits:
            argv += ["--trait", trait]
        if page_size:
            argv += ["--page-size", str(page_size)]
        if racks:
            argv += ["--racks", str(racks)]
        if tls:
            argv.append("--tls")
        if inband:
            argv.append("--inband")
        if serial_ssh_port:
            argv += ["--serial-ssh-port", str(serial_ssh_port)]
        for network in networks:
            argv += ["--network", network]
        if pdus:
            argv += ["--pdus", pdus]
        if inventory is not None:
            argv += ["--write-inventory", str(inventory)]
        if shared_port:
            argv += ["--port", str(shared_port)]
        state = spawn_background(argv, directory, timeout=max(60.0, hosts / 100))
        rows = _read_rows(directory)
        emit(_up_report(state, rows))
        return

    def ready(fleet: Any, state: dict[str, Any]) -> None:
        report = _up_report(state, fleet.host_rows())
        if len(report.items) > TABLE_LIMIT and not structured_output():
            report.text = f"{len(report.items)} BMCs; the first {TABLE_LIMIT} (all in {directory}/hosts.json):"
            report.items = report.items[:TABLE_LIMIT]
        _print(report)
        click.echo("dcops: simulator running; Ctrl-C or `dcops sim down` stops it", err=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_fleet(spec, directory, inventory_path=inventory, control_port=control_port,
                              on_ready=ready))
    raise SystemExit(int(ExitCode.OK))


def _print(report: Report) -> None:
    """Render without exiting (the foreground fleet keeps running)."""
    from dcops.cli.common import render

    render(report)
    sys.stdout.flush()


def _read_rows(directory: Path) -> list[dict[str, Any]]:
    import json

    try:
        rows: list[dict[str, Any]] = json.loads((directory / "hosts.json").read_text(encoding="utf-8"))
        return rows
    except (OSError, ValueError):
        return []


@sim.command()
@dir_option
@global_options
def down(state_dir: str | None) -> None:
    """Stop the fleet running in the background."""
    from dcops.sim.runner import stop_background

    directory = _state_dir(state_dir)
    pid = stop_background(directory)
    report = Report("sim.down", summary={"state_dir": str(directory), "stopped_pid": pid})
    if pid is None:
        report.text = f"no simulator was running from {directory}"
    emit(report)


@sim.command()
@click.argument("host", required=False)
@dir_option
@global_options
def status(host: str | None, state_dir: str | None) -> None:
    """Show the running fleet (or one HOST's state)."""
    from dcops.sim.runner import ControlClient

    client = ControlClient.from_dir(_state_dir(state_dir))
    if host:
        data = client.get(f"/v1/hosts/{host}")
        report = Report("sim.host", items=[data], columns=[
            Column("name", "HOST"), Column("power", "POWER"), Column("health", "HEALTH"),
            Column("reachable", "REACHABLE"), Column("sessions", "SESSIONS"), Column("faults", "FAULTS")])
        emit(report)
    data = client.get("/v1/status")
    hosts = client.get("/v1/hosts")["items"]
    report = Report("sim.status", items=hosts, columns=_host_columns() + [
        Column("power", "POWER"), Column("health", "HEALTH"), Column("faults", "FAULTS")], summary=data)
    if len(hosts) > TABLE_LIMIT and not structured_output():
        active = [h for h in hosts if h.get("faults") or h.get("reachable") is False]
        report.items = (active or hosts)[:TABLE_LIMIT]
        report.text = f"{len(hosts)} BMCs; showing {len(report.items)} ({'faulted' if active else 'first'})"
    emit(report)


def _split_targets(words: tuple[str, ...]) -> tuple[list[str], str | None, list[str]]:
    from dcops.sim.faults import FAULT_KINDS

    hosts: list[str] = []
    kind: str | None = None
    args: list[str] = []
    for word in words:
        if "=" in word:
            args.append(word)
        elif kind is None and word in FAULT_KINDS:
            kind = word
        elif kind is None:
            hosts.append(word)
        else:
            raise UsageError(f"unexpected {word!r} after the fault kind (arguments are KEY=VALUE)")
    return hosts, kind, args


@sim.command()
@click.argument("words", nargs=-1, required=True, metavar="[HOST]... KIND [KEY=VALUE]...")
@click.option("--rack", metavar="RACK", help="Every host in this rack.")
@click.option("--before", metavar="PATH", help="Strike inside the next visit, just before the first request whose "
                                             "path contains PATH (e.g. LogServices): a fault between two reads.")
@dir_option
@global_options
def fault(words: tuple[str, ...], rack: str | None, before: str | None, state_dir: str | None) -> None:
    """Inject a fault into hosts or a rack (see `dcops sim faults` for the kinds).

    Examples: `dcops sim fault sim-0001 psu_fail psu=2`, `dcops sim fault --rack A01 rack_power_loss`,
    `dcops sim fault sim-0001 psu_fail psu=1 --before LogServices` (read healthy, then the SEL entry).
    """
    from dcops.sim.faults import parse_args
    from dcops.sim.runner import ControlClient

    hosts, kind, args = _split_targets(words)
    if kind is None:
        raise UsageError("name a fault kind (see `dcops sim faults`)")
    if not hosts and not rack:
        raise UsageError("name hosts or --rack")
    data = ControlClient.from_dir(_state_dir(state_dir)).post(
        "/v1/faults", {"hosts": hosts, "rack": rack, "kind": kind, "args": parse_args(args),
                       **({"before": before} if before else {})})
    emit(Report("sim.fault", items=data["items"], columns=[Column("host", "HOST"), Column("fault", "FAULT")],
                summary={"applied": len(data["items"])}))


@sim.command()
@click.argument("hosts", nargs=-1)
@click.option("--rack", metavar="RACK", help="Every host in this rack.")
@click.option("--kind", metavar="KIND", help="Only faults of this kind.")
@dir_option
@global_options
def clear(hosts: tuple[str, ...], rack: str | None, kind: str | None, state_dir: str | None) -> None:
    """Clear faults (of every host when none is named)."""
    from dcops.sim.runner import ControlClient

    data = ControlClient.from_dir(_state_dir(state_dir)).post(
        "/v1/clear", {"hosts": list(hosts), "rack": rack, "kind": kind})
    emit(Report("sim.clear", items=data["items"], columns=[Column("host", "HOST"), Column("fault", "FAULT")],
                summary={"cleared": len(data["items"])}))


@sim.command()
@click.argument("host")
@click.option("--since", type=int, default=0, help="Only requests after this sequence number.")
@dir_option
@global_options
def requests(host: str, since: int, state_dir: str | None) -> None:
    """Show a host's recent requests (the simulator keeps a ring buffer per BMC)."""
    from dcops.sim.runner import ControlClient

    data = ControlClient.from_dir(_state_dir(state_dir)).get(f"/v1/hosts/{host}/requests?since={since}")
    emit(Report("sim.requests", items=data["items"], columns=[
        Column("seq", "SEQ"), Column("method", "METHOD"), Column("path", "PATH"), Column("status", "STATUS"),
        Column("who", "WHO")], summary={"total": data["total"]}))


@sim.command()
@global_options
def profiles() -> None:
    """List the hardware profiles and their vendor flavours."""
    from dcops.sim.profiles import PROFILES

    items = [{"profile": p.name, "flavour": p.flavour.name, "vendor": p.vendor, "model": p.model,
              "u": p.u_height, "cpus": p.sockets, "dimms": p.sockets * p.dimms_per_socket,
              "drives": len(p.drives), "thermal": p.flavour.thermal_model, "vmedia": p.flavour.vmedia_at,
              "session_limit": p.flavour.session_limit} for p in PROFILES.values()]
    emit(Report("sim.profiles", items=items, columns=[Column(k, k.upper()) for k in items[0]]))


@sim.command("faults")
@global_options
def fault_kinds() -> None:
    """List the fault kinds `dcops sim fault` can inject."""
    from dcops.sim.faults import FAULT_KINDS

    items = [{"kind": k.name, "args": k.params, "effect": k.help} for k in FAULT_KINDS.values()]
    emit(Report("sim.faults", items=items, columns=[Column("kind", "KIND"), Column("args", "ARGS"),
                                                    Column("effect", "EFFECT")]))
