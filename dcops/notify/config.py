"""The ``notify:`` section of the config file: receivers and the routes that pick them by severity
and escalation tier. Validated on load (``InvalidInputError`` naming the receiver or route).

::

    notify:
      receivers:
        - {name: am, type: alertmanager, url: "http://127.0.0.1:9093"}
        - {name: oncall, type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."}
        - {name: sre-mail, type: email, to: [sre@example.com], from: dcops@example.com,
           smtp: {host: smtp.example.com, port: 587, starttls: true, username: dcops, password: "env:SMTP_PW"}}
      routes:
        - {receivers: [am]}                                          # everything
        - {severity: [critical, emergency], tier: [1], receivers: [oncall]}
        - {severity: [critical, emergency], tier: [2, 3], receivers: [sre-mail]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import InvalidInputError
from dcops.patrol.model import Severity

RECEIVER_TYPES = ("webhook", "wecom", "dingtalk", "email", "alertmanager")


@dataclass(frozen=True)
class Receiver:
    name: str
    type: str
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # values may be secret references
    to: tuple[str, ...] = ()
    sender: str | None = None
    smtp: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 10.0

    @property
    def is_alertmanager(self) -> bool:
        return self.type == "alertmanager"


@dataclass(frozen=True)
class Route:
    receivers: tuple[str, ...]
    severity: frozenset[Severity] = frozenset()  # empty: every severity
    tier: frozenset[int] = frozenset()  # empty: every tier

    def matches(self, severity: Severity, tier: int, *, explicit_tier: bool = False) -> bool:
        if self.severity and severity not in self.severity:
            return False
        if explicit_tier:
            return tier in self.tier
        return not self.tier or tier in self.tier


@dataclass(frozen=True)
class NotifyConfig:
    receivers: Mapping[str, Receiver] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    max_age_seconds: float = 86400.0  # a notification undeliverable this long is given up (kept, flagged)
    alertmanager_resend_seconds: float = 60.0

    def receivers_for(self, severity: Severity, tier: int, *, explicit_tier: bool = False,
                      alertmanager: bool | None = None) -> list[Receiver]:
        names: list[str] = []
        for route in self.routes:
            if route.matches(severity, tier, explicit_tier=explicit_tier):
                names.extend(n for n in route.receivers if n not in names)
        found = [self.receivers[n] for n in names]
        if alertmanager is not None:
            found = [r for r in found if r.is_alertmanager == alertmanager]
        return found

    @property
    def alertmanagers(self) -> list[Receiver]:
        return [r for r in self.receivers.values() if r.is_alertmanager]


def load_notify_config(section: Mapping[str, Any] | None, source: str = "config") -> NotifyConfig:
    """Build and validate the notify configuration (empty: no receivers, no routes)."""
    section = section or {}
    problems: list[str] = []
    receivers: dict[str, Receiver] = {}
    for n, raw in enumerate(section.get("receivers") or []):
        if not isinstance(raw, Mapping) or not raw.get("name"):
            problems.append(f"notify.receivers[{n}]: needs a name")
            continue
        name, kind = str(raw["name"]), str(raw.get("type", ""))
        if kind not in RECEIVER_TYPES:
            problems.append(f"notify receiver {name}: type must be one of {', '.join(RECEIVER_TYPES)}")
            continue
        if kind != "email" and not raw.get("url"):
            problems.append(f"notify receiver {name}: needs a url")
        if kind == "email" and (not raw.get("to") or not (raw.get("smtp") or {}).get("host")):
            problems.append(f"notify receiver {name}: email needs to: [...] and smtp: {{host: ...}}")
        to = raw.get("to") or ()
        receivers[name] = Receiver(name=name, type=kind, url=raw.get("url"), headers=dict(raw.get("headers") or {}),
                                   to=tuple([to] if isinstance(to, str) else to),
                                   sender=raw.get("from"), smtp=dict(raw.get("smtp") or {}),
                                   timeout=float(raw.get("timeout", 10)))
    routes: list[Route] = []
    for n, raw in enumerate(section.get("routes") or []):
        names = tuple(raw.get("receivers") or ()) if isinstance(raw, Mapping) else ()
        unknown = [x for x in names if x not in receivers]
        if not names or unknown:
            problems.append(f"notify.routes[{n}]: " + (f"unknown receiver(s) {', '.join(unknown)}" if unknown
                                                       else "names no receivers"))
            continue
        try:
            severities = frozenset(Severity(s) for s in _list(raw.get("severity")))
        except ValueError:
            problems.append(f"notify.routes[{n}]: severity must be info, warning, critical or emergency")
            continue
        routes.append(Route(names, severities, frozenset(int(t) for t in _list(raw.get("tier")))))
    if problems:
        raise InvalidInputError(f"{source}: notify: " + "; ".join(problems))
    return NotifyConfig(receivers, tuple(routes), float(section.get("max_age_seconds", 86400)),
                        float(section.get("alertmanager_resend_seconds", 60)))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
