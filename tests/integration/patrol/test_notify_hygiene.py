"""Notification hygiene against a real loopback receiver: every receiver has a rate limit with a
queue (WeCom and DingTalk default to their documented 20 messages a minute; beyond it rows wait in
the outbox, in order, and nothing is lost), and an SMS gateway receiver posts a templated body per
phone number."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from dcops.errors import InvalidInputError
from dcops.notify import outbox
from dcops.notify import store as outbox_store
from dcops.notify.config import load_notify_config
from dcops.notify.send import sms_body
from dcops.patrol import store as pstore
from dcops.store import open_store
from tests.helpers.receivers import webhook
from tests.integration.patrol.helpers import psu_incident

pytestmark = pytest.mark.timeout(90)


@pytest.mark.parametrize(("receiver", "rate"), [
    ({"type": "wecom", "url": "http://127.0.0.1:9/"}, 20.0),
    ({"type": "dingtalk", "url": "http://127.0.0.1:9/"}, 20.0),
    ({"type": "webhook", "url": "http://127.0.0.1:9/"}, None),
    ({"type": "webhook", "url": "http://127.0.0.1:9/", "rate_per_minute": 5}, 5.0),
    ({"type": "wecom", "url": "http://127.0.0.1:9/", "rate_per_minute": 6}, 6.0),
])
def test_rate_limit_defaults(receiver: dict, rate: float | None) -> None:
    config = load_notify_config({"receivers": [{"name": "r", **receiver}]})
    assert config.receivers["r"].rate_per_minute == rate


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "s", "type": "sms", "url": "http://127.0.0.1:9/"}, "sms needs to"),
    ({"name": "w", "type": "webhook", "url": "http://127.0.0.1:9/", "rate_per_minute": 0}, "rate_per_minute"),
])
def test_bad_receivers_are_named(raw: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        load_notify_config({"receivers": [raw]})


def test_route_kind_must_be_known() -> None:
    with pytest.raises(InvalidInputError, match="kind must be"):
        load_notify_config({"receivers": [{"name": "w", "type": "webhook", "url": "http://127.0.0.1:9/"}],
                            "routes": [{"kind": ["pager"], "receivers": ["w"]}]})


@pytest.mark.parametrize(("template", "content_type", "expected"), [
    ('{"to": "{phone}", "msg": "{text}"}', "application/json", '{"to": "+861", "msg": "a \\"b\\" c"}'),
    ("to={phone}&msg={text}", "application/x-www-form-urlencoded", 'to=+861&msg=a "b" c'),
])
def test_sms_body_template(template: str, content_type: str, expected: str) -> None:
    assert sms_body(template, {"phone": "+861", "text": 'a "b" c'}, content_type).decode() == expected


def test_a_wecom_robot_gets_at_most_its_rate_per_minute_and_the_rest_waits_in_order(tmp_path: Path) -> None:
    with webhook() as hook:
        config = load_notify_config({"receivers": [{"name": "chat", "type": "wecom", "url": hook.url,
                                                    "rate_per_minute": 3}],
                                     "routes": [{"receivers": ["chat"]}]})
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        try:
            now = dt.datetime.now(dt.UTC)
            for n in range(1, 8):
                incident = dataclasses.replace(psu_incident(now), id=n, host=f"h{n}")
                pstore.save_incident(store, incident, outbox.plan(config, now, opened=[incident]))
            first = outbox.deliver_due(store, config, now)
            assert (first["delivered"], first["deferred"]) == (3, 4)
            assert outbox.deliver_due(store, config, now + dt.timedelta(seconds=30))["delivered"] == 0  # waiting
            second = outbox.deliver_due(store, config, now + dt.timedelta(seconds=61))
            assert (second["delivered"], second["deferred"]) == (3, 1)
            third = outbox.deliver_due(store, config, now + dt.timedelta(seconds=122))
            assert (third["delivered"], third["deferred"]) == (1, 0)
            ids = [body["markdown"]["content"].split("`dcops alerts ack ")[1].rstrip("`") for _, body in hook.received]
            assert ids == [str(n) for n in range(1, 8)]  # every one, once, in order
            assert outbox_store.outbox_counts(store) == {"pending": 0, "given_up": 0, "delivered": 7}
        finally:
            store.close()


def test_sms_gateway_gets_one_templated_post_per_phone(tmp_path: Path) -> None:
    with webhook() as gateway:
        config = load_notify_config({
            "receivers": [{"name": "sms", "type": "sms", "url": gateway.url + "/send", "to": ["+8613800000001",
                                                                                          "+8613800000002"],
                           "body": '{"mobile": "{phone}", "content": "{text}", "sign": "dcops"}'}],
            "routes": [{"severity": ["critical", "emergency"], "receivers": ["sms"]}]})
        store = open_store(f"sqlite:///{tmp_path}/s.db")
        try:
            now = dt.datetime.now(dt.UTC)
            incident = psu_incident(now)
            pstore.save_incident(store, incident, outbox.plan(config, now, opened=[incident]))
            assert outbox.deliver_due(store, config, now)["delivered"] == 1
        finally:
            store.close()
        assert [p for p, _ in gateway.received] == ["/send", "/send"]
        bodies = [b for _, b in gateway.received]
        assert [b["mobile"] for b in bodies] == ["+8613800000001", "+8613800000002"]
        text = bodies[0]["content"]
        assert text.startswith("[dcops NEW CRITICAL] trade-db-01 sh1/r3/C04 U17:") and "S/N PS45GWZFUE92J3" in text
        assert json.dumps(bodies[0])  # well-formed JSON whatever the summary held
