"""Recurring maintenance windows: silences with a schedule. Pure.

::

    patrol:
      maintenance:
        - name: post-close batch
          days: [mon, tue, wed, thu, fri]      # or "mon-fri", "weekends", "daily"
          from: "15:30"
          to: "17:00"                           # "to" <= "from": the window runs past midnight
          timezone: Asia/Shanghai               # default UTC
          except: [2026-10-01, 2026-10-02]      # holidays: no window that day (trading days)
          rack: "A0*"                           # matchers as `dcops alerts silence`: host, rack, part, condition
          reason: settlement batch restarts hosts

While a window is open, the incidents it matches are silenced exactly as by ``dcops alerts
silence`` (docs/patrol.md "Escalation, acknowledgements, silences"): not paged, not escalated,
and paged from tier 1 when the window closes if they are still open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dcops.errors import InvalidInputError
from dcops.patrol.escalate import Silence

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {"daily": frozenset(range(7)), "weekdays": frozenset(range(5)), "weekends": frozenset({5, 6})}


@dataclass(frozen=True)
class MaintenanceWindow:
    name: str
    days: frozenset[int]  # 0 = Monday
    start: dt.time
    end: dt.time
    timezone: str = "UTC"
    skip: frozenset[dt.date] = frozenset()
    host: str = ""
    rack: str = ""
    part: str = ""
    condition: str = ""
    reason: str = ""

    def open_until(self, now: dt.datetime) -> dt.datetime | None:
        """When the window that contains ``now`` closes (aware), or None when none does."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        for back in (0, 1):  # a window started today, or yesterday and running past midnight
            day = local.date() - dt.timedelta(days=back)
            if day.weekday() not in self.days or day in self.skip:
                continue
            begins = dt.datetime.combine(day, self.start, zone)
            ends = dt.datetime.combine(day + dt.timedelta(days=1) if self.end <= self.start else day, self.end, zone)
            if begins <= local < ends:
                return ends.astimezone(dt.UTC)
        return None


def scheduled_silences(windows: Iterable[MaintenanceWindow], now: dt.datetime) -> list[Silence]:
    """The silences the windows open at ``now`` (negative ids: they are not rows of the store)."""
    out = []
    for n, window in enumerate(windows):
        until = window.open_until(now)
        if until is not None:
            out.append(Silence(id=-(n + 1), until=until, host=window.host, rack=window.rack, part=window.part,
                               condition=window.condition, created_by=f"maintenance:{window.name}",
                               reason=window.reason))
    return out


def _days(value: Any, where: str) -> frozenset[int]:
    if value is None:
        return DAY_SETS["daily"]
    items = [value] if isinstance(value, str) else list(value)
    days: set[int] = set()
    for item in items:
        text = str(item).strip().lower()
        if text in DAY_SETS:
            days |= DAY_SETS[text]
        elif "-" in text and all(p in DAY_NAMES for p in text.split("-", 1)):
            a, b = (DAY_NAMES.index(p) for p in text.split("-", 1))
            days |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(0, b + 1))
        elif text[:3] in DAY_NAMES:
            days.add(DAY_NAMES.index(text[:3]))
        else:
            raise InvalidInputError(f"{where}: days: {item!r} is not a day (mon..sun, mon-fri, weekdays, weekends, daily)")
    return frozenset(days)


def _time(value: Any, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(f"{where}: {value!r} is not a time of day (HH:MM)") from None


def load_windows(raw: Sequence[Mapping[str, Any]] | None, source: str = "config patrol.maintenance") \
        -> tuple[MaintenanceWindow, ...]:
    """Validate ``patrol.maintenance``; errors name the window."""
    out = []
    for n, item in enumerate(raw or []):
        where = f"{source}[{n}]" + (f" ({item.get('name')})" if isinstance(item, Mapping) and item.get("name") else "")
        if not isinstance(item, Mapping) or "from" not in item or "to" not in item:
            raise InvalidInputError(f"{where}: needs from: and to: (HH:MM)")
        unknown = set(item) - {"name", "days", "from", "to", "timezone", "except", "host", "rack", "part",
                               "condition", "reason"}
        if unknown:
            raise InvalidInputError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
        zone = str(item.get("timezone") or "UTC")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(f"{where}: unknown timezone {zone!r}") from None
        try:
            skip = frozenset(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
                             for d in item.get("except") or ())
        except ValueError:
            raise InvalidInputError(f"{where}: except: dates are YYYY-MM-DD") from None
        if not any(item.get(k) for k in ("host", "rack", "part", "condition")):
            raise InvalidInputError(f"{where}: name what it silences (host, rack, part or condition; '*' for all)")
        out.append(MaintenanceWindow(
            name=str(item.get("name") or f"window {n + 1}"), days=_days(item.get("days"), where),
            start=_time(item["from"], where), end=_time(item["to"], where), timezone=zone, skip=skip,
            host=str(item.get("host") or ""), rack=str(item.get("rack") or ""), part=str(item.get("part") or ""),
            condition=str(item.get("condition") or ""), reason=str(item.get("reason") or "")))
    return tuple(out)
