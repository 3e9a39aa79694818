"""Delivery: the only module of dcops.notify that talks to the network (HTTP webhooks, SMTP,
Alertmanager). Every call is bounded by the receiver's timeout and raises ``DeliveryError`` with
a one-line reason (never a credential) when the peer refuses or does not answer."""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from dcops.errors import DcopsError
from dcops.notify import render
from dcops.notify.config import Receiver
from dcops.secrets import redact, resolve


class DeliveryError(DcopsError):
    """A notification could not be delivered (it stays in the outbox and is retried)."""


def _header_value(value: str) -> str:
    if value.split(":", 1)[0] in ("env", "file", "cmd", "cred"):
        # Receivers come from the operator's config file, never from the book.
        return resolve(value, what="notify header", trusted=True).reveal()
    return value


def post_json(url: str, body: Any, *, timeout: float, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "dcops",
        **{k: _header_value(v) for k, v in (headers or {}).items()}})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - configured URL
            return int(resp.status), resp.read(65536)
    except urllib.error.HTTPError as exc:
        text = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
        raise DeliveryError(redact(f"HTTP {exc.code} from {_host(url)}: {text.strip()[:200]}")) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(redact(f"{_host(url)}: {reason}")) from None


def _host(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].split("@")[-1]


def send(receiver: Receiver, event: str, incident: Mapping[str, Any]) -> None:
    """Deliver one event of one incident to ``receiver``. Raises DeliveryError."""
    if receiver.type == "webhook":
        post_json(str(receiver.url), render.as_json(event, incident), timeout=receiver.timeout,
                  headers=receiver.headers)
    elif receiver.type in ("wecom", "dingtalk"):
        body = render.wecom_body(event, incident) if receiver.type == "wecom" else render.dingtalk_body(event, incident)
        _, raw = post_json(str(receiver.url), body, timeout=receiver.timeout, headers=receiver.headers)
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        # Both answer HTTP 200 with {"errcode": N, "errmsg": "..."}; non-zero is a refusal.
        if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
            raise DeliveryError(f"{receiver.type} refused: errcode {answer.get('errcode')}: {answer.get('errmsg')}")
    elif receiver.type == "email":
        send_mail(receiver, render.title(event, incident)[:200], render.as_text(event, incident))
    elif receiver.type == "sms":
        send_sms(receiver, render.sms_text(event, incident), incident)
    elif receiver.type == "alertmanager":
        ends = dt.datetime.fromisoformat(str(incident["resolved_at"])) if incident.get("resolved_at") else None
        post_alerts(receiver, [render.alertmanager_alert(incident, ends_at=ends)])
    else:  # pragma: no cover - validated on load
        raise DeliveryError(f"unknown receiver type {receiver.type}")


def post_alerts(receiver: Receiver, alerts: Sequence[Mapping[str, Any]]) -> None:
    """``POST /api/v2/alerts`` (Alertmanager accepts a batch; an empty batch is not sent)."""
    if not alerts:
        return
    url = str(receiver.url).rstrip("/") + "/api/v2/alerts"
    post_json(url, list(alerts), timeout=receiver.timeout, headers=receiver.headers)


def sms_body(template: str, values: Mapping[str, str], content_type: str) -> bytes:
    """The SMS gateway request body: ``template`` with ``{name}`` placeholders replaced (JSON-
    escaped when the body is JSON, so a quote in a summary cannot break the request). Pure."""
    json_body = "json" in content_type
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", json.dumps(value, ensure_ascii=False)[1:-1] if json_body else value)
    return out.encode()


def send_sms(receiver: Receiver, text: str, incident: Mapping[str, Any]) -> None:
    """POST the templated body to the SMS gateway, once per phone number (or once for all with
    ``batch``). Any 2xx is accepted; raises DeliveryError naming the gateway otherwise."""
    phones = list(receiver.to)
    batches = [phones] if receiver.batch else [[p] for p in phones]
    for numbers in batches:
        values = {"phone": numbers[0], "phones": ",".join(numbers), "text": text,
                  "title": render.title("opened", incident)[:120], "severity": str(incident.get("severity") or ""),
                  "host": str(incident.get("host") or ""), "id": str(incident.get("id") or "")}
        data = sms_body(str(receiver.body), values, receiver.content_type)
        request = urllib.request.Request(str(receiver.url), data=data, method="POST", headers={
            "Content-Type": receiver.content_type, "User-Agent": "dcops",
            **{k: _header_value(v) for k, v in receiver.headers.items()}})
        try:
            with urllib.request.urlopen(request, timeout=receiver.timeout) as resp:  # noqa: S310 - configured URL
                resp.read(65536)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(redact(f"SMS gateway {_host(str(receiver.url))}: HTTP {exc.code}")) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DeliveryError(redact(f"SMS gateway {_host(str(receiver.url))}: {getattr(exc, 'reason', exc)}")) \
                from None


def send_mail(receiver: Receiver, subject: str, body: str) -> None:
    smtp = receiver.smtp
    msg = EmailMessage()
    msg["Subject"] = subject.replace("\n", " ")
    msg["From"] = receiver.sender or "dcops@localhost"
    msg["To"] = ", ".join(receiver.to)
    msg.set_content(body)
    host, port = str(smtp.get("host")), int(smtp.get("port") or (465 if smtp.get("ssl") else 25))
    try:
        client: smtplib.SMTP
        if smtp.get("ssl"):
            client = smtplib.SMTP_SSL(host, port, timeout=receiver.timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=receiver.timeout)
        with client:
            if smtp.get("starttls"):
                client.starttls(context=ssl.create_default_context())
            if smtp.get("username"):
                password = resolve(str(smtp.get("password") or "prompt"), what=f"notify {receiver.name}: SMTP password",
                                   trusted=True)
                client.login(str(smtp["username"]), password.reveal())
            client.send_message(msg)
    except (smtplib.SMTPException, OSError, TimeoutError) as exc:
        raise DeliveryError(redact(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}")[:300]) from None
