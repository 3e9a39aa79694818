"""A fleet of simulated BMCs in one asyncio process: layout (sites, rooms, racks, U positions, AZs),
lazily created per-host state, listening sockets, timers, and the inventory describing it all.

Per-host state is created on a host's first request, so an idle host costs a listening socket and
a few hundred bytes; everything shared (trees, templates, registries) is built once per profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import logging
import math
import os
import random
import resource
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dcops.sim import identity
from dcops.sim.profiles import DEFAULT_PROFILES, HardwareProfile, get_profile
from dcops.sim.state import Bmc, Credentials, Timings

if TYPE_CHECKING:
    import ssl

    from dcops.sim.replay import ReplayBmc
    from dcops.sim.server import SharedServer

log = logging.getLogger(__name__)

RACK_HEIGHT = 42
HOSTS_PER_RACK = 16
RACKS_PER_ROW = 20
ROWS_PER_ROOM = 2


@dataclass
class FleetSpec:
    """What ``dcops sim up`` was asked for."""

    hosts: int = 4
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    racks: int | None = None
    seed: int = 1
    latency: tuple[float, float] = (0.0, 0.0)
    tls: bool = False
    address_mode: str = "port"  # "port": 127.0.0.1 and a port each; "ip": 127.x.y.z and one port
    bind: str = "127.0.0.1"
    base_port: int = 0  # 0: any free port per BMC
    port: int | None = None  # the shared port in "ip" mode (0: any free port per BMC)
    username: str = "admin"
    password: str = ""
    timings: Timings = field(default_factory=Timings)
    request_log: int = 128
    site: str = "sim-dc1"
    mockups: tuple[str, ...] = ()  # mockup directories served as extra BMCs (replay)
    traits: tuple[str, ...] = ()  # real-service traits every simulated host serves (dcops.sim.traits)
    page_size: int = 0  # > 0: every collection (replays included) is served in pages of this size
    serial_ssh_port: int = 0  # > 0: every BMC advertises its serial console over SSH on this port
    inband: bool = False  # each host also listens on its own (in-band) address: an SSH-like banner while it runs
    # Each host also listens on one address per network named here (mgmt, biz-a, storage...):
    # what the heartbeat probes. A listener is closed (connections refused) while the host is off
    # or its rack has no power, or its network is down (fault network_down).
    networks: tuple[str, ...] = ()
    # One rack PDU per rack (dcops.sim.pdu), served over Redfish on its own port, in the book as
    # the rack's ``pdus:``: "mgmt" (on the BMCs' management switch: dark with it), "separate"
    # (its own path), "" (none).
    pdus: str = ""

    def rack_count(self) -> int:
        return self.racks if self.racks else max(1, math.ceil(self.hosts / HOSTS_PER_RACK))


@dataclass
class HostSpec:
    index: int
    name: str
    profile: HardwareProfile
    site: str
    room: str
    rack: str
    u: int
    az: str
    role: str
    address: str
    port: int = 0
    inband_port: int = 0  # the host's in-band listener (FleetSpec.inband)
    network_ports: dict[str, int] = field(default_factory=dict)  # network -> its listener's port


def rack_name(r: int) -> str:
    """A01..A20, B01..: 20 racks a row, rows lettered A..Z, AA.."""
    row, num = divmod(r, RACKS_PER_ROW)
    letters = ""
    row += 1
    while row:
        row, rem = divmod(row - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return f"{letters}{num + 1:02d}"


def ip_address(i: int) -> str:
    """The loopback address of host ``i`` in "ip" mode (127.1.0.1 upwards, no .0 or .255)."""
    return f"127.{1 + i // 62500}.{(i // 250) % 250 + 1}.{i % 250 + 1}"


def layout(spec: FleetSpec) -> list[HostSpec]:
    """Place ``spec.hosts`` hosts into racks (bottom up, by U height), rooms and AZs. Pure."""
    from dcops.errors import UsageError

    if spec.hosts < 0:
        raise UsageError("--hosts must be >= 0")
    from dcops.sim.traits import with_traits

    profiles = [with_traits(get_profile(p), spec.traits, spec.page_size)
                for p in spec.profiles or DEFAULT_PROFILES[:1]]
    racks = spec.rack_count()
    per_rack = max(1, math.ceil(spec.hosts / racks)) if spec.hosts else 0
    azs = min(3, racks)
    width = max(4, len(str(spec.hosts)))
    hosts: list[HostSpec] = []
    next_u: dict[int, int] = {}
    for i in range(spec.hosts):
        profile = profiles[i % len(profiles)]
        r = min(i // per_rack, racks - 1)
        u = next_u.get(r, 1)
        if u + profile.u_height - 1 > RACK_HEIGHT:
            raise UsageError(f"rack {rack_name(r)} is full: {spec.hosts} hosts do not fit in {racks} racks "
                             f"of {RACK_HEIGHT}U; use more --racks")
        next_u[r] = u + profile.u_height
        role = "db" if i % 8 == 7 else "storage" if i % 8 == 6 else "compute"
        address = ip_address(i) if spec.address_mode == "ip" else spec.bind
        hosts.append(HostSpec(i, f"sim-{i + 1:0{width}d}", profile, spec.site,
                              f"room{r // (RACKS_PER_ROW * ROWS_PER_ROOM) + 1}", rack_name(r), u,
                              f"az{r % azs + 1}", role, address))
    return hosts


class Fleet:
    """N simulated BMCs, their state, and (once started) their sockets."""

    def __init__(self, spec: FleetSpec, *, clock: Any = time.time) -> None:
        self.spec = spec
        self.clock = clock
        if not spec.password:
            spec.password = os.environ.get("DCOPS_SIM_PASSWORD") or secrets.token_urlsafe(12)
        self.credentials = Credentials(spec.username, spec.password)
        self.hosts = layout(spec)
        self.by_name = {h.name: h for h in self.hosts}
        self._bmcs: dict[int, Bmc] = {}
        self.replays: list[ReplayBmc] = []
        self.by_addr: dict[tuple[str, int], int] = {}
        self.server: SharedServer | None = None
        self.started: float | None = None
        self.startup_seconds: float | None = None
        self.ssl_context: ssl.SSLContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inband: list[asyncio.Server] = []
        self._links: dict[tuple[int, str], asyncio.Server | None] = {}  # None: closed (link down)
        self._follower: asyncio.Task[None] | None = None
        self.pdus: dict[str, Any] = {}  # rack -> SimPdu (FleetSpec.pdus)

    # ------------------------------------------------------------------ state
    def bmc(self, index: int) -> Bmc:
        """The state of host ``index``, created on first use."""
        bmc = self._bmcs.get(index)
        if bmc is None:
            host = self.hosts[index]
            bmc = Bmc(index, host.name, host.profile, seed=self.spec.seed, credentials=self.credentials,
                      clock=self.clock, timings=self.spec.timings, rack=host.rack,
                      request_log=self.spec.request_log)
            bmc.u = host.u
            bmc.address = host.address
            bmc.port = host.port
            bmc.serial_ssh_port = self.spec.serial_ssh_port or None
            bmc.net.latency = self.spec.latency
            if self._loop is not None:
                bmc.scheduler = self._make_scheduler(bmc)
                bmc.post = self._poster()
                bmc.on_reachability = self._reachability
            self._bmcs[index] = bmc
        return bmc

    def created(self) -> Iterable[Bmc]:
        return self._bmcs.values()

    def find(self, name: str) -> Bmc:
        """The BMC of host ``name``; raises KeyError."""
        return self.bmc(self.by_name[name].index)

    def select(self, names: Sequence[str] = (), rack: str | None = None) -> list[Bmc]:
        from dcops.errors import UsageError

        out: list[Bmc] = []
        for name in names:
            if name not in self.by_name:
                raise UsageError(f"no simulated host {name!r}")
            out.append(self.find(name))
        if rack is not None:
            members = [h for h in self.hosts if h.rack == rack]
            if not members:
                raise UsageError(f"no rack {rack!r} in the fleet")
            out.extend(self.bmc(h.index) for h in members)
        return out

    def lookup(self, addr: tuple[str, int]) -> Bmc | ReplayBmc | None:
        index = self.by_addr.get(addr)
        if index is None:
            return None
        if index < 0:
            return self.replays[-index - 1]
        return self.bmc(index)

    # ------------------------------------------------------------------ network
    async def start(self) -> None:
        """Bind every BMC's socket (raising the open-files limit first) and start serving."""
        from dcops.sim.replay import ReplayBmc
        from dcops.sim.server import SharedServer

        t0 = time.perf_counter()
        self._loop = asyncio.get_running_loop()
        # A listener per BMC plus room for two client connections each (a patrol keeps one open per
        # BMC; a login or an update may add one), and some to spare.
        listeners = len(self.hosts) + len(self.spec.mockups)
        limit = raise_nofile(3 * listeners + 4096)
        if limit < 2 * listeners + 1024:
            log.warning("open-files limit %d (the hard limit could not be raised): with %d listening BMCs, "
                        "about %d client connections can be open at once; raise `ulimit -Hn` for more",
                        limit, listeners, limit - listeners - 64)
        _quiet_accept_errors()
        self.server = SharedServer(self.lookup, self.ssl_context)
        spec = self.spec
        picker = PortPicker(len(self.hosts) + len(spec.mockups))
        for host in self.hosts:
            if spec.address_mode == "ip":
                port = spec.port if spec.port is not None else (8443 if spec.tls else 8080)
                bound = await self.server.listen(host.address, port)
            elif spec.base_port:
                bound = await self.server.listen(host.address, spec.base_port + host.index)
            else:
                bound = await picker.listen(self.server, host.address)
            host.port = bound[1]
            self.by_addr[bound] = host.index
        for n, directory in enumerate(spec.mockups):
            replay = ReplayBmc(directory, self.credentials, name=f"replay-{n + 1}", page_size=spec.page_size)
            self.replays.append(replay)
            bound = await picker.listen(self.server, spec.bind)
            replay.port = bound[1]
            self.by_addr[bound] = -(n + 1)
        if spec.inband:
            for host in self.hosts:
                host.inband_port = await self._listen_inband(host)
        for host in self.hosts:
            for network in spec.networks:
                listener = await asyncio.start_server(_accept_and_close, host.address, 0)
                self._links[(host.index, network)] = listener
                host.network_ports[network] = int(listener.sockets[0].getsockname()[1])
        if spec.networks:
            self._follower = asyncio.get_running_loop().create_task(self._follow_links())
        if spec.pdus:
            await self._start_pdus()
        for bmc in self._bmcs.values():  # created before start (tests): attach timers now
            bmc.scheduler = self._make_scheduler(bmc)
            bmc.post = self._poster()
            bmc.on_reachability = self._reachability
            bmc.port = self.hosts[bmc.index].port
        self.started = time.time()
        self.startup_seconds = time.perf_counter() - t0

    async def _start_pdus(self) -> None:
        from dcops.errors import UsageError
        from dcops.sim.pdu import NETWORKS, SimPdu

        if self.spec.pdus not in NETWORKS:
            raise UsageError(f"--pdus must be one of {', '.join(NETWORKS)}, not {self.spec.pdus!r}")
        racks: dict[str, list[HostSpec]] = {}
        for host in self.hosts:
            racks.setdefault(host.rack, []).append(host)
        for rack, members in racks.items():
            indexes = [h.index for h in members]

            def created(indexes: list[int] = indexes) -> list[Bmc]:
                return [self._bmcs[i] for i in indexes if i in self._bmcs]

            pdu = SimPdu(rack, [h.name for h in members], created, self.credentials, self.spec.pdus)
            await pdu.start(self.spec.bind)
            self.pdus[rack] = pdu

    async def stop(self) -> None:
        for pdu in self.pdus.values():
            pdu.close()
        for listener in self._inband:
            listener.close()
        self._inband.clear()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        for link in self._links.values():
            if link is not None:
                link.close()
        self._links.clear()
        if self.server is not None:
            await self.server.close()
            self.server = None

    def _poster(self) -> Any:
        """Runs a callable on the simulator's loop from another thread (the installer's workers)."""
        loop = self._loop
        assert loop is not None

        def post(action: Any) -> None:
            loop.call_soon_threadsafe(action)

        return post

    async def _listen_inband(self, host: HostSpec) -> int:
        """The host's own address, as a patrol in-band probe sees it: while the host runs (power on,
        its rack powered) a connection gets an SSH banner, as sshd sends; otherwise it is reset
        without a byte, as a dead host's address gives nothing (whatever its BMC is doing)."""
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            bmc = self.bmc(host.index)
            bmc.tick()
            if bmc.power == "On" and "rack" not in bmc.net.down:
                writer.write(b"SSH-2.0-dcops_sim_inband\r\n")
                with contextlib.suppress(OSError):
                    await writer.drain()
                writer.close()
            else:
                writer.transport.abort()

        listener = await asyncio.start_server(serve, host.address, 0)
        self._inband.append(listener)
        return int(listener.sockets[0].getsockname()[1])

    def _make_scheduler(self, bmc: Bmc) -> Any:
        loop = self._loop
        assert loop is not None

        def schedule(due: float) -> None:
            loop.call_later(max(0.0, due - self.clock()) + 0.002, bmc.tick)

        return schedule

    def link_up(self, bmc: Bmc, network: str) -> bool:
        """Does the host answer on ``network``: it runs, its rack has power, its switch is up."""
        return (bmc.power in ("On", "PoweringOff") and "rack" not in bmc.net.down
                and network not in bmc.net.links_down)

    def sync_links(self, bmc: Bmc) -> None:
        """Open or close the host's network listeners to match its state (power, rack, switches).
        Called on reachability changes (rack power, network faults) and by drills after power
        actions; a listener is really closed, so a probe's connect is refused as on a dead link."""
        if self._loop is None:
            return
        host = self.hosts[bmc.index]
        for network in self.spec.networks:
            key = (bmc.index, network)
            if key not in self._links:
                continue
            want = self.link_up(bmc, network)
            have = self._links[key] is not None
            if want and not have:
                self._spawn(self._reopen(key, host.address, host.network_ports[network]))
            elif have and not want:
                listener = self._links[key]
                self._links[key] = None
                if listener is not None:
                    listener.close()

    async def _follow_links(self) -> None:
        """Power changes (a Redfish reset, an abnormal shutdown) happen inside the BMC's state:
        bring the listeners in line a few times a second. Only hosts touched since start can be
        off (the others were never created), so an idle fleet costs nothing."""
        while self._links:
            for bmc in list(self._bmcs.values()):
                self.sync_links(bmc)
            await asyncio.sleep(0.2)

    async def _reopen(self, key: tuple[int, str], address: str, port: int) -> None:
        if self._links.get(key, False) is not None:
            return  # reopened already, or the fleet stopped
        listener = await asyncio.start_server(_accept_and_close, address, port)
        if key in self._links and self._links[key] is None:
            self._links[key] = listener
        else:
            listener.close()

    def links(self, index: int) -> dict[str, bool]:
        """network -> whether host ``index``'s listener on it is open now."""
        return {n: self._links.get((index, n)) is not None for n in self.spec.networks}

    def _reachability(self, bmc: Bmc) -> None:
        self.sync_links(bmc)
        server = self.server
        if server is None or self._loop is None:
            return
        host = self.hosts[bmc.index]
        addr = (host.address, host.port)
        if not bmc.net.reachable and bmc.net.down_mode == "refuse":
            self._spawn(server.stop_listening(addr))
        elif bmc.net.reachable:
            server.wake(addr)
            self._spawn(server.resume_listening(addr))

    def _spawn(self, coro: Any) -> None:
        assert self._loop is not None
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ description
    def scheme(self) -> str:
        return "https" if self.spec.tls else "http"

    def host_rows(self) -> list[dict[str, Any]]:
        return [{"name": h.name, "address": h.address, "port": h.port, "profile": h.profile.name,
                 "rack": h.rack, "u": h.u, "az": h.az} for h in self.hosts] + [
            {"name": r.name, "address": self.spec.bind, "port": r.port, "profile": f"replay:{r.directory}"}
            for r in self.replays]

    def status(self) -> dict[str, Any]:
        created = list(self._bmcs.values())
        return {
            "pid": os.getpid(), "hosts": len(self.hosts), "replays": len(self.replays),
            "scheme": self.scheme(), "started": self.started, "startup_seconds": self.startup_seconds,
            "uptime_seconds": round(time.time() - self.started, 1) if self.started else None,
            "active_hosts": len(created), "requests": sum(b.request_count for b in created),
            "sessions": sum(len(b.sessions) for b in created),
            "faults": sorted({f"{b.name}:{k}" for b in created for k in b.faults}),
            "unreachable": sorted(b.name for b in created if not b.net.reachable),
            "rss_bytes": rss_bytes(),
        }

    def inventory_document(self, password_ref: str, ca_bundle: str | None = None) -> dict[str, Any]:
        """The fleet as a dcops inventory (docs/inventory.md format)."""
        spec = self.spec
        bmc_defaults: dict[str, Any] = {"protocol": "redfish", "scheme": self.scheme(),
                                        "username": spec.username, "password": password_ref}
        if spec.tls:
            if ca_bundle and spec.address_mode == "port":
                bmc_defaults["ca_bundle"] = ca_bundle
            else:
                bmc_defaults["verify_tls"] = False
        rooms: dict[str, dict[str, list[HostSpec]]] = {}
        for host in self.hosts:
            rooms.setdefault(host.room, {}).setdefault(host.rack, []).append(host)
        room_docs = []
        for room, racks in rooms.items():
            rack_docs = []
            for rack, members in racks.items():
                doc: dict[str, Any] = {"name": rack, "height": RACK_HEIGHT, "defaults": {"az": members[0].az}}
                pdu = self.pdus.get(rack)
                if pdu is not None and pdu.port:
                    from dcops.sim.pdu import outlet_id

                    doc["pdus"] = [{"name": pdu.name, "address": spec.bind, "port": pdu.port, "scheme": "http",
                                    "protocol": "redfish", "username": spec.username, "password": password_ref,
                                    "outlets": {h: outlet_id(i) for i, h in enumerate(pdu.hosts)}}]
                doc["hosts"] = [self._host_doc(h) for h in members]
                rack_docs.append(doc)
            room_docs.append({"name": room, "racks": rack_docs})
        return {"version": 1, "defaults": {"bmc": bmc_defaults},
                "sites": [{"name": spec.site, "description": "dcops simulated fleet", "rooms": room_docs}]}

    def _host_doc(self, host: HostSpec) -> dict[str, Any]:
        spec = self.spec
        bmc = {"address": host.address, "port": host.port}
        purchase = identity.purchase_date(spec.seed, host.index)
        try:
            warranty_end = purchase.replace(year=purchase.year + 5) - dt.timedelta(days=1)
        except ValueError:  # 29 February
            warranty_end = purchase + dt.timedelta(days=5 * 365)
        p = host.profile
        serial = identity.serial(spec.seed, host.index, "system", p.flavour.serial_length, p.flavour.serial_prefix)
        inband = {"inband": {"address": host.address, "port": host.inband_port}} if host.inband_port else {}
        if host.network_ports:
            inband["networks"] = {n: {"address": host.address, "port": p} for n, p in host.network_ports.items()}
        return {
            **inband,
            "name": host.name, "u": host.u, "u_height": p.u_height, "bmc": bmc, "vendor": p.vendor,
            # A traited profile ("dell-r750+leak-detector") is its base profile in the book: a
            # book's profile is a name; the traits are the simulator's business.
            "model": p.model, "profile": p.name.split("+", 1)[0], "role": host.role, "tags": ["sim", p.flavour.name],
            "asset": {
                "serial": serial, "asset_tag": f"AT{host.index + 1:06d}", "purchase_date": purchase,
                "warranty_end": warranty_end,
                "contract": f"CT-{purchase.year}-{p.flavour.name[:3].upper()}-{host.index // 50 + 1:03d}",
                "supplier": p.supplier, "service_provider": p.service_provider,
                "use": {"db": "trading-db", "storage": "tick-store"}.get(host.role, "compute"),
            },
        }

    def write_inventory(self, path: str | Path, password_ref: str, ca_bundle: str | None = None) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(self.inventory_document(password_ref, ca_bundle), sort_keys=False,
                              default_flow_style=None, width=120)
        target.write_text("# Written by `dcops sim up`: the simulated fleet. Regenerated on every start.\n" + text,
                          encoding="utf-8")
        return target


async def _accept_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A network listener of a running host: the heartbeat only needs the handshake."""
    writer.close()


class PortPicker:
    """Free ports for many listeners, fast.

    bind(port 0) makes the kernel search for a free port, which gets slow (milliseconds each) once
    thousands are taken; binding named ports one after another from a random start below the
    ephemeral range is O(1) each, skips ports in use, and stays out of the range clients draw from.
    """

    def __init__(self, count: int) -> None:
        low, high = 10240, _ephemeral_low() - 1
        room = high - low - count - count // 4
        self.port = low + (random.randrange(room) if room > 0 else 0)
        self.high = high

    async def listen(self, server: SharedServer, address: str) -> tuple[str, int]:
        while self.port <= self.high:
            port = self.port
            self.port += 1
            try:
                return await server.listen(address, port)
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
        return await server.listen(address, 0)  # the range is used up: let the kernel choose


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class _AcceptErrorFilter(logging.Filter):
    """When the open-files limit is reached, asyncio logs a traceback for every listening socket that
    fails to accept, every second: with 10,000 listeners that buries everything else. Let one
    through per 30 s, with a count of those held back."""

    def __init__(self) -> None:
        super().__init__()
        self.last = 0.0
        self.held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "out of system resource" not in str(record.msg):
            return True
        now = time.monotonic()
        if now - self.last < 30.0:
            self.held += 1
            return False
        record.msg = f"{record.msg} (open-files limit reached; {self.held} similar messages held back)"
        record.exc_info = None
        self.last, self.held = now, 0
        return True


def _quiet_accept_errors() -> None:
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, _AcceptErrorFilter) for f in logger.filters):
        logger.addFilter(_AcceptErrorFilter())


def raise_nofile(needed: int) -> int:
    """Raise RLIMIT_NOFILE to at least ``needed`` (as far as the hard limit, or beyond it as root)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return soft
    target = needed if hard == resource.RLIM_INFINITY or needed <= hard else hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(target, needed), max(hard, needed)))
        return max(target, needed)
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target


def rss_bytes() -> int:
    """Resident memory of this process."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
