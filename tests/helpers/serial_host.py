"""The host side of a serial port for ipmi_sim's SOL: a loopback TCP server that ipmi_sim
connects to (``sol "tcp:127.0.0.1:PORT"``), echoing every byte back as a terminal in cooked mode
with echo on does, so a line typed into the SOL console comes back as console output.

    with SerialHost() as host:          # host.port for start-bmc.sh; host.received: what was typed
        host.emit(b"boot log")          # the host prints on its own (console output nobody typed)
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class SerialHost:
    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(4)
        self.port = int(self._server.getsockname()[1])
        self.received = bytearray()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        accept = threading.Thread(target=self._accept, name="serial-host", daemon=True)
        accept.start()
        self._threads.append(accept)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._conns.append(conn)
            worker = threading.Thread(target=self._echo, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                self.received += data
                try:
                    conn.sendall(data)
                except OSError:
                    return

    def connected(self) -> bool:
        """Whether the BMC has connected to this serial port."""
        return bool(self._conns)

    def emit(self, data: bytes) -> None:
        """Write ``data`` to the serial line as the host's own output (the BMC's newest connection)."""
        self._conns[-1].sendall(data)

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def __enter__(self) -> SerialHost:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
