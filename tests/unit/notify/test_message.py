"""Notify's own message and silence test: patrol's incidents and assets' warranty digests become
messages; silences match routing keys; a warranty digest's hint is a command dcops accepts."""

from __future__ import annotations

import datetime as dt
import shlex

import click
import pytest

from dcops.assets.notify import digest_message
from dcops.assets.warranty import Reminder
from dcops.notify import render
from dcops.notify.message import Message
from dcops.notify.silence import Silence, silenced
from tests.integration.patrol.helpers import psu_incident

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
KEYS = {"host": "db-01", "rack": "C04", "part": "psu/1", "condition": "health"}


def _message(**keys: str) -> Message:
    return Message(kind="incident", event="opened", severity="critical", title="t", body={}, dedup_key="incident:7",
                   keys={**KEYS, **keys}, ref=7)


@pytest.mark.parametrize(("silence", "muted"), [
    (Silence(1, NOW + dt.timedelta(hours=1)), True),  # no matcher: everything
    (Silence(1, NOW + dt.timedelta(hours=1), host="db-*"), True),
    (Silence(1, NOW + dt.timedelta(hours=1), host="web-*"), False),
    (Silence(1, NOW + dt.timedelta(hours=1), rack="C0?", condition="health"), True),
    (Silence(1, NOW + dt.timedelta(hours=1), part="fan/*"), False),
    (Silence(1, NOW + dt.timedelta(hours=1), incident=7), True),
    (Silence(1, NOW + dt.timedelta(hours=1), incident=8), False),
    (Silence(1, NOW), False),  # ended exactly now
])
def test_silences_match_routing_keys(silence: Silence, muted: bool) -> None:
    assert (silenced(_message(), [silence], NOW) is not None) is muted


def test_a_message_refuses_an_unknown_severity_or_kind() -> None:
    with pytest.raises(ValueError, match="severity"):
        Message(kind="incident", event="opened", severity="bad", title="", body={}, dedup_key="x")
    with pytest.raises(ValueError, match="kind"):
        Message(kind="page", event="opened", severity="info", title="", body={}, dedup_key="x")


def test_an_incident_is_a_message() -> None:
    incident = psu_incident()
    message = incident.message("opened")
    assert (message.kind, message.severity, message.ref, message.tier) == ("incident", "critical", incident.id, 1)
    assert message.keys["host"] == incident.host and message.keys["rack"] == "C04"
    assert message.body == incident.to_json() and message.title == render.title("opened", incident.to_json())
    assert message.hint == f"dcops alerts ack {incident.id}" and message.dedup_key == f"incident:{incident.id}"


def _reminder(host: str, days_left: int) -> Reminder:
    end = (NOW + dt.timedelta(days=days_left)).date()
    return Reminder(host=host, threshold=30, warranty_end=end, days_left=days_left, site="sh1", rack=None,
                    serial=None, contract=None, service_provider=None, supplier=None)


def test_a_warranty_digest_hints_at_a_command_dcops_accepts() -> None:
    message = digest_message([_reminder("db-01", 5), _reminder("old-01", -3), _reminder("web-01", 29)], NOW)
    assert (message.kind, message.event, message.severity, message.ref) == ("warranty", "warranty", "critical", None)
    assert message.hint == "dcops assets warranty --within 29d"
    assert f"`{message.hint}`" in render.as_markdown("warranty", message.body)
    assert "alerts ack" not in render.as_markdown("warranty", message.body)
    # The hint parses as the real command line (options and values), so it is not a dead end.
    from dcops.cli.main import cli

    args = shlex.split(message.hint)[1:]
    with cli.make_context("dcops", list(args), resilient_parsing=True) as ctx:
        group = ctx.command
        assert isinstance(group, click.Group)
        sub = group.get_command(ctx, args[0])
        assert isinstance(sub, click.Group)
        command = sub.get_command(ctx, args[1])
        assert command is not None
        assert command.make_context(args[1], args[2:], parent=ctx).params["within"] == "29d"
