"""Benchmark: the console gateway's costs.

    python tests/bench/bench_console.py [--mib 64] [--echoes 200]

1. Recording: feed ``--mib`` MiB of console output (a boot log: text with escape sequences and
   some non-UTF-8 bytes) to the asciicast recorder in 4 KiB reads, serialise and parse it back;
   prints MiB/s for each and checks the bytes come back identical. A serial console runs at
   115200 baud (~11 KiB/s), so this is the headroom per CPU core.
2. SOL round trip: with OpenIPMI ipmi_sim (SOL to an echoing serial port) on loopback, type
   ``--echoes`` single lines through the gateway and wait for each echo; prints the median and
   95th percentile keystroke-to-echo time (pyghmi SOL, the gateway's recording included).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import tests.bench  # noqa: E402,F401 - installs the loopback guard
from dcops.console import cast  # noqa: E402


def bench_recording(mib: int) -> None:
    line = b"\x1b[32m[  OK  ]\x1b[0m Started dcops benchmark unit \xff\xfe number %d.\r\n"
    chunk = b"".join(line % n for n in range(64))[:4096]
    reads = mib * 1024 * 1024 // len(chunk)
    rec = cast.Recorder(time.monotonic)
    start = time.process_time()
    for _ in range(reads):
        rec.output(chunk)
    recorded = rec.finish()
    t_record = time.process_time() - start
    start = time.process_time()
    text = cast.dumps(recorded)
    t_dump = time.process_time() - start
    start = time.process_time()
    back = cast.output_bytes(cast.loads(text))
    t_load = time.process_time() - start
    size = reads * len(chunk) / 2**20
    assert back == chunk * reads, "the recording did not give back the same bytes"
    print(f"recording: {size:.0f} MiB in {reads} reads: record {size / t_record:.0f} MiB/s, "
          f"serialise {size / t_dump:.0f} MiB/s, parse+replay {size / t_load:.0f} MiB/s (CPU time); "
          f"cast {len(text) / 2**20:.0f} MiB")


def bench_sol(echoes: int) -> None:
    from dcops.console.gateway import ConsoleGateway
    from dcops.console.stream import ConsoleStream
    from dcops.models import BmcEndpoint, Host, Protocol
    from dcops.store import open_store
    from tests.helpers.ipmi_sim import PASSWORD, USER, ipmi_sims
    from tests.helpers.serial_host import SerialHost

    with tempfile.TemporaryDirectory() as tmp, SerialHost() as serial, \
            ipmi_sims(Path(tmp) / "ipmi", 1, sol_ports=[serial.port]) as sims:
        store = open_store(f"sqlite:///{tmp}/state.db")
        host = Host(name="bench-sol", bmc=BmcEndpoint(address="127.0.0.1", port=sims[0].port,
                                                      protocol=Protocol.IPMI, username=USER,
                                                      password_ref="env:UNUSED"))

        async def opener(h: Host) -> ConsoleStream:  # the bench's own credentials, not a book's
            from dcops.bmc.ipmi.sol import PyghmiSol
            from dcops.secrets import Secret

            stream = PyghmiSol(h.name, "127.0.0.1", sims[0].port, USER, Secret(PASSWORD))
            await stream.open()
            return stream

        async def run() -> list[float]:
            session = await ConsoleGateway(store, opener=opener).open(host, user="bench", via="terminal",
                                                                      web=False)
            times = []
            for n in range(echoes):
                token = f"e{n:05d}\r".encode()
                seen = b""
                begin = time.perf_counter()
                await session.write(token)
                while token not in seen:
                    seen += await asyncio.wait_for(session.read(), 60)
                times.append(time.perf_counter() - begin)
            await session.close()
            return times

        times = asyncio.run(run())
        store.close()
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"SOL round trip ({echoes} lines through pyghmi and the gateway, ipmi_sim on loopback): "
          f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--echoes", type=int, default=200)
    args = parser.parse_args()
    bench_recording(args.mib)
    if args.echoes:
        bench_sol(args.echoes)


if __name__ == "__main__":
    main()
