"""Server time of the web UI's room view over a 10,000-host room (250 racks of 40 servers), the
store holding a patrol row per host and 200 open incidents; also the sites page and one rack.
Target: the room view under 1 s. Prints figures, asserts nothing about time.

    .venv/bin/python -m tests.bench.bench_web
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import make_mocked_request

from dcops.models import BmcEndpoint, Host, Location
from dcops.patrol import store as pstore
from dcops.store import open_store
from dcops.web import app as webapp
from dcops.web.auth import CSRF, USER, Role, User
from tests.integration.patrol.helpers import psu_incident

HOSTS, PER_RACK = 10_000, 40


def build(tmp: Path) -> tuple[list[Host], object]:
    hosts = [Host(f"n{i:05d}", BmcEndpoint(address=f"192.0.2.{i % 250 + 1}"),
                  Location("dc1", "hall1", f"R{i // PER_RACK + 1:03d}", i % PER_RACK + 1, 1), role=f"role{i % 7}",
                  az=f"az{i % 3}") for i in range(HOSTS)]
    store = open_store(f"sqlite:///{tmp / 'state.db'}")
    now = dt.datetime.now(dt.UTC)
    rows = [{"host": h.name, "observed_at": now, "last_success_at": now, "reachable": i % 97 != 0,
             "power": "off" if i % 89 == 0 else "on", "health": "warning" if i % 53 == 0 else "ok"}
            for i, h in enumerate(hosts)]
    with store.begin() as conn:
        conn.execute(pstore.hosts.insert(), rows)
    for n in range(200):
        incident = psu_incident(now, host=hosts[n * 50].name)
        incident.id = n + 1
        incident.key = f"bench:{n}"
        pstore.save_incident(store, incident)
    return hosts, store


def timed(pages: webapp.Pages, handler: str, path: str, **match: str) -> list[float]:
    out = []
    for _ in range(5):
        request = make_mocked_request("GET", path, match_info=match)
        request[USER], request[CSRF] = User("bench", Role.VIEWER), "x"
        started = time.perf_counter()
        response = asyncio.run(getattr(pages, handler)(request))
        out.append(time.perf_counter() - started)
        assert response.status == 200
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hosts, store = build(Path(tmp))
        pages = webapp.Pages(store, lambda: hosts, lambda: None, webapp.WebConfig(b"k" * 32))
        for label, handler, path, match in (
                ("room view, 10,000 hosts", "room", "/ui/room/dc1/hall1", {"site": "dc1", "room": "hall1"}),
                ("sites page", "index", "/ui/", {}),
                ("one rack", "rack", "/ui/rack/dc1/hall1/R001", {"site": "dc1", "room": "hall1", "rack": "R001"}),
                ("by role", "groups", "/ui/groups?by=role", {})):
            times = timed(pages, handler, path, **match)
            print(f"{label:28s} median {statistics.median(times) * 1000:7.1f} ms  "
                  f"max {max(times) * 1000:7.1f} ms  (5 runs, server time)")


if __name__ == "__main__":
    main()
