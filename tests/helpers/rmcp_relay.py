"""A UDP relay on loopback between an IPMI client (pyghmi) and a BMC (ipmi_sim) that holds back
chosen IPMI commands for a while and lets the rest through at once: a BMC slow at some commands
only (FRU reads from a slow EEPROM behind an I2C mux) and quick at everything else, on the real
wire, with the real BMC answering.

    with SlowCommandRelay(bmc_port, b"password", slow={READ_FRU_DATA}, delay=3.0) as relay:
        ...                                   # the client talks to 127.0.0.1, port relay.port
        relay.delayed                         # requests held back so far
        relay.seen                            # (netfn, command) of each request the relay read
        relay.commands                        # IPMI commands the client sent, retransmits once
        relay.sessions                        # sessions the BMC accepted (logins)

RMCP+ encrypts the IPMI messages (AES-CBC-128, IPMI v2.0 section 13.29), so the relay reads them
as the BMC does: it knows the user's password, reads the two random numbers, the role and the
user name from RAKP messages 1 and 2 (sent in the clear) and derives the session integrity key
SIK = HMAC(Kg, Rm | Rc | role | name length | name), Kg being the password when the BMC has no
key of its own, and from it the cipher key K2 = HMAC(SIK, 0x02 * 20), first 16 bytes (13.31,
13.32). The HMAC is SHA-1 or SHA-256 depending on the cipher suite the session agreed (pyghmi
asks for 17, falls back to 3): the relay derives both and keeps the one that decrypts to an IPMI
message whose two checksums hold. Anything it cannot read (IPMI 1.5 packets before the session,
RMCP pings, session setup) passes at once.

Packets (IPMI v2.0 table 13-8): 4 bytes RMCP header, auth type 0x06 (RMCP+), payload type (bit 7
encrypted, bits 0-5 the type: 0 IPMI, 0x12 RAKP 1, 0x13 RAKP 2), session id (4, the receiver's),
sequence (4), payload length (2), payload (encrypted: 16 bytes IV, then the message, padded).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Collection
from types import TracebackType

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

READ_FRU_DATA = (0x0A, 0x11)  # netfn Storage, Read FRU Data
RAKP1, RAKP2, IPMI = 0x12, 0x13, 0x00


def ipmi_request(message: bytes) -> tuple[int, int] | None:
    """(netfn, command) of a decrypted IPMI request message, or None when it is not one (both
    checksums must hold: rsAddr netFn/LUN chk1 | rqAddr rqSeq/LUN cmd data... chk2)."""
    if len(message) < 7 or sum(message[:3]) & 0xFF or sum(message[3:]) & 0xFF:
        return None
    return message[1] >> 2, message[5]


def decrypt(key: bytes, payload: bytes) -> bytes | None:
    """An encrypted RMCP+ payload's message (its pad checked), or None when ``key`` does not fit."""
    if len(payload) < 32 or len(payload) % 16:
        return None
    decryptor = Cipher(algorithms.AES(key), modes.CBC(payload[:16])).decryptor()
    plain = decryptor.update(payload[16:]) + decryptor.finalize()
    pad = plain[-1]
    if pad > 15 or plain[-1 - pad:-1] != bytes(range(1, pad + 1)):
        return None
    return plain[:-1 - pad]


class SlowCommandRelay:
    def __init__(self, bmc_port: int, password: bytes, *, slow: Collection[tuple[int, int]], delay: float,
                 bmc_host: str = "127.0.0.1") -> None:
        self._bmc = (bmc_host, bmc_port)
        self._password = password
        self.slow = set(slow)
        self.delay = delay
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._front.bind(("127.0.0.1", 0))
        self.port = int(self._front.getsockname()[1])
        self._back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._back.bind(("127.0.0.1", 0))
        self._client: tuple[str, int] | None = None
        self._rakp1: dict[int, tuple[bytes, bytes, bytes]] = {}  # tag -> (BMC session id, Rm, role|len|name)
        self._keys: dict[bytes, list[bytes]] = {}  # BMC session id -> candidate AES keys (the right one first)
        self._later: list[tuple[float, int, bytes]] = []  # (due, order, datagram for the BMC)
        self._order = itertools.count()
        self.delayed = 0
        self.sessions = 0  # RMCP+ sessions the BMC accepted (RAKP 2 without error): logins
        self.seen: Counter[tuple[int, int]] = Counter()
        # IPMI commands, a client's retransmits of one not counted again: a retransmit carries the
        # same rqSeq, netFn and command as the request before it on its session (one in flight).
        self.commands = 0
        self._last: dict[bytes, bytes] = {}  # RMCP+ session id -> rqSeq/netFn/command of its last request
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rmcp-relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            while self._later and self._later[0][0] <= now:
                self._back.sendto(heapq.heappop(self._later)[2], self._bmc)
            wait = min(0.1, self._later[0][0] - now) if self._later else 0.1
            ready, _, _ = select.select([self._front, self._back], [], [], max(0.0, wait))
            for sock in ready:
                try:
                    data, source = sock.recvfrom(65535)
                except OSError:
                    return
                if sock is self._back:
                    self._from_bmc(data)
                    if self._client is not None:
                        self._front.sendto(data, self._client)
                    continue
                self._client = source
                if self._request(data) in self.slow:
                    self.delayed += 1
                    heapq.heappush(self._later, (time.monotonic() + self.delay, next(self._order), data))
                else:
                    self._back.sendto(data, self._bmc)

    @staticmethod
    def _payload(data: bytes) -> tuple[int, bool, bytes, bytes] | None:
        """(payload type, encrypted, session id, payload) of an RMCP+ packet, else None."""
        if len(data) < 16 or data[0] != 0x06 or data[3] != 0x07 or data[4] != 0x06:
            return None
        kind = data[5] & 0x3F
        if kind == 0x02:  # OEM explicit: a longer header, never sent here
            return None
        size = int.from_bytes(data[14:16], "little")
        return kind, bool(data[5] & 0x80), data[6:10], data[16:16 + size]

    def _request(self, data: bytes) -> tuple[int, int] | None:
        """The (netfn, command) of a client's IPMI request, when the relay can read it."""
        parsed = self._payload(data)
        if parsed is None:
            return None
        kind, encrypted, session, payload = parsed
        if kind == RAKP1 and len(payload) >= 28:
            name = payload[28:28 + payload[27]]
            self._rakp1[payload[0]] = (payload[4:8], payload[8:24], bytes([payload[24], payload[27]]) + name)
            return None
        if kind != IPMI or not encrypted:
            return None
        keys = self._keys.get(session, [])
        for n, key in enumerate(keys):
            message = decrypt(key, payload)
            found = ipmi_request(message) if message is not None else None
            if found is not None:
                keys.insert(0, keys.pop(n))  # the session's hash: tried first from now on
                self.seen[found] += 1
                assert message is not None
                ident = bytes((message[1], message[4], message[5]))
                if self._last.get(session) != ident:
                    self._last[session] = ident
                    self.commands += 1
                return found
        return None

    def _from_bmc(self, data: bytes) -> None:
        parsed = self._payload(data)
        if parsed is None or parsed[0] != RAKP2:
            return
        payload = parsed[3]
        if len(payload) < 24 or payload[1] != 0 or payload[0] not in self._rakp1:
            return  # not a RAKP 2 that accepted the RAKP 1 the relay saw
        session, rm, who = self._rakp1.pop(payload[0])
        rc = payload[8:24]
        keys = []
        for digest in (hashlib.sha256, hashlib.sha1):
            sik = hmac.new(self._password, rm + rc + who, digest).digest()
            keys.append(hmac.new(sik, b"\x02" * 20, digest).digest()[:16])
        self._keys[session] = keys
        self.sessions += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._front.close()
        self._back.close()

    def __enter__(self) -> SlowCommandRelay:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
