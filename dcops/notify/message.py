"""What dcops notifies about, as notify sees it: a ``Message``. Pure.

Notify knows nothing of patrol's incidents or assets' warranties: each capability that notifies
turns its own records into messages (``Incident.message`` in ``dcops.patrol.model``, the warranty
digest in ``dcops.assets.notify``), and notify routes, silences, queues, renders and delivers
them. ``Notifiable`` is what ``outbox.plan`` accepts: anything that can say what it is as a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# In the order routes compare them: info < warning < critical < emergency.
SEVERITIES = ("info", "warning", "critical", "emergency")
KINDS = ("incident", "warranty")  # what a route may carry (``kind:`` in a route)


@dataclass(frozen=True)
class Message:
    """One notification, before it is routed.

    ``keys`` are the routing keys silences match on (``host``, ``rack``, ``part``, ``condition``,
    ``ref``); ``body`` is the document the renderers draw (an incident's JSON, a warranty digest);
    ``dedup_key`` names what the message is about, so one thing is one conversation (Alertmanager
    keeps one alert per key); ``ref`` is the incident number the outbox row records, if any;
    ``hint`` is the command that acts on it (shown by the renderers where there is room).
    """

    kind: str
    event: str
    severity: str
    title: str
    body: Mapping[str, Any]
    dedup_key: str
    tier: int = 1
    keys: Mapping[str, str] = field(default_factory=dict)
    ref: int | None = None
    firing: bool = True
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"message severity {self.severity!r}: must be one of {', '.join(SEVERITIES)}")
        if self.kind not in KINDS:
            raise ValueError(f"message kind {self.kind!r}: must be one of {', '.join(KINDS)}")


class Notifiable(Protocol):
    """A record that can be notified: a patrol incident, for one."""

    def message(self, event: str) -> Message: ...
