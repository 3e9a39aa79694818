"""``dcops inventory validate|list|show|search|import``: the book of servers on the command line."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click

from dcops.cli.bookwrite import book_text
from dcops.cli.common import emit, global_options, settings
from dcops.cli.selection import honours_limit, limit_hosts, refuses_limit, warn_unmatched
from dcops.errors import InvalidInputError, UsageError
from dcops.fileio import write_atomically
from dcops.inventory import Inventory, load_inventory, load_inventory_text, parse_selectors, read_inventory
from dcops.inventory.schema import PATHS, flatten_host, mask_password
from dcops.inventory.search import DEFAULT_MIN_SCORE, SearchIndex
from dcops.models import Host
from dcops.report import Column, Report, jsonable
from dcops.secrets import redact

NO_INVENTORY = "no inventory given: use -i PATH or set DCOPS_INVENTORY"


def inventory_paths(given: tuple[str, ...] = ()) -> list[str]:
    """The paths to load: those given on the command line, else the settings' inventory.
    Raises ``UsageError`` when there are none."""
    paths = list(given) or list(settings().inventory)
    if not paths:
        raise UsageError(NO_INVENTORY)
    return paths


def load_book(given: tuple[str, ...] = ()) -> Inventory:
    """Load the inventory named on the command line or in the settings (raises on problems)."""
    return load_inventory(inventory_paths(given))


def host_item(host: Host) -> dict[str, Any]:
    """A host as a JSON-able item: every field, plus display fields for the table."""
    item: dict[str, Any] = jsonable(host)
    item["bmc"]["password_ref"] = mask_password(host.bmc.password_ref)
    item["source"] = str(host.source)
    item["bmc_url"] = host.bmc.url()
    item["protocol"] = host.bmc.protocol.value
    item["place"] = str(host.location) or None
    item["serial"] = host.asset.serial
    item["warranty_end"] = host.asset.warranty_end
    return item


@click.group()
@global_options
def inventory() -> None:
    """Check, list, show, search and import the book of servers (inventories/*.yaml)."""


@inventory.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@global_options
def validate(paths: tuple[str, ...]) -> None:
    """Check inventory files: exit 0 when valid, 3 with every problem (FILE:LINE) when not."""
    book, problems, warnings = read_inventory(inventory_paths(paths))
    for warning in warnings if problems else ():
        click.echo(f"dcops: warning: {warning}", err=True)
    if problems or book is None:
        files = sorted({p.file for p in problems})
        raise InvalidInputError(f"inventory is invalid: {len(problems)} problem(s) in {', '.join(files)}", problems)
    per_file: dict[str, int] = dict.fromkeys(book.files, 0)
    for host in book.hosts:
        per_file[host.source.file] = per_file.get(host.source.file, 0) + 1
    report = Report(
        kind="inventory.validate",
        items=[{"file": file, "hosts": count} for file, count in per_file.items()],
        columns=[Column("file", "FILE"), Column("hosts", "HOSTS")],
        summary={"valid": True, "files": len(book.files), "hosts": len(book.hosts), "racks": len(book.racks),
                 "warnings": len(warnings)},
        problems=[f"warning: {w}" for w in warnings],
        title=f"inventory is valid: {len(book.hosts)} hosts, {len(book.racks)} racks, {len(book.files)} file(s)",
    )
    emit(report)


@inventory.command(name="list")
@click.argument("selectors", nargs=-1, metavar="[SELECTOR]...")
@global_options
@honours_limit
def list_hosts(selectors: tuple[str, ...]) -> None:
    """List hosts, all or those matching SELECTORs (and --limit).

    \b
    A SELECTOR is an Ansible-style host pattern: terms joined by ',' or ':' (either),
    ':&' (and) or ':!' (but not); a term is a name, glob (trade-*), ~regex, all, or
    key=value with key one of name, rack, room, site, az, role, tag, profile, vendor,
    model (values may be globs). Several SELECTORs = or.
    Example: dcops inventory list 'rack=A0*:&role=db:!tag=canary' web-01
    """
    book = load_book()
    hosts = book.select(list(selectors)) if selectors else list(book.hosts)
    if selectors:
        warn_unmatched(parse_selectors(list(selectors)), book.hosts)
    hosts = limit_hosts(hosts, book.hosts)
    emit(Report(
        kind="inventory.list",
        items=[host_item(h) for h in hosts],
        columns=[Column("name", "NAME"), Column("bmc_url", "BMC"), Column("protocol", "PROTOCOL"),
                 Column("place", "LOCATION"), Column("az", "AZ"), Column("role", "ROLE"), Column("model", "MODEL"),
                 Column("serial", "SERIAL"), Column("warranty_end", "WARRANTY END")],
        summary={"hosts": len(hosts), "total": len(book.hosts)},
    ))


def _field_rows(book: Inventory, host: Host) -> list[dict[str, Any]]:
    values = flatten_host(host, keep_defaults=True)
    origins = book.origins(host.name)
    rows = []
    # The fixed fields, then the host's networks (`networks.<name>`: their names are the book's).
    for path in [*PATHS, *(p for p in values if p.startswith("networks."))]:
        value = values.get(path)
        if path == "bmc.password":
            value = mask_password(value)
        origin = origins.get(path)
        rows.append({
            "field": path,
            "value": jsonable(value),
            "source": str(origin.source) if origin else None,
            "level": origin.level if origin else "default",
            "inherited": origin.inherited if origin else True,
        })
    return rows


@inventory.command()
@click.argument("name", metavar="HOST")
@global_options
@refuses_limit("it shows one HOST: name it")
def show(name: str) -> None:
    """Show every field of HOST, where it was defined (FILE:LINE) and what was inherited."""
    book = load_book()
    host = book.get(name)
    emit(Report(
        kind="inventory.show",
        items=_field_rows(book, host),
        columns=[Column("field", "FIELD"), Column("value", "VALUE"), Column("level", "FROM"),
                 Column("source", "DEFINED AT")],
        summary={"host": host.name, "defined_at": str(host.source)},
        title=f"{host.name} ({host.source})",
    ))


@inventory.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit-results", "-n", type=click.IntRange(1, None), default=20, show_default=True,
              help="Show at most this many hosts.")
@click.option("--min-score", type=click.FloatRange(0, 100), default=DEFAULT_MIN_SCORE, show_default=True,
              help="Every word of the query must match some field at least this well (0-100).")
@global_options
@honours_limit
def search(query: tuple[str, ...], limit_results: int, min_score: float) -> None:
    """Find hosts by name, serial, asset tag, BMC address, vendor, model or location, with typos,
    and by the serial of any part collected over the BMCs (dcops assets collect).

    \b
    Example: dcops inventory search r750 a03   (Dell R750s in rack A03; "r75o a3" works too)
    """
    book = load_book()
    hosts = limit_hosts(book.hosts)
    text = " ".join(query)
    hits = SearchIndex(hosts, extra=_part_serials()).search(text, min_score=min_score, limit=limit_results)
    items = []
    for hit in hits:
        host = hit.host
        items.append({
            "score": hit.score, "name": host.name, "matched": hit.describe(), "fields": list(hit.fields),
            "place": str(host.location) or None, "model": host.model, "serial": host.asset.serial,
            "bmc_url": host.bmc.url(),
            "matches": [{"token": m.token, "score": m.score, "fields": list(m.fields), "value": m.value}
                        for m in hit.matches],
        })
    emit(Report(
        kind="inventory.search",
        items=items,
        columns=[Column("score", "SCORE"), Column("name", "NAME"), Column("matched", "MATCHED"),
                 Column("place", "LOCATION"), Column("model", "MODEL"), Column("serial", "SERIAL")],
        summary={"query": text, "results": len(items), "min_score": min_score},
    ))


def _part_serials() -> list[tuple[str, str, str]]:
    """Serials of the parts last collected over the BMCs (``dcops assets collect``), so a search
    finds the server holding DIMM or drive serial X. Empty when nothing was collected."""
    from dcops.assets.search import part_search_records
    from dcops.cli.common import open_state

    store = open_state()
    try:
        return part_search_records(store)
    finally:
        store.close()


@inventory.command(name="ansible")
@click.option("--list", "list_all", is_flag=True, help="Every host and group (the default).")
@click.option("--host", "host_name", metavar="HOST", help="One host's variables (the script protocol's --host).")
@click.option("--script", is_flag=True,
              help="Answer in the dynamic-inventory script protocol (groups with host lists and _meta), "
                   "for an executable wrapper given to ansible -i; default: Ansible's YAML inventory "
                   "structure, what ansible-inventory -i FILE and -i <(...) read.")
@global_options
@honours_limit
def ansible_inventory(list_all: bool, host_name: str | None, script: bool) -> None:
    """The book (or --limit) as an Ansible inventory, in JSON on stdout.

    \b
    Groups: site_<site> > room_<site>_<room> > rack_<site>_<room>_<rack>, and role_<role>,
    tag_<tag>, az_<az>; host variables dcops_bmc_address, dcops_rack, dcops_role, ... (never a
    password). Examples:
      ansible-inventory -i <(dcops -i site.yaml inventory ansible --list) --graph
      ansible -i <(dcops -i site.yaml inventory ansible) 'rack_sh1_r101_A01:&role_db' -m ping
    """
    import json

    from dcops.inventory.ansible_export import host_vars, script_inventory, yaml_inventory

    if list_all and host_name:
        raise UsageError("--list and --host: give one")
    book = load_book()
    hosts = limit_hosts(book.hosts)
    if host_name:
        body: Any = host_vars(book.get(host_name))
    else:
        body = script_inventory(hosts) if script else yaml_inventory(hosts)
    click.echo(redact(json.dumps(body, indent=2, ensure_ascii=False)))


SHIPPED_MAPPINGS = {"netbox": "netbox-devices.yaml"}


@inventory.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["netbox"]), default="netbox", show_default=True,
              help="netbox: NetBox's device bulk-import CSV (Devices > Import).")
@click.option("--out", "out", default="-", show_default=True, metavar="FILE", help="Where to write (- for stdout).")
@global_options
@honours_limit
def export_book(fmt: str, out: str) -> None:
    """The book (or --limit) in another tool's format. NetBox: the columns of its device import,
    with the BMC address, protocol, AZ and profile as custom fields (cf_bmc_address, cf_bmc_protocol,
    cf_az, cf_dcops_profile; create them in NetBox first). Read it back with
    `dcops inventory import FILE --mapping netbox`."""
    from dcops.inventory.netbox import netbox_csv

    book = load_book()
    text = netbox_csv(limit_hosts(book.hosts))
    if out == "-":
        click.echo(text, nl=False)
    else:
        write_atomically(Path(out), text)
        click.echo(f"dcops: wrote {out}: {text.count(chr(10)) - 1} device(s)", err=True)


@inventory.command(name="import")
@click.argument("book_path", metavar="BOOK", type=click.Path(dir_okay=False))
@click.option("--mapping", "mapping_path", required=True, type=click.Path(dir_okay=False), metavar="MAP.yaml",
              help="How the book's columns become host fields (see docs/inventory.md); `netbox` for a NetBox "
                   "device CSV (shipped mapping).")
@click.option("--into", "into", type=click.Path(dir_okay=False), metavar="PATH",
              help="The inventory file to merge into (its hosts not in the book are kept).")
@click.option("--write/--dry-run", default=False,
              help="Write the merged inventory to --into (stdout without it); default: show the diff only.")
@global_options
def import_book(book_path: str, mapping_path: str, into: str | None, write: bool) -> None:
    """Import a legacy asset book (CSV or XLSX) into the inventory format.

    By default (--dry-run) shows what would change: hosts added, fields changed (old -> new),
    hosts only in the target; nothing is written. With --write, writes the merged inventory and
    re-loads it to prove it validates: an existing --into file is edited in place (its comments,
    order and layout kept) unless a host moves between racks or loses an inherited value.
    """
    from dcops.inventory.dump import dump_inventory_text
    from dcops.inventory.importer import convert_rows, plan_import, render_plan
    from dcops.inventory.mapping import load_mapping
    from dcops.inventory.tabular import book_format, read_table

    if mapping_path in SHIPPED_MAPPINGS:
        mapping_path = str(Path(__file__).resolve().parents[1] / "inventory" / "mappings" / SHIPPED_MAPPINGS[mapping_path])
    mapping = load_mapping(mapping_path)
    table = read_table(book_path, mapping)
    rows = convert_rows(table, mapping, xlsx=book_format(Path(book_path), mapping) == "xlsx")
    if rows.problems:
        raise InvalidInputError(f"{book_path}: {len(rows.problems)} problem(s)", rows.problems)
    target = load_inventory(into) if into and Path(into).exists() else Inventory(())
    plan = plan_import(rows.hosts, target.hosts, match_by=mapping.match_by, racks=target.racks)
    if plan.problems:
        raise InvalidInputError(f"{book_path}: {len(plan.problems)} problem(s)", plan.problems)
    _warn_commands(plan.hosts)
    header = (f"Written by `dcops inventory import {book_path} --mapping {mapping_path}`.\n"
              "Edit freely: a later import edits the changed hosts in place and keeps comments.")
    text = book_text(Path(into) if into else None, target.hosts, plan.hosts,
                     lambda: dump_inventory_text(plan.hosts, racks=target.racks, header=header))
    load_inventory_text(text, into or "<stdout>")  # prove the result validates before it goes anywhere
    summary = {
        "book": book_path, "rows": rows.rows, "skipped": len(rows.skipped), "added": plan.count("add"),
        "changed": plan.count("change"), "unchanged": plan.count("same"), "kept": plan.count("keep"),
        "dry_run": not write, "written": into if write and into else None,
    }
    if write and not into:
        click.echo(text, nl=False)
        click.echo(f"dcops: imported {summary['added']} new and {summary['changed']} changed host(s) to stdout",
                   err=True)
        raise SystemExit(0)
    if write and into:
        _write_audited(plan, book_path, into, text)
    emit(Report(
        kind="inventory.import",
        items=[{"name": c.name, "action": c.action, "row": c.row,
                "changes": [{"field": f.field, "old": f.old, "new": f.new} for f in c.changes]}
               for c in plan.changes],
        summary=summary,
        text=render_plan(plan, book=book_path, target=into) + ("" if write else "\n(dry run: nothing written)"),
    ))


def _warn_commands(hosts: list[Any]) -> None:
    """Say which imported hosts' passwords would run a command (a ``cred:NAME`` the operator's
    config defines as ``cmd:``): the book cannot hold ``cmd:`` itself, but it can choose which
    configured command runs, and the operator should see that before writing."""
    from dcops.secrets import runs_command

    settings()  # loads the config file, whose credentials: say which cred:NAME runs a command
    counts: dict[str, int] = {}
    for host in hosts:
        ref = host.bmc.password_ref
        if ref and runs_command(ref):
            counts[ref] = counts.get(ref, 0) + 1
    for ref, n in sorted(counts.items()):
        click.echo(f"dcops: warning: {n} host(s) use {ref}, which runs a command from your config", err=True)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _write_audited(plan: Any, book_path: str, into: str, text: str) -> None:
    """Rewrite the book with the audit around it: the intent (with the old file's digest) goes to
    the store before the file changes, so an unusable store stops the write and a crash leaves
    "started, outcome unknown"; then one entry per host added or changed, and the outcome."""
    from dcops.cli.common import open_state
    from dcops.store import audit

    target = Path(into)
    counts = f"{plan.count('add')} added, {plan.count('change')} changed"
    store = open_state()
    try:
        intent = audit.start(store, "inventory.import", before={"sha256": _sha256(target)},
                             details=f"{book_path} -> {into}: {counts}")
        try:
            write_atomically(target, text)
            load_inventory(into)  # and the file as written
        except Exception as exc:
            audit.finish(store, intent, "inventory.import", result="failed",
                         details=f"{book_path} -> {into}: {exc}")
            raise
        for change in plan.changes:
            if change.action not in ("add", "change"):
                continue
            audit.record(
                store, f"inventory.import.{change.action}", host=change.name,
                before={f.field: f.old for f in change.changes} if change.action == "change" else None,
                after={f.field: f.new for f in change.changes},
                details=f"{book_path} row {change.row} -> {into}", intent_id=intent,
            )
        audit.finish(store, intent, "inventory.import", after={"sha256": _sha256(target)},
                     details=f"{book_path} -> {into}: {counts}")
    finally:
        store.close()
