"""The ``notify:`` section of the config file: receivers and the routes that pick them by severity
and escalation tier. Validated on load (``InvalidInputError`` naming the receiver or route).

::

    notify:
      receivers:
        - {name: am, type: alertmanager, url: "http://127.0.0.1:9093"}
        - {name: oncall, type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."}
        - {name: sre-mail, type: email, to: [sre@example.com], from: dcops@example.com,
           smtp: {host: smtp.example.com, port: 587, starttls: true, username: dcops, password: "env:SMTP_PW"}}
        - {name: sms, type: sms, url: "https://sms.example.com/api/send", to: ["+8613800000000"],
           body: '{"mobile": "{phone}", "content": "{text}"}', rate_per_minute: 30}
        - {name: procurement, type: email, to: [assets@example.com], smtp: {host: smtp.example.com}}
      routes:
        - {receivers: [am]}                                          # every incident
        - {severity: [critical, emergency], tier: [1], receivers: [oncall, sms]}
        - {severity: [critical, emergency], tier: [2, 3], receivers: [sre-mail]}
        - {kind: [warranty], receivers: [procurement]}               # the daily warranty digest

A route carries incidents unless it says ``kind: [warranty]`` (or both): warranty reminders are a
daily digest for whoever buys the spares, not a page for whoever is on call.

Every receiver has a rate limit (``rate_per_minute``): notifications beyond it wait in the
outbox for the next minute rather than be refused. WeCom and DingTalk group robots take 20
messages a minute (their documented limits), so that is their default; others are unlimited
unless configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dcops.errors import InvalidInputError
from dcops.notify.message import KINDS, SEVERITIES

RECEIVER_TYPES = ("webhook", "wecom", "dingtalk", "email", "alertmanager", "sms")
ROUTE_KINDS = KINDS
# Messages a minute a receiver accepts. WeCom group robot: "each robot may send at most 20
# messages per minute" (developer.work.weixin.qq.com, group robot configuration); DingTalk custom
# robot: 20 messages per minute, then it is throttled for 10 minutes (open.dingtalk.com).
DEFAULT_RATES: dict[str, float] = {"wecom": 20.0, "dingtalk": 20.0}


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
    rate_per_minute: float | None = None  # None: unlimited
    body: str | None = None  # sms: the request body template ({phone}, {phones}, {text}, {title}, ...)
    content_type: str = "application/json"  # sms: of the body
    batch: bool = False  # sms: one request for all numbers ({phones}) instead of one per number

    @property
    def is_alertmanager(self) -> bool:
        return self.type == "alertmanager"


@dataclass(frozen=True)
class Route:
    receivers: tuple[str, ...]
    severity: frozenset[str] = frozenset()  # empty: every severity (SEVERITIES)
    tier: frozenset[int] = frozenset()  # empty: every tier
    kind: frozenset[str] = frozenset({"incident"})  # what it carries: incidents, warranty digests

    def matches(self, severity: str, tier: int, *, explicit_tier: bool = False, kind: str = "incident") -> bool:
        if kind not in self.kind:
            return False
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

    def receivers_for(self, severity: str, tier: int, *, explicit_tier: bool = False,
                      alertmanager: bool | None = None, kind: str = "incident") -> list[Receiver]:
        names: list[str] = []
        for route in self.routes:
            if route.matches(severity, tier, explicit_tier=explicit_tier, kind=kind):
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
        if kind == "sms" and (not raw.get("to") or not raw.get("body")):
            problems.append(f"notify receiver {name}: sms needs to: [phone numbers] and a body: template")
        rate = raw.get("rate_per_minute", DEFAULT_RATES.get(kind))
        try:
            rate = float(rate) if rate is not None else None
            if rate is not None and rate <= 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"notify receiver {name}: rate_per_minute must be a positive number")
            rate = None
        to = raw.get("to") or ()
        receivers[name] = Receiver(name=name, type=kind, url=raw.get("url"), headers=dict(raw.get("headers") or {}),
                                   to=tuple(str(t) for t in ([to] if isinstance(to, str) else to)),
                                   sender=raw.get("from"), smtp=dict(raw.get("smtp") or {}),
                                   timeout=float(raw.get("timeout", 10)), rate_per_minute=rate,
                                   body=raw.get("body"), content_type=str(raw.get("content_type") or "application/json"),
                                   batch=bool(raw.get("batch")))
    routes: list[Route] = []
    for n, raw in enumerate(section.get("routes") or []):
        names = tuple(raw.get("receivers") or ()) if isinstance(raw, Mapping) else ()
        unknown = [x for x in names if x not in receivers]
        if not names or unknown:
            problems.append(f"notify.routes[{n}]: " + (f"unknown receiver(s) {', '.join(unknown)}" if unknown
                                                       else "names no receivers"))
            continue
        severities = frozenset(str(s) for s in _list(raw.get("severity")))
        if not severities <= set(SEVERITIES):
            problems.append(f"notify.routes[{n}]: severity must be info, warning, critical or emergency")
            continue
        kinds = frozenset(str(k) for k in _list(raw.get("kind"))) or frozenset({"incident"})
        if not kinds <= set(ROUTE_KINDS):
            problems.append(f"notify.routes[{n}]: kind must be {' or '.join(ROUTE_KINDS)}")
            continue
        routes.append(Route(names, severities, frozenset(int(t) for t in _list(raw.get("tier"))), kinds))
    if problems:
        raise InvalidInputError(f"{source}: notify: " + "; ".join(problems))
    return NotifyConfig(receivers, tuple(routes), float(section.get("max_age_seconds", 86400)),
                        float(section.get("alertmanager_resend_seconds", 60)))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
