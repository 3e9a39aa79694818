"""What a notification says: one incident as JSON (webhook), markdown (WeCom/DingTalk), a mail,
or an Alertmanager alert. Pure. The first lines answer the 2 a.m. questions: what broke, where it
stands, which part (serial, model, part number) and whether the warranty covers it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

SEVERITY_MARK = {"info": "ℹ️", "warning": "⚠️", "critical": "🔴", "emergency": "🚨"}
VERB = {"opened": "NEW", "escalated": "ESCALATED", "updated": "WORSE", "resolved": "RESOLVED",
        "acked": "ACKNOWLEDGED", "warranty": "WARRANTY"}
ALERTNAMES = {
    "health": "DcopsPartHealth", "predictive_failure": "DcopsPredictiveFailure", "sensor_high": "DcopsSensorThreshold",
    "sensor_low": "DcopsSensorThreshold", "sensor_health": "DcopsSensorHealth",
    "redundancy_lost": "DcopsPowerRedundancyLost", "unexpected_power_off": "DcopsUnexpectedPowerOff",
    "abnormal_shutdown": "DcopsAbnormalShutdown", "bmc_unreachable": "DcopsBmcUnreachable", "bmc_errors": "DcopsBmcErrors",
    "rack_power_loss": "DcopsRackPowerLoss", "rack_unreachable": "DcopsRackBmcsUnreachable", "log": "DcopsLogEntry", "rollup": "DcopsHealthRollup",
    "network_down": "DcopsNetworkDown", "network_unreachable": "DcopsHostNetworkUnreachable",
}


def where(incident: Mapping[str, Any]) -> str:
    loc = incident.get("location") or {}
    text = "/".join(str(loc[k]) for k in ("site", "room", "rack") if loc.get(k))
    if loc.get("u") is not None:
        text += f" U{loc['u']}"
    return text or "location unknown"


def part_line(incident: Mapping[str, Any]) -> str:
    info = incident.get("info") or {}
    bits = [f"{info.get('kind', '?')} {info.get('location') or ''}".strip()]
    for label, key in (("model", "model"), ("P/N", "part_number"), ("S/N", "serial"), ("FW", "firmware")):
        if info.get(key):
            bits.append(f"{label} {info[key]}")
    return ", ".join(bits)


def warranty_line(incident: Mapping[str, Any]) -> str:
    w = incident.get("warranty") or {}
    if not w.get("end"):
        return "warranty: unknown"
    left = w.get("days_left")
    state = "EXPIRED" if isinstance(left, int) and left < 0 else f"{left} days left" if left is not None else ""
    extra = ", ".join(str(w[k]) for k in ("contract", "service_provider") if w.get(k))
    return f"warranty: until {w['end']} ({state})" + (f", {extra}" if extra else "")


def diagnosis_lines(incident: Mapping[str, Any]) -> list[str]:
    d = incident.get("diagnosis") or {}
    lines = []
    if d.get("reading") is not None:
        lines.append(f"reading {d['reading']} {d.get('units') or ''}".strip()
                     + (f" vs {str(d.get('threshold_name') or '').replace('_', ' ')} {d['threshold']}"
                        if d.get("threshold") is not None else ""))
    if d.get("message"):
        lines.append(f"log: {d['message']}")
    if d.get("error"):
        lines.append(f"error: {d['error']}")
    if d.get("since"):
        lines.append(f"since: {d['since']}")
    for entry in (incident.get("evidence") or [])[-5:]:
        lines.append(f"{entry.get('log', 'log')} #{entry.get('id')}: {entry.get('message')}")
    children = incident.get("children") or []
    if children:
        lines.append(f"{len(children)} related symptom(s): "
                     + "; ".join(str(c.get("summary")) for c in children[:6])
                     + (" ..." if len(children) > 6 else ""))
    return lines


def title(event: str, incident: Mapping[str, Any]) -> str:
    sev = str(incident.get("severity", "")).upper()
    if incident.get("digest"):
        return f"[dcops {VERB.get(event, event.upper())} {sev}] {incident.get('summary')}"
    number = f"#{incident.get('id')} " if incident.get("id") is not None else ""
    return f"[dcops {VERB.get(event, event.upper())} {sev}] {number}{incident.get('host')}: {incident.get('summary')}"


def as_json(event: str, incident: Mapping[str, Any]) -> dict[str, Any]:
    return {"version": 1, "source": "dcops", "event": event, "title": title(event, incident),
            "incident": dict(incident)}


def as_text(event: str, incident: Mapping[str, Any]) -> str:
    if incident.get("digest"):
        return "\n".join([title(event, incident), "", *digest_lines(incident)])
    lines = [title(event, incident), "",
             f"host: {incident.get('host')}  ({where(incident)})",
             f"part: {part_line(incident)}",
             warranty_line(incident),
             f"opened: {incident.get('opened_at')}  tier: {incident.get('tier')}"
             + (f"  acked by {incident.get('acked_by')}" if incident.get("acked_by") else "")
             + (f": {incident.get('ack_note')}" if incident.get("ack_note") else "")]
    if incident.get("resolved_at"):
        lines.append(f"resolved: {incident['resolved_at']} by {incident.get('resolved_by') or 'patrol'}")
    lines += ["", *diagnosis_lines(incident)]
    if incident.get("id") is not None:  # warranty reminders are not incidents: nothing to ack
        lines += ["", f"dcops alerts show {incident.get('id')}   |   dcops alerts ack {incident.get('id')}"]
    return "\n".join(lines)


def sms_text(event: str, incident: Mapping[str, Any]) -> str:
    """A text message: what, where, which part; short (one SMS is 70 CJK / 160 Latin characters,
    gateways split longer ones)."""
    if incident.get("digest"):
        return f"[dcops] {incident.get('summary')}"[:300]
    info = incident.get("info") or {}
    bits = [f"[dcops {VERB.get(event, event.upper())} {str(incident.get('severity', '')).upper()}]",
            f"{incident.get('host')} {where(incident)}:", str(incident.get("summary") or "")]
    if info.get("serial"):
        bits.append(f"S/N {info['serial']}")
    if incident.get("id") is not None:
        bits.append(f"#{incident['id']}")
    return " ".join(bits)[:300]


def digest_lines(incident: Mapping[str, Any]) -> list[str]:
    """One line per warranty of a digest: host, where, end date, days, contract, provider."""
    lines = []
    for item in incident.get("digest") or []:
        left = item.get("days_left")
        state = f"expired {-left} days ago" if isinstance(left, int) and left < 0 else f"{left} days left"
        extra = ", ".join(str(item[k]) for k in ("contract", "service_provider", "supplier") if item.get(k))
        lines.append(f"{item.get('host')} ({'/'.join(str(item[k]) for k in ('site', 'rack') if item.get(k)) or '-'}): "
                     f"until {item.get('warranty_end')} ({state})" + (f", S/N {item['serial']}" if item.get("serial")
                                                                       else "") + (f", {extra}" if extra else ""))
    return lines


def as_markdown(event: str, incident: Mapping[str, Any]) -> str:
    mark = SEVERITY_MARK.get(str(incident.get("severity")), "")
    if incident.get("digest"):
        return "\n".join([f"### {mark} {incident.get('summary')}", *(f"- {line}" for line in digest_lines(incident)),
                          *([f"`{incident['hint']}`"] if incident.get("hint") else [])])
    lines = [f"### {mark} {VERB.get(event, event)} {str(incident.get('severity', '')).upper()} "
             + (f"#{incident.get('id')} " if incident.get("id") is not None else "") + f"{incident.get('host')}",
             f"**{incident.get('summary')}**",
             f"> location: {where(incident)}",
             f"> part: {part_line(incident)}",
             f"> {warranty_line(incident)}"]
    lines += [f"> {line}" for line in diagnosis_lines(incident)]
    if incident.get("id") is not None:
        lines.append(f"`dcops alerts ack {incident.get('id')}`")
    return "\n".join(lines)


def wecom_body(event: str, incident: Mapping[str, Any]) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": as_markdown(event, incident)}}


def dingtalk_body(event: str, incident: Mapping[str, Any]) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title(event, incident)[:64],
                                                "text": as_markdown(event, incident)}}


def alert_labels(incident: Mapping[str, Any]) -> dict[str, str]:
    loc = incident.get("location") or {}
    info = incident.get("info") or {}
    labels = {"alertname": ALERTNAMES.get(str(incident.get("condition")), "DcopsIncident"),
              "source": "dcops", "severity": str(incident.get("severity")), "host": str(incident.get("host")),
              "part_id": str(incident.get("part")), "component": str(info.get("kind") or ""),
              "condition": str(incident.get("condition")), "incident_id": str(incident.get("id"))}
    for key in ("site", "room", "rack", "az"):
        if loc.get(key):
            labels[key] = str(loc[key])
    return labels


def alertmanager_alert(incident: Mapping[str, Any], *, ends_at: dt.datetime | None,
                       generator_url: str | None = None) -> dict[str, Any]:
    """One element of ``POST /api/v2/alerts``. Identity (labels) never changes during an
    incident's life, so Alertmanager keeps one alert per incident across re-sends."""
    info = incident.get("info") or {}
    w = incident.get("warranty") or {}
    annotations = {"summary": str(incident.get("summary") or ""),
                   "description": as_text("opened", incident)[:4000], "location": where(incident),
                   "part": part_line(incident), "warranty": warranty_line(incident)}
    for key in ("serial", "model", "part_number", "firmware"):
        if info.get(key):
            annotations[key] = str(info[key])
    for key in ("end", "days_left", "contract", "service_provider"):
        if w.get(key) is not None:
            annotations[f"warranty_{key}"] = str(w[key])
    alert: dict[str, Any] = {"labels": alert_labels(incident), "annotations": annotations,
                             "startsAt": incident.get("opened_at")}
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    if generator_url:
        alert["generatorURL"] = generator_url
    return alert
