"""Patrol's store: a round saved atomically, the state and open incidents read back, acks and
silences, the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dcops.notify import store as outbox_store
from dcops.patrol import store as pstore
from dcops.patrol.converge import ConvergeState
from dcops.patrol.model import IncidentStatus
from dcops.store import open_store
from tests.integration.patrol.helpers import psu_incident


def _round(now: dt.datetime) -> dict:
    return {"started_at": now, "finished_at": now, "hosts": 1, "reachable": 1, "unreachable": 0, "missed": 0,
            "events": 1, "opened": 1, "resolved": 0, "duration_seconds": 0.5, "cpu_seconds": 0.1, "requests": 4,
            "tier": "minute"}


def test_round_state_incidents_silences_outbox(store_url: str) -> None:
    store = open_store(store_url)
    now = dt.datetime.now(dt.UTC)
    incident = psu_incident(now)
    state = ConvergeState(incidents={incident.id: incident}, next_id=incident.id + 1)
    row = {"host": "trade-db-01", "observed_at": now, "reachable": True, "error": None, "protocol": "redfish",
           "power": "on", "health": "critical", "duration_seconds": 0.5, "requests": 4, "log_cursor": '{"id":"3"}',
           "memory": {"checks": {"power": "on"}}, "last_success_at": now, "last_inventory_at": None,
           "observation": {"sensors": []}}
    notes = [{"created_at": now, "incident": incident.id, "receiver": "hook", "kind": "opened",
              "payload": {"event": "opened", "incident": incident.to_json()}, "attempts": 0, "next_attempt_at": now}]
    rid = pstore.save_round(store, round_row=_round(now), host_rows=[row],
                            changes=[{"at": now, "host": "trade-db-01", "part": "psu:1:PSU1", "old": None,
                                      "new": "critical", "detail": "PSU1"}],
                            converge_state=state.to_json(), changed_incidents=[incident], notifications=notes)
    assert rid >= 1
    # Upsert: the same host again, changed.
    pstore.save_round(store, round_row=_round(now), host_rows=[{**row, "health": "ok"}])
    assert pstore.host_rows(store)["trade-db-01"]["health"] == "ok"
    saved, open_incidents = pstore.load_converge(store)
    assert saved is not None and saved["next_id"] == incident.id + 1
    [back] = open_incidents
    assert back.info.serial == "PS45GWZFUE92J3" and back.location["rack"] == "C04"
    acked = dataclasses.replace(back, acked_at=now, acked_by="anna")
    pstore.save_incident(store, acked)
    assert pstore.get_incident(store, incident.id).acked_by == "anna"  # type: ignore[union-attr]
    resolved = dataclasses.replace(acked, status=IncidentStatus.RESOLVED, resolved_at=now)
    pstore.save_incident(store, resolved)
    _, still_open = pstore.load_converge(store)
    assert still_open == []
    # A resolved incident's track is forgotten when the state is loaded.
    assert ConvergeState.from_json({"tracks": [{"key": incident.key, "incident": incident.id, "event": {}}]},
                                   still_open).tracks == {}
    sid = pstore.add_silence(store, until=now + dt.timedelta(hours=1), created_by="anna", rack="C04")
    assert [s.id for s in pstore.active_silences(store, now)] == [sid]
    assert pstore.expire_silence(store, sid, now)
    assert pstore.active_silences(store, now) == []
    [due] = outbox_store.due_notifications(store, now)
    outbox_store.mark_delivered(store, [due["id"]], now)
    assert outbox_store.outbox_counts(store) == {"pending": 0, "given_up": 0, "delivered": 1}
    assert pstore.last_round(store)["requests"] == 4  # type: ignore[index]


def test_migration_is_registered() -> None:
    from dcops.store.migrations import MIGRATIONS

    assert "m0003_patrol" in [m.id for m in MIGRATIONS]
