"""Warranty reminders through the patrol notifiers (``notify:`` in the config file).

A reminder is rendered as an incident-shaped document (what ``dcops.notify.render`` expects), with
severity ``warning`` (``critical`` once expired), and sent to the receivers the routes pick for
that severity at tier 1. Alertmanager receivers are skipped: for Prometheus alerting use the
exporter's ``dcops_assets_warranty_remaining_seconds`` instead.

With no receivers configured the reminders are only listed in the command's report; they are
still recorded as sent (channel ``report``), because the person who ran ``--remind`` saw them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dcops.assets.warranty import Reminder

log = logging.getLogger(__name__)


def reminder_document(reminder: Reminder) -> dict[str, Any]:
    """An incident-shaped document for the notifiers' renderers."""
    expired = reminder.days_left < 0
    return {
        "id": f"warranty-{reminder.host}-{reminder.threshold}d",
        "host": reminder.host,
        "summary": reminder.message(),
        "severity": "critical" if expired else "warning",
        "tier": 1,
        "info": {"kind": "warranty", "serial": reminder.serial},
        "warranty": {"end": reminder.warranty_end.isoformat(), "days_left": reminder.days_left,
                     "contract": reminder.contract, "service_provider": reminder.service_provider,
                     "supplier": reminder.supplier},
        "location": {},
    }


def send_reminders(due: Sequence[Reminder], section: Mapping[str, Any] | None) -> \
        tuple[list[Reminder], str, list[str]]:
    """Send ``due`` to the receivers of the ``notify`` config ``section``; returns (reminders
    delivered, channel, problems). A reminder every receiver refused is not delivered (it is due
    again next time). Raises ``InvalidInputError`` when the section is invalid."""
    if not due:
        return [], "none", []
    if not section:
        return list(due), "report", []
    from dcops.notify.config import load_notify_config
    from dcops.notify.send import DeliveryError, send
    from dcops.patrol.model import Severity

    config = load_notify_config(section)
    sent: list[Reminder] = []
    problems: list[str] = []
    names: set[str] = set()
    for reminder in due:
        doc = reminder_document(reminder)
        receivers = config.receivers_for(Severity(doc["severity"]), 1, alertmanager=False)
        delivered = False
        for receiver in receivers:
            try:
                send(receiver, "warranty", doc)
                delivered = True
                names.add(receiver.name)
            except DeliveryError as exc:
                problems.append(f"{reminder.host}: warranty reminder to {receiver.name}: {exc}")
        if delivered or not receivers:
            sent.append(reminder)
    return sent, ",".join(sorted(names)) or "report", problems
