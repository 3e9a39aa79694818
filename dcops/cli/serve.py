"""``dcops serve``: the patrol loop, ``/metrics`` for Prometheus and the notifier, in one process
(docs/deploy/ has the systemd unit, scrape config, rules and dashboard)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import time
from typing import Any

import click

from dcops.cli.common import global_options, open_state, settings
from dcops.cli.selection import honours_limit
from dcops.errors import ExitCode, UsageError

log = logging.getLogger("dcops.serve")
DEFAULT_LISTEN = "127.0.0.1:9717"


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or len(port) > 5 or int(port) > 65535:
        raise UsageError(f"--listen takes HOST:PORT with a port 0-65535, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


@click.command()
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True, metavar="HOST:PORT",
              help="Where /metrics and /healthz answer.")
@click.option("--no-patrol", is_flag=True, help="Only serve metrics of what another process stores.")
@click.option("--interval", metavar="DURATION", help="Patrol interval (default: config, else 60s).")
@click.option("--rounds", type=click.IntRange(1), help="Stop after this many rounds (tests, drills).")
@click.option("--worker", "worker_name", metavar="NAME",
              help="One patrol worker of several sharing a PostgreSQL store: patrol only the racks this "
                   "worker owns (docs/patrol.md, \"Several workers\").")
@click.option("--sites", metavar="SITE,...", help="With --worker: the sites whose BMCs this worker reaches.")
@global_options
@honours_limit
def serve(listen: str, no_patrol: bool, interval: str | None, rounds: int | None, worker_name: str | None,
          sites: str | None) -> None:
    """Patrol every minute, notify, and serve /metrics (a scrape reads stored results only)."""
    from dcops.cli.patrol import build_patrol, patrol_hosts
    from dcops.exporter import registry, server
    from dcops.patrol.enrich import host_location

    address, port = _listen(listen)
    if (no_patrol and worker_name) or (sites and not worker_name):
        raise UsageError("--worker patrols (not with --no-patrol); --sites goes with --worker")
    store = open_state()
    hosts = [] if no_patrol and not settings().inventory else patrol_hosts(())
    labels = {h.name: host_location(h) for h in hosts}
    loaded = registry.discover(store)
    # Collectors that need the book: patrol labels its series with the hosts' places, assets
    # publishes the warranties the book records.
    book = {"patrol": lambda: labels, "assets": lambda: hosts}
    for item in loaded:
        if item.name in book and item.collector is not None:
            item.collector.hosts = book[item.name]
    engine = None if no_patrol else build_patrol(hosts, store, {"interval": interval})
    if engine is not None and worker_name:
        # One worker of several on a shared PostgreSQL store: lease, shard by rack, epoch rounds,
        # shard-scoped /metrics plus dcops_worker_* (refuses SQLite). See dcops/workers/.
        from dcops.workers.serve import attach

        attach(store, engine, hosts, loaded, name=worker_name, sites=sites)
    exposition = server.Exposition(loaded)
    patrol_collector = next((x.collector for x in loaded if x.name == "patrol" and x.collector is not None), None)
    state: dict[str, Any] = {"last": None}

    def after_round(summary: Any) -> None:
        state["last"] = time.monotonic()
        if patrol_collector is not None:
            patrol_collector.refresh()  # render now, so scrapes never wait for it

    def healthy() -> tuple[bool, str]:
        if engine is None:
            return True, "ok (no patrol in this process)"
        if state["last"] is None:
            return True, "starting: no round finished yet"
        age = time.monotonic() - state["last"]
        limit = 3 * engine.config.interval + engine.config.round_deadline
        return (age <= limit, f"last round {age:.0f}s ago" + ("" if age <= limit else " (stale)"))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        try:
            runner, bound = await server.start(server.make_app(exposition, healthy=healthy), address, port)
        except (OSError, OverflowError, UnicodeError) as exc:
            # A port in use, an address not on this machine, a name that does not resolve: the
            # operator's --listen, not a bug.
            if engine is not None:
                await engine.close()
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                reason = "address already in use (another dcops serve?)"
            else:
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise UsageError(f"--listen {listen}: cannot listen there: {reason}") from None
        click.echo(f"dcops: serving http://{address}:{bound}/metrics"
                   + ("" if engine is None else f"; patrolling {len(hosts)} host(s) every "
                      f"{engine.config.interval:g}s"), err=True)
        try:
            if engine is None:
                await stop.wait()
            else:
                engine.listeners.append(lambda s: loop.run_in_executor(None, after_round, s))
                await engine.watch(stop, rounds=rounds)
        finally:
            if engine is not None:
                await engine.close()
            await runner.cleanup()

    asyncio.run(main())
    raise SystemExit(int(ExitCode.OK))
