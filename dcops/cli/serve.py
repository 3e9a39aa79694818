"""``dcops serve``: its options (the process itself is composed in ``dcops.service``; docs/deploy/
has the systemd unit, scrape config, rules and dashboard)."""

from __future__ import annotations

import click

from dcops.cli.common import global_options, open_state, settings
from dcops.cli.selection import honours_limit
from dcops.errors import ExitCode, UsageError

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
    from dcops.cli.patrol import patrol_hosts
    from dcops.service.serve import ServeOptions, run

    address, port = _listen(listen)
    if (no_patrol and worker_name) or (sites and not worker_name):
        raise UsageError("--worker patrols (not with --no-patrol); --sites goes with --worker")
    store = open_state()
    hosts = [] if no_patrol and not settings().inventory else patrol_hosts(())
    options = ServeOptions(address, port, listen, patrol=not no_patrol, interval=interval, rounds=rounds,
                           worker=worker_name, sites=sites)
    run(options, hosts, store, settings(), say=lambda line: click.echo(line, err=True))
    raise SystemExit(int(ExitCode.OK))

