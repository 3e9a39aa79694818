"""A UDP relay on loopback between an IPMI client and a BMC, able to hold back the client's
serial-over-LAN packets (its ACKs) while letting everything else through, and counting the SOL
packets the BMC sends. It makes a BMC retransmit on demand instead of waiting for a loaded machine
to delay an ACK by chance.

    with UdpRelay(bmc_port) as relay:        # the client talks to relay.address, port bmc_port
        relay.hold_sol = True                 # the client's SOL packets (ACKs) are held back...
        relay.release()                       # ...and sent on now, late but in order
        relay.bmc_sol_sizes                   # sizes of the SOL datagrams the BMC sent, in order

RMCP+ framing (IPMI v2.0 table 13-8): 4 bytes RMCP header, then auth type 0x06 and the payload
type byte (bit 7 encrypted, bit 6 authenticated, bits 0-5 the type: 1 is SOL). Payloads are
encrypted, so the relay tells SOL from IPMI by that byte only, and packets apart by their size.

The relay listens on another loopback address (127.0.0.2) with the BMC's own port number: the
Activate Payload answer names the port for SOL, and pyghmi refuses a port other than the one it
talks to ("Non-standard SOL Port Number").
"""

from __future__ import annotations

import select
import socket
import threading
from types import TracebackType

SOL_PAYLOAD = 0x01


def is_sol(datagram: bytes) -> bool:
    """Whether ``datagram`` is an RMCP+ packet carrying a SOL payload."""
    return len(datagram) > 5 and datagram[4] == 0x06 and datagram[5] & 0x3F == SOL_PAYLOAD


class UdpRelay:
    def __init__(self, bmc_port: int, bmc_host: str = "127.0.0.1", address: str = "127.0.0.2") -> None:
        self._bmc = (bmc_host, bmc_port)
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._front.bind((address, bmc_port))
        self.address = address
        self.port = bmc_port
        self._back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._back.bind(("127.0.0.1", 0))
        self._client: tuple[str, int] | None = None
        self.hold_sol = False
        self.held: list[bytes] = []
        self.delayed = 0
        self._lock = threading.Lock()
        self.bmc_sol_sizes: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udp-relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._front, self._back], [], [], 0.1)
            for sock in ready:
                try:
                    data, source = sock.recvfrom(65535)
                except OSError:
                    return
                if sock is self._front:
                    self._client = source
                    with self._lock:
                        if self.hold_sol and is_sol(data):
                            self.held.append(data)
                            self.delayed += 1
                            continue
                        self._back.sendto(data, self._bmc)
                elif self._client is not None:
                    if is_sol(data):
                        self.bmc_sol_sizes.append(len(data))
                    self._front.sendto(data, self._client)

    def release(self) -> None:
        """Stop holding: send what was held, in the order it came, then forward as usual."""
        with self._lock:
            self.hold_sol = False
            held, self.held = self.held, []
            for data in held:
                self._back.sendto(data, self._bmc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._front.close()
        self._back.close()

    def __enter__(self) -> UdpRelay:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
