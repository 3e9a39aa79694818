"""What a serial console is to the gateway: an async byte stream.

``read`` returns the next bytes the console printed (``b""`` once it has ended), ``write`` sends
typed bytes, ``close`` ends the session at the BMC (idempotent). ``transport`` names the way in
("ipmi-sol/pyghmi", "ipmi-sol/ipmitool") for the audit record.
"""

from __future__ import annotations

from typing import Protocol


class ConsoleStream(Protocol):
    transport: str

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...
