"""``dcops serve``'s process: the patrol loop (rounds, notifications), the exporter's ``/metrics``
and ``/healthz``, started together and stopped together on SIGTERM/SIGINT.

``run`` is given everything already parsed (where to listen, the hosts, the opened store, the
settings) and a ``say`` for the one line an operator reads at start-up; it raises UsageError when
it cannot listen where it was told.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dcops.config import Settings
from dcops.errors import UsageError
from dcops.models import Host

log = logging.getLogger("dcops.serve")


@dataclass(frozen=True)
class ServeOptions:
    address: str
    port: int
    listen: str  # as the operator wrote it, for error messages
    patrol: bool = True
    interval: str | None = None
    rounds: int | None = None
    worker: str | None = None  # one patrol worker of several on a shared PostgreSQL store
    sites: str | None = None  # with worker: the sites whose BMCs it reaches


def health(last_round: float | None, now: float, *, interval: float | None, round_deadline: float) -> tuple[bool, str]:
    """``/healthz``: fine until three intervals and a round's deadline pass without a finished
    round; ``interval`` None: no patrol in this process. Pure (``now`` and ``last_round`` are
    ``time.monotonic()`` readings)."""
    if interval is None:
        return True, "ok (no patrol in this process)"
    if last_round is None:
        return True, "starting: no round finished yet"
    age = now - last_round
    limit = 3 * interval + round_deadline
    return (age <= limit, f"last round {age:.0f}s ago" + ("" if age <= limit else " (stale)"))


def run(options: ServeOptions, hosts: Sequence[Host], store: Any, settings: Settings,
        say: Callable[[str], None]) -> None:
    """Serve until stopped (or ``options.rounds`` rounds are done)."""
    from dcops.assets import digest as warranty_digest
    from dcops.console import web as console_web
    from dcops.console.gateway import ConsoleGateway, retention_from
    from dcops.console.graphical import GraphicalLauncher
    from dcops.console.serial import serial_opener
    from dcops.console.serial import settings_from as serial_settings
    from dcops.exporter import registry, server
    from dcops.notify.config import load_notify_config
    from dcops.patrol.build import build_patrol
    from dcops.patrol.enrich import host_location
    from dcops.store import open_store
    from dcops.web import app as web_ui

    # The consoles (docs/console.md) behind the UI's login: the gateway holds the BMC credentials,
    # the browser only its dcops session.
    console_section = settings.section("console")
    by_name = {h.name: h for h in hosts}
    gateway = ConsoleGateway(store, retention_days=retention_from(console_section),
                             opener=serial_opener(store, serial_settings(console_section, settings.config or "config")))

    def add_console(app: Any) -> None:
        console_web.setup(app, console_web.ConsoleWeb(gateway, hosts=by_name.get, launcher=GraphicalLauncher(store)))

    # Read now: the web UI's actions run in worker threads, where the settings' click context is not.
    notify = load_notify_config(settings.section("notify"), settings.config or "config")
    web_section, config_name = settings.section("web"), settings.config or "config"

    labels = {h.name: host_location(h) for h in hosts}
    loaded = registry.discover(store)
    # Collectors that need the book: patrol labels its series with the hosts' places, assets
    # publishes the warranties the book records.
    book = {"patrol": lambda: labels, "assets": lambda: hosts}
    for item in loaded:
        if item.name in book and item.collector is not None:
            item.collector.hosts = book[item.name]
    engine = build_patrol(hosts, store, settings, {"interval": options.interval}) if options.patrol else None
    if engine is not None and options.worker:
        # One worker of several on a shared PostgreSQL store: lease, shard by rack, epoch rounds,
        # shard-scoped /metrics plus dcops_worker_* (refuses SQLite). See dcops/workers/.
        from dcops.workers.serve import attach

        attach(store, engine, hosts, loaded, name=options.worker, sites=options.sites)
    exposition = server.Exposition(loaded)
    if engine is not None:
        # Heartbeats (docs/heartbeat.md): every patrol round also TCP-probes each host's address on
        # every network the book names (config `heartbeat:`), so patrol can tell a dead management
        # switch from a power loss and a cut business network from a healthy host.
        from dcops.heartbeat.monitor import attach as attach_heartbeats

        attach_heartbeats(engine, hosts, settings.section("heartbeat"))
    patrol_collector = next((x.collector for x in loaded if x.name == "patrol" and x.collector is not None), None)
    state: dict[str, Any] = {"last": None}

    def after_round(summary: Any) -> None:
        state["last"] = time.monotonic()
        if patrol_collector is not None:
            patrol_collector.refresh()  # render now, so scrapes never wait for it

    def healthy() -> tuple[bool, str]:
        if engine is None:
            return health(None, time.monotonic(), interval=None, round_deadline=0)
        return health(state["last"], time.monotonic(), interval=engine.config.interval,
                      round_deadline=engine.config.round_deadline)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        app = server.make_app(exposition, healthy=healthy)
        # The web UI (dcops/web/, docs/web.md) under /ui/: it reads this store and book and never
        # talks to a BMC; /metrics and /healthz stay outside its login.
        web_ui.mount(app, store, lambda: hosts, section=web_section, notify_config=lambda: notify,
                     source=config_name, extend=[add_console])
        try:
            runner, bound = await server.start(app, options.address, options.port)
        except (OSError, OverflowError, UnicodeError) as exc:
            # A port in use, an address not on this machine, a name that does not resolve: the
            # operator's --listen, not a bug.
            if engine is not None:
                await engine.close()
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                reason = "address already in use (another dcops serve?)"
            else:
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise UsageError(f"--listen {options.listen}: cannot listen there: {reason}") from None
        # The daily warranty digest (`assets warranty --remind` at assets.warranty_digest_at), on a
        # store of its own: it runs in a worker thread beside the patrol's.
        warranty_digest.start_in_serve(stop, hosts, lambda: open_store(settings.state or ""),
                                       settings.section("assets"), settings.section("notify"))
        say(f"dcops: serving http://{options.address}:{bound}/metrics and the web UI at /ui/"
            + ("" if engine is None else f"; patrolling {len(hosts)} host(s) every {engine.config.interval:g}s"))
        try:
            if engine is None:
                await stop.wait()
            else:
                engine.listeners.append(lambda s: loop.run_in_executor(None, after_round, s))
                await engine.watch(stop, rounds=options.rounds)
        finally:
            if engine is not None:
                await engine.close()
            await runner.cleanup()

    # The standing media server (when the config sets provision.media_listen), so BMCs and
    # installers reach the same URLs whichever `provision run --media-listen external` process
    # publishes there, and completion calls are recorded while none runs.
    media = standing_media_server(settings, say)
    try:
        asyncio.run(main())
    finally:
        if media is not None:
            media.close()


def standing_media_server(settings: Settings, say: Callable[[str], None]) -> Any:
    """The installer media server ``dcops serve`` keeps up (None when the config sets no
    ``provision.media_listen`` or sets it ``external``)."""
    from dcops.config import default_state_url
    from dcops.errors import InvalidInputError
    from dcops.installer.server import media_dir_for, open_media_server

    section = settings.section("provision")
    if not section.get("media_listen") or section.get("media_listen") == "external":
        return None
    try:
        media = open_media_server(section.get, media_dir_for(settings.state, default_state_url()))
    except InvalidInputError as exc:
        raise UsageError(str(exc)) from exc
    say(f"dcops: serving installer media at {media.url}")
    return media
