"""What the fleet readers (``redfish.fleet.RedfishFleet``, ``ipmi.fleet.IpmiFleet``) hand back
for one BMC in one round, and where a BMC's log was left between rounds. Protocol-neutral.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from dcops.observation import Observation


def record_order(value: object) -> tuple[int, str]:
    """Sort key of a log record id: numeric ids by number, others after them by text."""
    text = str(value)
    return (int(text), "") if text.isdigit() else (-1, text)


@dataclass
class LogPosition:
    """Where the log was left: the newest record id seen, how many records the BMC listed, and
    in which order it lists them, and which protocol's log it is (an ``auto`` host read over IPMI
    for a while has another log's ids). ``None`` cursor: never read (the first read only sets it)."""

    cursor: str | None = None
    count: int | None = None
    order: str | None = None  # asc | desc
    source: str | None = None  # redfish | ipmi (None: stored before this was recorded)

    def to_text(self) -> str:
        data = {"id": self.cursor, "n": self.count, "o": self.order}
        if self.source:
            data["p"] = self.source
        return orjson.dumps(data).decode()

    def of(self, source: str) -> LogPosition:
        """This position if it is ``source``'s log (or does not say), else a fresh one."""
        if self.source not in (None, source):
            return LogPosition(source=source)
        return LogPosition(self.cursor, self.count, self.order, source)

    @classmethod
    def from_text(cls, text: str | None) -> LogPosition:
        if not text:
            return cls()
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            return cls(cursor=text)  # a bare record id
        if not isinstance(data, dict):
            return cls()
        return cls(cursor=data.get("id"), count=data.get("n"), order=data.get("o"), source=data.get("p"))

    def copy(self) -> LogPosition:
        return LogPosition(self.cursor, self.count, self.order, self.source)


@dataclass
class Visit:
    """One BMC's answer in one round (``aio.Result`` is the same thing)."""

    host: str
    observation: Observation | None
    error: str | None
    seconds: float
    requests: int = 0  # HTTP requests (login included) or IPMI commands this visit sent
    drilled: bool = False  # the parts were read because a rollup was not OK
    log: LogPosition | None = None  # where the log stands after this visit (persist it)
    baseline: bool = False  # the log was read for the first time: its entries are history, not news
    # The failure is one the ``auto`` protocol falls back to IPMI on: no Redfish service (404 on
    # the service root), no connection, or no answer within the deadline.
    no_redfish: bool = False
    # No complete answer within the deadline (the visit was cut, not refused): patrol reads an
    # inventory visit cut short this way again as a minute visit with the time left.
    timed_out: bool = False
