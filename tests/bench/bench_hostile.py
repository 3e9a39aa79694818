"""Benchmark: the hostile-environment figures of issue 15, printed (nothing asserted).

    python tests/bench/bench_hostile.py [--fuzz 8000] [--incidents 32] [--deliverers 3]

1. Peak RSS of one process reading one hostile BMC (``tests/helpers/hostile.py``): an endless body
   and a gzip bomb, on the synchronous path (``RedfishConnector``) and the patrol path
   (``RedfishFleet``), each in a fresh child process (``ru_maxrss``). The drill measured 3.0-3.3 GB
   (endless) and 0.85-1.66 GB (gzip bomb) before the body cap.
2. Posts per notification with several deliverers running at once on the same outbox
   (webhook receivers on loopback, one slow): the drill saw 94 posts for 32 notifications.
3. Inventory fuzz: mutated copies of a valid inventory through the loader; how many end in
   anything but a clean ``InvalidInputError`` (what the CLI turns into exit 70). The drill saw
   61 of 8,553.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SYNC = """
import resource, sys
from dcops.bmc.redfish.connector import RedfishConnector, Timeouts
from dcops.models import BmcEndpoint, Protocol
from dcops.secrets import Secret
ep = BmcEndpoint(address="127.0.0.1", port=int(sys.argv[1]), scheme="http", protocol=Protocol.REDFISH, username="a")
conn = RedfishConnector("h", ep, Secret("pw-1"), Timeouts(connect=2, read=30, deadline=120, retries=0))
try:
    conn.get("/redfish/v1/Systems/1")
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
conn.close()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
ASYNC = """
import asyncio, resource, sys
from dcops.bmc.redfish.fleet import RedfishFleet, Target
from dcops.secrets import Secret
async def go():
    fleet = RedfishFleet(read_timeout=30)
    try:
        v = await fleet.visit(Target("h", f"http://127.0.0.1:{sys.argv[1]}", "a", Secret("pw-1"), verify_tls=False),
                              health=True, deadline=120)
        print(v.error or (v.observation and v.observation.unreadable), file=sys.stderr)
    finally:
        await fleet.close()
asyncio.run(go())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def peak_rss() -> None:
    from tests.helpers.hostile import hostile_bmc

    for case in ("endless", "gzip_bomb"):
        for name, code in (("sync", SYNC), ("patrol", ASYNC)):
            with hostile_bmc(case) as bmc:
                done = subprocess.run([sys.executable, "-c", code, str(bmc.port)], capture_output=True, text=True,
                                      timeout=300, cwd=REPO, env=dict(os.environ))
            rss = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "?"
            reason = (done.stderr.strip().splitlines() or ["?"])[-1][:90]
            print(f"peak RSS  {case:10s} {name:7s} {rss:>6s} MB   ({reason})")


def duplicates(incidents: int, deliverers: int) -> None:
    from dcops.notify import outbox
    from dcops.notify.config import load_notify_config
    from dcops.patrol import store as pstore
    from dcops.store import open_store
    from tests.helpers.receivers import webhook
    from tests.integration.patrol.helpers import psu_incident

    with webhook() as slow, webhook() as fast, tempfile.TemporaryDirectory() as tmp:
        slow.delay = 0.05
        config = load_notify_config({"receivers": [{"name": "slow", "type": "webhook", "url": slow.url + "/s"},
                                                   {"name": "fast", "type": "webhook", "url": fast.url + "/f"}],
                                     "routes": [{"receivers": ["slow", "fast"]}]})
        store = open_store(f"sqlite:///{tmp}/s.db")
        now = dt.datetime.now(dt.UTC)
        for i in range(incidents):
            incident = psu_incident(now, host=f"db-{i:03d}")
            pstore.save_incident(store, incident, outbox.plan(config, now, opened=[incident]))
        barrier = threading.Barrier(deliverers)

        def run() -> None:
            barrier.wait()
            outbox.deliver_due(store, config, now)

        threads = [threading.Thread(target=run) for _ in range(deliverers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posts = Counter((p, b["incident"]["host"]) for h in (slow, fast) for p, b in h.received)
        store.close()
    notifications = 2 * incidents
    print(f"outbox    {deliverers} deliverers, {notifications} notifications: {sum(posts.values())} posts, "
          f"{sum(1 for n in posts.values() if n > 1)} sent more than once")


def fuzz(count: int) -> None:
    from dcops.errors import InvalidInputError
    from dcops.inventory import load_inventory_text
    from tests.unit.test_bad_input_exit_codes import VALID

    rng = random.Random(15)
    alphabet = [chr(i) for i in range(0x250)] + ["\u2028", "\ufeff", "\U0001F600"] + list(":-{}[]&*!|>'\"#%@`?")
    crashes: Counter[str] = Counter()
    for _ in range(count):
        text = VALID
        for _ in range(rng.randint(1, 4)):
            pos = rng.randint(0, len(text))
            text = text[:pos] + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4))) \
                + text[pos + rng.randint(0, 3):]
        if rng.random() < 0.02:
            text += "\nx: " + "9" * 5000
        if rng.random() < 0.01:
            text += "\ny: " + "[" * 5000
        try:
            load_inventory_text(text, "fuzz.yaml")
        except InvalidInputError:
            pass
        except Exception as exc:  # noqa: BLE001 - counting what would be exit 70
            crashes[type(exc).__name__] += 1
    print(f"fuzz      {count} mutated inventories: {sum(crashes.values())} would exit 70 {dict(crashes)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fuzz", type=int, default=8000)
    parser.add_argument("--incidents", type=int, default=32)
    parser.add_argument("--deliverers", type=int, default=3)
    args = parser.parse_args()
    peak_rss()
    duplicates(args.incidents, args.deliverers)
    fuzz(args.fuzz)


if __name__ == "__main__":
    main()
