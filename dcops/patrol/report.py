"""The daily patrol report: coverage, incidents with time to detect and to resolve, top faulty
parts, warranties running out, by site/room/rack. ``build_report`` reads the store and the book;
the renderers are pure (Markdown for chat and tickets, HTML for mail)."""

from __future__ import annotations

import datetime as dt
import html
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dcops.models import Host
from dcops.patrol.model import Incident, parse_time


def _earliest_sign(incident: Incident) -> dt.datetime:
    """When the fault first showed: first bad round, or an earlier log entry about it."""
    times = [incident.first_seen_at]
    for entry in incident.evidence:
        created = entry.get("created")
        try:
            when = parse_time(created) if created else None
        except ValueError:
            when = None
        if when is not None and incident.opened_at - when < dt.timedelta(days=1):
            times.append(when)
    return min(times)


def _minutes(delta: dt.timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 60, 1)


def build_report(store: Any, hosts: Sequence[Host], since: dt.datetime, now: dt.datetime, *,
                 stale_after: float = 600.0,
                 keep: Callable[[str | None, Mapping[str, Any]], bool] | None = None) -> dict[str, Any]:
    """Read what the report needs from the store; ``report_data`` does the rest (pure).
    ``keep(host, location)`` narrows stored hosts and incidents (--limit)."""
    from dcops.patrol import store as pstore

    rows = pstore.host_rows(store)
    if keep is not None:
        rows = {n: r for n, r in rows.items() if keep(n, {})}
    rounds = pstore.rounds_since(store, since)
    incidents = [i for i in pstore.list_incidents(store, status=None, since=since, limit=100_000)
                 if (i.opened_at >= since or (i.resolved_at and i.resolved_at >= since) or i.is_open)
                 and (keep is None or keep(i.host, i.location))]
    data = report_data(rows, hosts, rounds, incidents, since, now, stale_after=stale_after)
    data["summary"]["workers"] = worker_figures(rounds, rows, now)
    return data


def _stats(values: Sequence[float]) -> tuple[float | None, float | None]:
    """(median, mean) rounded to a tenth, or (None, None)."""
    if not values:
        return None, None
    return round(statistics.median(values), 1), round(statistics.mean(values), 1)


def report_data(rows: dict[str, dict[str, Any]], hosts: Sequence[Host], rounds: Sequence[dict[str, Any]],
                incidents: Sequence[Incident], since: dt.datetime, now: dt.datetime, *,
                stale_after: float = 600.0) -> dict[str, Any]:
    """The report as data: coverage, incidents (each with time to detect and to resolve), the same
    figures by root cause (condition and part kind), top faulty parts, warranties ending within 90
    days and, apart, those already expired. Pure."""
    book = {h.name: h for h in hosts}
    names = set(book) or set(rows)
    reachable = {n for n in names if (rows.get(n) or {}).get("reachable")}
    unreachable = {n for n in names if n in rows and not rows[n].get("reachable")}
    stale = {n for n in names if n in rows and (rows[n].get("last_success_at") is None
             or (now - rows[n]["last_success_at"]).total_seconds() > stale_after)}
    never = names - set(rows)
    items: list[dict[str, Any]] = []
    for i in sorted(incidents, key=lambda x: x.opened_at):
        detect = i.opened_at - _earliest_sign(i)
        resolve = (i.resolved_at - i.opened_at) if i.resolved_at else None
        loc = i.location
        items.append({"id": i.id, "severity": i.severity.value, "condition": i.condition.value, "host": i.host,
                      "site": loc.get("site"), "room": loc.get("room"), "rack": loc.get("rack"), "u": loc.get("u"),
                      "part": f"{i.info.kind} {i.info.location or ''}".strip(), "kind": i.info.kind,
                      "model": i.info.model, "serial": i.info.serial, "summary": i.summary, "status": i.status.value,
                      "opened_at": i.opened_at.isoformat(), "resolved_at": i.resolved_at.isoformat()
                      if i.resolved_at else None, "detect_minutes": _minutes(detect),
                      "resolve_minutes": _minutes(resolve), "symptoms": len(i.children),
                      "flapping": bool(i.diagnosis.get("flapped_since") or i.diagnosis.get("flapping")),
                      "acked_by": i.acked_by, "warranty_end": i.warranty.get("end")})
    opened = [x for x in items if (parse_time(x["opened_at"]) or now) >= since]
    closed = [x for x in items if x["resolved_at"] and (parse_time(x["resolved_at"]) or now) >= since]
    causes: dict[tuple[str, str], dict[str, Any]] = {}
    for x in items:
        group = causes.setdefault((x["condition"], x["kind"]), {"condition": x["condition"], "kind": x["kind"],
                                                                "incidents": 0, "open": 0, "symptoms": 0,
                                                                "flapping": 0, "_detect": [], "_resolve": []})
        group["incidents"] += 1
        group["open"] += x["status"] == "open"
        group["symptoms"] += x["symptoms"]
        group["flapping"] += x["flapping"]
        if x["detect_minutes"] is not None:
            group["_detect"].append(float(x["detect_minutes"]))
        if x["resolve_minutes"] is not None:
            group["_resolve"].append(float(x["resolve_minutes"]))
    by_cause = []
    for cause in sorted(causes.values(), key=lambda e: (-e["incidents"], e["condition"], e["kind"])):
        detect, resolve = cause.pop("_detect"), cause.pop("_resolve")
        cause["mttd_minutes"], cause["mttr_minutes"] = _stats(detect)[1], _stats(resolve)[1]
        by_cause.append(cause)
    parts = Counter((i.info.kind, i.info.model or "?") for i in incidents
                    if i.info.kind not in ("rack", "bmc", "system", "condition"))
    warranty: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    for h in hosts:
        left = h.asset.warranty_days_left(now.date())
        if left is not None and left <= 90:
            # Expired and expiring apart: one needs a renewal decision, the other a spare bought.
            (expired if left < 0 else warranty).append({
                "host": h.name, "site": h.location.site, "room": h.location.room, "rack": h.location.rack,
                "end": h.asset.warranty_end.isoformat() if h.asset.warranty_end else None, "days_left": left,
                "contract": h.asset.contract, "service_provider": h.asset.service_provider})
    warranty.sort(key=lambda w: w["days_left"])
    expired.sort(key=lambda w: w["days_left"])
    severities = ("emergency", "critical", "warning", "info")
    by_severity = {sev: {"opened": sum(1 for x in opened if x["severity"] == sev),
                         "open": sum(1 for i in incidents if i.is_open and i.severity.value == sev)}
                   for sev in severities}
    by_role = _breakdown(book, names, unreachable, items, lambda h: h.role)
    by_use = _breakdown(book, names, unreachable, items, lambda h: h.asset.use)
    by_place: dict[str, dict[str, int]] = {}
    for name in names:
        entry = book.get(name)
        key = "/".join(x for x in ((entry.location.site, entry.location.room, entry.location.rack)
                                   if entry else ()) if x) or "?"
        place = by_place.setdefault(key, {"hosts": 0, "unreachable": 0, "incidents": 0})
        place["hosts"] += 1
        place["unreachable"] += name in unreachable
    for x in items:
        key = "/".join(str(x[k]) for k in ("site", "room", "rack") if x.get(k)) or "?"
        by_place.setdefault(key, {"hosts": 0, "unreachable": 0, "incidents": 0})["incidents"] += 1
    detect_median, detect_mean = _stats([float(x["detect_minutes"]) for x in opened if x["detect_minutes"] is not None])
    resolve_median, resolve_mean = _stats([float(x["resolve_minutes"]) for x in closed
                                           if x["resolve_minutes"] is not None])
    summary = {
        "since": since.isoformat(), "until": now.isoformat(), "hosts": len(names), "patrolled": len(names - never),
        "reachable": len(reachable), "unreachable": len(unreachable), "stale": len(stale), "never_patrolled": len(never),
        "rounds": len(rounds), "avg_round_seconds": round(statistics.mean(r["duration_seconds"] or 0 for r in rounds), 2)
        if rounds else None, "incidents_opened": len(opened), "incidents_resolved": len(closed),
        "incidents_open": sum(1 for i in incidents if i.is_open), "root_causes": len(by_cause),
        "symptoms_folded": sum(x["symptoms"] for x in items), "flapping": sum(1 for x in items if x["flapping"]),
        "median_detect_minutes": detect_median, "mttd_minutes": detect_mean,
        "median_resolve_minutes": resolve_median, "mttr_minutes": resolve_mean,
        "warranty_expired": len(expired),
        "warranty_expiring_90d": len(warranty), "warranty_expiring_30d": sum(1 for w in warranty if w["days_left"] <= 30),
        "incidents_by_severity": by_severity,
    }
    return {"summary": summary, "incidents": items, "by_root_cause": by_cause,
            "top_parts": [{"kind": k, "model": m, "incidents": n} for (k, m), n in parts.most_common(10)],
            "warranty": warranty, "warranty_expired": expired, "by_place": dict(sorted(by_place.items())),
            "by_role": by_role, "by_use": by_use,
            "unreachable_hosts": sorted(unreachable), "stale_hosts": sorted(stale)}


def _breakdown(book: Mapping[str, Host], names: set[str], unreachable: set[str], items: Sequence[Mapping[str, Any]],
               key: Callable[[Host], str | None]) -> dict[str, dict[str, int]]:
    """hosts, unreachable and incidents per value of ``key`` (role, business use); ``?`` when unset."""
    out: dict[str, dict[str, int]] = {}
    for name in names:
        entry = book.get(name)
        group = out.setdefault((key(entry) if entry else None) or "?", {"hosts": 0, "unreachable": 0, "incidents": 0})
        group["hosts"] += 1
        group["unreachable"] += name in unreachable
    for x in items:
        entry = book.get(x["host"]) if x.get("host") else None
        if entry is not None:
            out.setdefault(key(entry) or "?", {"hosts": 0, "unreachable": 0, "incidents": 0})["incidents"] += 1
    return dict(sorted(out.items()))


def _figure(value: Any, unit: str = "") -> str:
    """A figure for prose: never "None"."""
    if value is None:
        return "n/a"
    return f"{value}{unit}"


def _cut(text: Any, width: int) -> Any:
    return text if not isinstance(text, str) or len(text) <= width else text[: width - 1] + "…"


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return "-" if v is None or v == "" else str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


def worker_figures(rounds: Sequence[Mapping[str, Any]], rows: Mapping[str, Mapping[str, Any]],
                   now: dt.datetime) -> list[dict[str, Any]]:
    """Per patrol worker (``dcops serve --worker``), from the period's rounds: rounds run, hosts in
    its last round, hosts it read last (``patrol_hosts.worker``), seconds since its last round
    ended, average round. Empty when no round was a worker's (one ``dcops serve``). Pure."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(rounds, key=lambda r: r["started_at"]):
        name = r.get("worker")
        if not name:
            continue
        w = out.setdefault(name, {"worker": name, "rounds": 0, "hosts": 0, "hosts_read_last": 0,
                                  "last_round_at": None, "last_round_age_seconds": None, "_durations": []})
        w["rounds"] += 1
        w["hosts"] = int(r.get("hosts") or 0)
        end = r.get("finished_at") or r["started_at"]
        w["last_round_at"] = end.isoformat()
        w["last_round_age_seconds"] = round(max(0.0, (now - end).total_seconds()), 1)
        if r.get("duration_seconds") is not None:
            w["_durations"].append(float(r["duration_seconds"]))
    for row in rows.values():
        name = row.get("worker")
        if name in out:
            out[name]["hosts_read_last"] += 1
    for w in out.values():
        durations = w.pop("_durations")
        w["avg_round_seconds"] = round(statistics.mean(durations), 2) if durations else None
    return [out[k] for k in sorted(out)]


def render_markdown(data: dict[str, Any]) -> str:
    s = data["summary"]
    severity = s.get("incidents_by_severity") or {}
    lines = [f"# dcops patrol report {s['since'][:16]} – {s['until'][:16]} UTC", "",
             "## Coverage", "",
             f"{s['patrolled']}/{s['hosts']} BMCs patrolled in {s['rounds']} rounds "
             f"(average round {_figure(s['avg_round_seconds'], ' s')}); {s['reachable']} answering, "
             f"{s['unreachable']} unreachable, {s['stale']} stale, {s['never_patrolled']} never patrolled.", "",
             *_workers_md(s.get("workers") or []),
             "## Incidents", "",
             f"{s['incidents_opened']} opened, {s['incidents_resolved']} resolved, {s['incidents_open']} open; "
             f"time to detect {_figure(s.get('mttd_minutes'), ' min')} mean "
             f"(median {_figure(s['median_detect_minutes'], ' min')}), to resolve "
             f"{_figure(s.get('mttr_minutes'), ' min')} mean (median {_figure(s['median_resolve_minutes'], ' min')}); "
             f"{_figure(s.get('symptoms_folded'))} symptoms folded into their incidents, "
             f"{_figure(s.get('flapping'))} flapping.", ""]
    lines += _md_table(["severity", "opened", "open now"],
                       [[sev, v["opened"], v["open"]] for sev, v in severity.items()])
    lines += [""]
    # Eight columns: the table stays readable in a terminal and a mail client (model and the times
    # to detect and resolve are in the JSON form).
    lines += _md_table(["#", "severity", "host", "where", "part", "serial", "summary", "status"],
                       [[x["id"], x["severity"], x["host"], "/".join(str(x[k]) for k in ("site", "room", "rack")
                                                                      if x.get(k)) + (f" U{x['u']}" if x.get("u") else ""),
                         x["part"], x["serial"], _cut(x["summary"], 60), x["status"]] for x in data["incidents"]])
    lines += ["", "## Incidents by root cause", ""]
    lines += _md_table(["condition", "part", "incidents", "open", "symptoms", "flapping", "MTTD min", "MTTR min"],
                       [[c["condition"], c["kind"], c["incidents"], c["open"], c["symptoms"], c["flapping"],
                         _figure(c["mttd_minutes"]), _figure(c["mttr_minutes"])] for c in data.get("by_root_cause") or []])
    lines += ["", "## Top faulty parts", ""]
    lines += _md_table(["part", "model", "incidents"], [[p["kind"], p["model"], p["incidents"]] for p in data["top_parts"]])
    expired = data.get("warranty_expired") or []
    lines += ["", f"## Warranty expired ({len(expired)})", ""]
    lines += _md_table(["host", "location", "ended", "days ago", "contract", "service provider"],
                       [[w["host"], "/".join(str(w[k]) for k in ("site", "room", "rack") if w.get(k)), w["end"],
                         -w["days_left"], w["contract"], w["service_provider"]] for w in expired])
    lines += ["", f"## Warranty expiring within 90 days ({s['warranty_expiring_90d']}, "
                  f"{s['warranty_expiring_30d']} within 30)", ""]
    lines += _md_table(["host", "location", "ends", "days left", "contract", "service provider"],
                       [[w["host"], "/".join(str(w[k]) for k in ("site", "room", "rack") if w.get(k)), w["end"],
                         w["days_left"], w["contract"], w["service_provider"]] for w in data["warranty"]])
    drills = data.get("drills") or []
    if drills:  # fault drills run in the period (dcops drill): how fast faults are detected and paged
        lines += ["", f"## Drills ({len(drills)}, {sum(1 for d in drills if d['passed'])} passed)", ""]
        lines += _md_table(["scenario", "mode", "started", "score", "result", "detect s", "first page s (tier)",
                            "why not passed"],
                           [[d["scenario"], d["mode"], d["started_at"], d["score"], "passed" if d["passed"] else "FAILED",
                             _figure(d["detect_seconds"]),
                             ", ".join(f"{v} ({t})" for t, v in sorted(d["notify_seconds"].items()) if v is not None),
                             _cut("; ".join(d["reasons"]), 60)] for d in drills])
    for title, key, first in (("By role", "by_role", "role"), ("By business use", "by_use", "use"),
                              ("By site/room/rack", "by_place", "place")):
        lines += ["", f"## {title}", ""]
        lines += _md_table([first, "hosts", "unreachable", "incidents"],
                           [[k, v["hosts"], v["unreachable"], v["incidents"]] for k, v in (data.get(key) or {}).items()])
    return "\n".join(lines) + "\n"


def _workers_md(workers: Sequence[Mapping[str, Any]]) -> list[str]:
    """Coverage by patrol worker (only when several workers share the store)."""
    if not workers:
        return []
    return [*_md_table(["worker", "rounds", "hosts (last round)", "hosts read last", "last round",
                        "avg round s"],
                       [[w["worker"], w["rounds"], w["hosts"], w["hosts_read_last"],
                         _figure(w["last_round_age_seconds"], " s ago"), _figure(w["avg_round_seconds"])]
                        for w in workers]), ""]


def render_html(data: dict[str, Any]) -> str:
    """The same content as the Markdown report, as one self-contained HTML page."""
    md = render_markdown(data)
    body: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        if not table:
            return
        head, rows = table[0], table[2:]
        body.append("<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr></thead><tbody>"
                    + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
                    + "</tbody></table>")
        table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            table.append([html.escape(c.strip().replace("\\|", "|")) for c in line.strip("|").split(" | ")])
            continue
        flush()
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.strip():
            body.append(f"<p>{html.escape(line)}</p>")
    flush()
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
             "padding:2px 6px;font-size:90%}th{background:#eee}")
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>dcops patrol report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")
