"""``dcops assets collect|show|history|reconcile|warranty|search``: the stocktake on the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any

import click

from dcops.cli.common import emit, global_options, open_state, progress, settings
from dcops.cli.selection import honours_limit, limit_hosts, refuses_limit
from dcops.errors import ExitCode, InvalidInputError, UsageError
from dcops.fileio import write_atomically
from dcops.models import Host
from dcops.report import Column, Report, jsonable


def _book(paths: tuple[str, ...] = ()) -> Any:
    from dcops.inventory import load_inventory

    chosen = list(paths) or list(settings().inventory)
    if not chosen:
        raise UsageError("no inventory given: use -i PATH or set DCOPS_INVENTORY")
    return load_inventory(chosen)


def _selected(book: Any, selectors: tuple[str, ...] = ()) -> list[Host]:
    hosts = book.select(list(selectors)) if selectors else list(book.hosts)
    return limit_hosts(hosts, book.hosts)


@click.group()
@global_options
def assets() -> None:
    """Asset management: collect over the BMCs, part history, reconcile with the book, warranty."""


# ------------------------------------------------------------------ collect


@assets.command()
@click.argument("selectors", nargs=-1, metavar="[SELECTOR]...")
@click.option("--deadline", type=click.FloatRange(1, 3600), default=120.0, show_default=True,
              help="Seconds one BMC may take for the whole read.")
@global_options
@honours_limit
def collect(selectors: tuple[str, ...], deadline: float) -> None:
    """Read every selected server's inventory over its BMC and store it as a snapshot.

    Redfish (IPMI FRU when the host's protocol is ipmi, or auto and Redfish fails): system,
    chassis, mainboard, CPUs, DIMMs, RAID controllers, drives, NICs, PSUs, GPUs, firmware and
    the rack placement the BMC reports. Parts that appeared, disappeared, were replaced or moved
    since the last collection are recorded (see `dcops assets history`). Exit 4 when some BMCs
    could not be read (the others are stored).
    """
    from dcops.assets import store as asset_store
    from dcops.assets.collect import Outcome, collect_fleet

    hosts = _selected(_book(), selectors)
    if not hosts:
        raise UsageError("no hosts selected")
    concurrency = settings().parallel or 200
    with progress(len(hosts), "collecting") as advance:
        def done(outcome: Outcome) -> None:
            advance(1, 0 if outcome.snapshot else 1)

        outcomes = collect_fleet(hosts, concurrency=concurrency, deadline=deadline, on_result=done)
    good = [o.snapshot for o in outcomes if o.snapshot is not None]
    failures = {o.host: o.error or "failed" for o in outcomes if o.snapshot is None}
    store = open_state()
    try:
        events = asset_store.save_collection(store, good, failures)
    finally:
        store.close()
    per_host: dict[str, int] = {}
    for event in events:
        per_host[event.host] = per_host.get(event.host, 0) + 1
    report = Report(kind="assets.collect", columns=[
        Column("host", "HOST"), Column("status", "STATUS"), Column("serial", "SERIAL"), Column("model", "MODEL"),
        Column("parts", "PARTS"), Column("placement", "BMC PLACEMENT"), Column("events", "EVENTS"),
        Column("seconds", "SECONDS")])
    for o in sorted(outcomes, key=lambda o: o.host):
        snap = o.snapshot
        report.items.append({
            "host": o.host, "status": "ok" if snap else "failed", "error": o.error,
            "serial": snap.serials().get("service_tag") or snap.serial if snap else None,
            "model": snap.model if snap else None, "parts": len(snap.parts) if snap else None,
            "placement": str(snap.placement) if snap and snap.placement else None,
            "events": per_host.get(o.host, 0), "seconds": round(o.seconds, 2), "requests": o.requests})
        if o.error:
            report.note(ExitCode.INCOMPLETE, f"error: {o.error}")
    report.summary = {"hosts": len(hosts), "collected": len(good), "failed": len(failures), "events": len(events)}
    emit(report)


# ------------------------------------------------------------------ show / history


@assets.command()
@click.argument("host", metavar="HOST")
@global_options
@refuses_limit("it shows one HOST: name it")
def show(host: str) -> None:
    """The parts of HOST as last collected: kind, slot, serial, model, firmware."""
    from dcops.assets import store as asset_store
    from dcops.assets.model import size_text

    store = open_state()
    try:
        found = asset_store.latest_snapshots(store, [host], full=True)
    finally:
        store.close()
    if not found:
        raise UsageError(f"no snapshot of {host!r}: run `dcops assets collect {host}` first")
    snap = found[0]
    items = [{"kind": p.kind.value, "slot": p.slot, "serial": p.serial or p.raw_serial, "model": p.model,
              "manufacturer": p.manufacturer, "part_number": p.part_number, "firmware": p.firmware,
              "size": size_text(p.capacity_bytes)} for p in snap.parts]
    emit(Report(kind="assets.show", items=items, title=f"{snap.host} collected {snap.taken_at.isoformat()}",
                columns=[Column("kind", "KIND"), Column("slot", "SLOT"), Column("serial", "SERIAL"),
                         Column("model", "MODEL"), Column("size", "SIZE"), Column("firmware", "FIRMWARE")],
                summary={"host": snap.host, "taken_at": snap.taken_at, "manufacturer": snap.manufacturer,
                         "model": snap.model, "serial": snap.serial, "board_serial": snap.board_serial,
                         "placement": str(snap.placement) if snap.placement else None, "parts": len(snap.parts)}))


@assets.command()
@click.argument("target", metavar="HOST|SERIAL")
@global_options
@refuses_limit("it shows one host or part: name it")
def history(target: str) -> None:
    """Part history of a server (what appeared, disappeared, was replaced, moved in or out) or of
    a part serial (where it has been and where it is now)."""
    from dcops.assets import store as asset_store

    store = open_state()
    try:
        known = {row["host"] for row in asset_store.host_status(store)}
        if target in known:
            events = asset_store.part_events(store, host=target)
            where: list[dict[str, Any]] = []
            what = "host"
        else:
            events = asset_store.part_events(store, serial=target)
            where = asset_store.where_is(store, target)
            what = "serial"
            if not events and not where:
                raise UsageError(f"{target!r} is neither a collected host nor a part serial seen by a collection")
    finally:
        store.close()
    items = [{**e.to_json(), "description": e.describe()} for e in events]
    text = None
    if where:
        text = "\n".join(f"{w['part_kind']} {w['serial']}: {'in' if w['present'] else 'last seen in'} {w['host']} "
                         f"{w['slot']} ({w['model'] or '?'}), last seen {w['last_seen'].isoformat()}" for w in where)
    emit(Report(kind="assets.history", items=items, text=text,
                columns=[Column("at", "WHEN"), Column("event", "EVENT"), Column("part_kind", "PART"),
                         Column("description", "WHAT")],
                summary={what: target, "events": len(items),
                         "now_in": [f"{w['host']} {w['slot']}" for w in where if w["present"]]}))


# ------------------------------------------------------------------ reconcile

RECONCILE_COLUMNS = [Column("kind", "KIND"), Column("host", "BOOK ROW"), Column("observed", "FOUND AS"),
                     Column("field", "FIELD"), Column("book", "BOOK"), Column("found", "BMC SAYS"),
                     Column("matched_by", "MATCHED BY"), Column("detail", "DETAIL")]
CSV_FIELDS = ["kind", "host", "observed", "field", "book", "found", "matched_by", "detail"]


@assets.command()
@click.option("--book", "book_paths", multiple=True, metavar="PATH",
              help="The book to reconcile (inventory files; repeatable). Default: the inventory (-i).")
@click.option("--profiles", "profiles_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Expected hardware per profile (docs/assets.md).")
@click.option("--baselines", "baselines_dir", metavar="DIR", type=click.Path(file_okay=False),
              help="Take expected hardware from the profiles of a baselines directory.")
@click.option("--csv", "csv_path", metavar="FILE", help="Also write the discrepancies as CSV ('-' for stdout only).")
@click.option("--write-book", "write_book", metavar="PATH",
              help="Write a corrected book for review (never the book itself).")
@click.option("--own", "own", multiple=True, metavar="FIELD=OWNER",
              help="Who owns a field in the corrected book: serial, vendor, model, location, asset_tag = "
                   "book|discovery (default: location and asset_tag book, the rest discovery).")
@click.option("--junk", multiple=True, metavar="SERIAL", help="One more placeholder serial never to match on.")
@click.option("--max-age", metavar="DURATION",
              help="Snapshots older than this (e.g. 30d) are reported as stale, not compared.")
@global_options
@honours_limit
def reconcile(book_paths: tuple[str, ...], profiles_path: str | None, baselines_dir: str | None,
              csv_path: str | None, write_book: str | None, own: tuple[str, ...], junk: tuple[str, ...],
              max_age: str | None) -> None:
    """Compare the book with the latest snapshots: rows not found, servers not in the book, serial /
    model / manufacturer / location / hardware differences and duplicate serials.

    Rows and servers are matched on several keys (serial, service tag, chassis and board serial,
    UUID, BMC MAC, BMC address, name); the key that decided each match is shown. With --max-age,
    older snapshots are listed as stale instead of compared. Exit 1 when there are discrepancies.
    """
    from dcops.assets import store as asset_store
    from dcops.assets.correct import parse_ownership
    from dcops.assets.profiles import expectations_from_baselines, load_profiles
    from dcops.assets.reconcile import book_entry
    from dcops.assets.reconcile import reconcile as run_reconcile
    from dcops.assets.warranty import parse_days

    ownership = parse_ownership(own)
    stale_before = None
    if max_age:
        days = parse_days(max_age)
        if days <= 0:
            raise UsageError(f"--max-age {max_age}: give a positive age, e.g. 30d")
        stale_before = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    book = _book(book_paths)
    hosts = _selected(book, ())
    profiles = {}
    if baselines_dir:
        profiles.update(expectations_from_baselines(baselines_dir))
    if profiles_path:
        profiles.update(load_profiles(profiles_path))
    store = open_state()
    try:
        snaps = asset_store.latest_snapshots(store)
        if settings().limit:
            names = {h.name for h in hosts}
            snaps = [s for s in snaps if s.host in names]
        if not snaps:
            raise UsageError("no snapshots in the state store: run `dcops assets collect` first")
        result = run_reconcile([book_entry(h) for h in hosts], snaps, profiles=profiles, extra_junk=junk,
                               stale_before=stale_before)
        items = [d.to_json() for d in result.discrepancies]
        asset_store.save_reconcile(store, result.counts(), result.summary(), items,
                                   book=", ".join(book_paths or tuple(settings().inventory)))
    finally:
        store.close()
    report = Report(kind="assets.reconcile", items=items, columns=RECONCILE_COLUMNS, summary=result.summary())
    if result.discrepancies:
        report.exit_code = ExitCode.FINDINGS
    if write_book:
        _write_corrected(book, hosts, result, {s.host: s for s in snaps}, ownership, write_book, report)
    if csv_path:
        text = _csv(items)
        if csv_path == "-":
            sys.stdout.write(text)
            raise SystemExit(int(report.exit_code))
        write_atomically(Path(csv_path), text)
    emit(report)


def _csv(items: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow({k: "" if item.get(k) is None else item.get(k) for k in CSV_FIELDS})
    return buffer.getvalue()


def _write_corrected(book: Any, hosts: list[Host], result: Any, snaps: dict[str, Any], ownership: dict[str, str],
                     path: str, report: Report) -> None:
    from dcops.assets.correct import correct_book
    from dcops.inventory import dump_inventory_text, load_inventory_text

    target = Path(path).resolve()
    sources = {Path(f).resolve() for f in book.files}
    if target in sources:
        raise UsageError(f"--write-book {path}: that is the book itself; write the corrected book elsewhere "
                         "and review the difference")
    corrected, corrections = correct_book(hosts, result, snaps, ownership=ownership)
    applied = [c for c in corrections if c.applied]
    header = (f"Corrected book written by `dcops assets reconcile` on {dt.date.today().isoformat()} for review.\n"
              f"{len(applied)} correction(s) applied (fields discovery owns); {len(corrections) - len(applied)} "
              "kept because the book owns the field.\n"
              + "\n".join(f"  {c.host}: {c.field}: {c.old} -> {c.new}" + ("" if c.applied else " (not applied)")
                          for c in corrections))
    text = None
    if len(book.files) == 1 and len(hosts) == len(book.hosts):
        # The whole book in one file: edit a copy of it in place, so the operators' comments,
        # order and layout survive; the corrections are listed on top.
        from dcops.inventory.roundtrip import rewrite_book

        edited = rewrite_book(Path(book.files[0]).read_text(encoding="utf-8"), path, list(book.hosts), corrected)
        if edited is not None:
            text = "".join(f"# {line}\n" for line in header.splitlines()) + edited
    if text is None:
        text = dump_inventory_text(corrected, racks=book.racks, header=header)
    try:
        load_inventory_text(text, path)  # prove the result validates before it goes anywhere
    except InvalidInputError as exc:
        raise InvalidInputError(f"--write-book {path}: the corrected book would not validate "
                                "(e.g. two servers in one U): fix those rows by hand first", exc.problems) from None
    write_atomically(target, text)
    report.summary["corrections"] = len(applied)
    report.summary["written"] = path


# ------------------------------------------------------------------ warranty


@assets.command()
@click.option("--within", default="90d", show_default=True, metavar="DURATION",
              help="Warranties ending within this are 'expiring' (e.g. 90d, 6m, 1y).")
@click.option("--all", "show_all", is_flag=True, help="List every server, not only expired and expiring ones.")
@click.option("--by", type=click.Choice(["host", "contract"]), default="host", show_default=True,
              help="One line per server, or per supplier and contract.")
@click.option("--remind", is_flag=True,
              help="Send the reminders due at the thresholds (once per threshold and warranty end).")
@click.option("--thresholds", default="90d,30d,7d,0d", show_default=True, metavar="LIST",
              help="Reminder thresholds in days left.")
@click.option("--today", "today_text", metavar="YYYY-MM-DD", hidden=True)
@global_options
@honours_limit
def warranty(within: str, show_all: bool, by: str, remind: bool, thresholds: str, today_text: str | None) -> None:
    """Days of warranty left per server (from the book), grouped by supplier and contract; exit 1
    when some have expired or end within --within."""
    from dcops.assets.warranty import (
        WarrantyStatus,
        group_rows,
        parse_days,
        parse_thresholds,
        warranty_rows,
    )

    window = parse_days(within)
    levels = parse_thresholds(thresholds)
    today = dt.date.fromisoformat(today_text) if today_text else dt.date.today()
    hosts = _selected(_book(), ())
    rows = warranty_rows(hosts, today, within=window)
    shown = rows if show_all else [r for r in rows if r.status in (WarrantyStatus.EXPIRED, WarrantyStatus.EXPIRING)]
    groups = group_rows(rows)
    report = Report(kind="assets.warranty")
    if by == "contract":
        report.items = [g.to_json() for g in groups if show_all or g.expired or g.expiring]
        report.columns = [Column("supplier", "SUPPLIER"), Column("contract", "CONTRACT"), Column("hosts", "HOSTS"),
                          Column("expired", "EXPIRED"), Column("expiring", "EXPIRING"),
                          Column("first_end", "FIRST END"), Column("min_days_left", "DAYS LEFT")]
    else:
        report.items = [r.to_json() for r in shown]
        report.columns = [Column("host", "HOST"), Column("days_left", "DAYS LEFT"), Column("warranty_end", "ENDS"),
                          Column("status", "STATUS"), Column("supplier", "SUPPLIER"), Column("contract", "CONTRACT"),
                          Column("service_provider", "SERVICE"), Column("serial", "SERIAL")]
    counts = {s.value: sum(r.status is s for r in rows) for s in WarrantyStatus}
    report.summary = {"hosts": len(rows), **counts, "within_days": window, "today": today.isoformat()}
    if counts["expired"] or counts["expiring"]:
        report.exit_code = ExitCode.FINDINGS
    if remind:
        _remind(report, hosts, today, window, levels)
    emit(report)


def _remind(report: Report, hosts: list[Host], today: dt.date, window: int, levels: tuple[int, ...]) -> None:
    """Queue the reminders due (recorded as sent, once per threshold and warranty end) in the
    notification outbox, then deliver every queued one: also those an interrupted or failed
    earlier run left behind. (``dcops serve`` runs the same pass daily: dcops/assets/digest.py.)"""
    from dcops.assets.digest import remind
    from dcops.notify.config import load_notify_config

    config = load_notify_config(settings().section("notify"))
    now = dt.datetime.now(dt.UTC)
    store = open_state()
    try:
        result = remind(store, hosts, levels, config, now, today, within=window)
    finally:
        store.close()
    due, channels, delivery = result.due, result.channels, result.delivery
    for problem in delivery.problems:
        report.note(ExitCode.INCOMPLETE, f"error: {problem}")
    listed = [r.to_json() for r in due if channels[r.key] == "report"]  # no receiver: the report is the reminder
    sent = listed + delivery.delivered
    report.summary.update({
        "reminders_due": len(due), "reminders_sent": len(sent), "notifications_sent": delivery.notifications,
        "notifications_pending": delivery.pending, "notifications_given_up": delivery.given_up,
        "channel": ",".join(sorted({n for c in channels.values() for n in c.split(",")})) or "none"})
    report.text = "\n".join(str(r.get("message")) for r in sent) or None


# ------------------------------------------------------------------ search


@assets.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit-results", "-n", type=click.IntRange(1, None), default=20, show_default=True)
@click.option("--min-score", type=click.FloatRange(0, 100), default=75.0, show_default=True)
@global_options
@honours_limit
def search(query: tuple[str, ...], limit_results: int, min_score: float) -> None:
    """`dcops inventory search` that also knows part serials (DIMMs, drives, ...), mainboard and
    chassis serials and UUIDs from the last collection: find the server holding DIMM serial X."""
    from dcops.assets.search import part_search_records
    from dcops.inventory.search import SearchIndex

    hosts = _selected(_book(), ())
    store = open_state()
    try:
        extra = part_search_records(store)
    finally:
        store.close()
    text = " ".join(query)
    hits = SearchIndex(hosts, extra=extra).search(text, min_score=min_score, limit=limit_results)
    items = [{"score": h.score, "name": h.host.name, "matched": h.describe(), "fields": list(h.fields),
              "place": str(h.host.location) or None, "model": h.host.model, "serial": h.host.asset.serial}
             for h in hits]
    emit(Report(kind="assets.search", items=jsonable(items),
                columns=[Column("score", "SCORE"), Column("name", "NAME"), Column("matched", "MATCHED"),
                         Column("place", "LOCATION"), Column("model", "MODEL"), Column("serial", "SERIAL")],
                summary={"query": text, "results": len(items), "min_score": min_score}))
