"""Reconcile the book with what the BMCs said: which book row is which server, and what differs.

Matching is scored over several keys, because every single key fails somewhere: names and BMC
addresses get reused, serials are mistyped or are placeholders, UUIDs are missing in books. Each
(book row, snapshot) pair scores the sum of the weights of the keys on which they agree
(``WEIGHTS``); pairs are then taken best first, each row and each snapshot at most once. The key
of highest weight among those that agreed *decided* the match and is shown with it.

Placeholder serials (``0123456789``, ``Default string``, ``To be filled by O.E.M.``, empty, all
zeros, ...: ``dcops.observation.JUNK_SERIALS`` plus ``extra_junk``) never match anything and are
never duplicates of each other; a book row that carries one is reported as a serial to fill in.

Discrepancy kinds (``Kind``): a row not found, a server not in the book, serial / model /
manufacturer / asset tag / BMC address differing, hardware differing from the row's profile
(CPUs, memory, drives, GPUs), the location differing from what the BMC reports, serials the
book gives to more than one row, and snapshots too old to be compared (``stale_before``).

Snapshots taken before ``stale_before`` are *stale*: they are matched only with the rows no
current snapshot matches (so a row is never paired with old data when new data names it), and
each yields one ``stale`` discrepancy instead of comparisons: old data neither proves a row
missing or a server unexpected, nor contradicts the book.

Pure: no I/O. Raises nothing on bad data; what cannot be compared is not compared.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dcops.assets.model import AssetSnapshot, Placement, size_text, vendor_key
from dcops.models import Host, Location
from dcops.observation import clean_serial


class Kind(StrEnum):
    MISSING = "missing"  # in the book, not found
    UNEXPECTED = "unexpected"  # found, not in the book
    SERIAL = "serial_differs"
    MODEL = "model_differs"
    MANUFACTURER = "manufacturer_differs"
    ASSET_TAG = "asset_tag_differs"
    BMC_ADDRESS = "bmc_address_differs"
    HARDWARE = "hardware_differs"
    LOCATION = "location_differs"
    DUPLICATE_SERIAL = "duplicate_serial"
    STALE = "stale"  # the latest snapshot is older than the maximum age: not compared


# How much agreement on each key counts. A serial or UUID identifies a server; a BMC address or
# host name identifies a network identity that may have moved to other hardware. Agreement on the
# network identity (60 + 50) outweighs a single serial (100), so a book whose serials were swapped
# between two rows reports two wrong serials rather than two renamed servers.
WEIGHTS: dict[str, int] = {
    "serial": 100, "service_tag": 100, "uuid": 100, "chassis_serial": 90, "board_serial": 90,
    "bmc_mac": 80, "bmc_address": 60, "name": 50, "asset_tag": 40,
}
MIN_SCORE = 40


@dataclass(frozen=True)
class BookEntry:
    """One row of the book as reconciliation needs it."""

    name: str
    serial: str | None = None
    asset_tag: str | None = None
    bmc: str | None = None  # bmc_key(): address:port, lower case
    vendor: str | None = None
    model: str | None = None
    location: Location = field(default_factory=Location)
    profile: str | None = None
    uuid: str | None = None
    board_serial: str | None = None
    bmc_mac: str | None = None
    source: str = ""


def bmc_key(address: str | None, port: int | None = None, scheme: str = "https") -> str | None:
    """``10.0.0.5:443``: the BMC endpoint as book and snapshot both give it."""
    if not address:
        return None
    port = port or (443 if scheme == "https" else 80)
    return f"{address.strip().lower()}:{port}"


def book_entry(host: Host) -> BookEntry:
    """The reconciliation view of one inventory host. UUID, board serial and BMC MAC are used when
    the inventory model carries them (it does not yet; the matcher is ready for them)."""
    asset: Any = host.asset
    return BookEntry(
        name=host.name, serial=host.asset.serial, asset_tag=host.asset.asset_tag,
        bmc=bmc_key(host.bmc.address, host.bmc.port, host.bmc.scheme), vendor=host.vendor, model=host.model,
        location=host.location, profile=host.profile, uuid=getattr(asset, "uuid", None),
        board_serial=getattr(asset, "board_serial", None), bmc_mac=getattr(host.bmc, "mac", None),
        source=str(host.source),
    )


@dataclass(frozen=True)
class HardwareExpectation:
    """What a profile says a server has; None = not checked. Sizes compare within ``tolerance``."""

    cpus: int | None = None
    cpu_model: str | None = None  # a substring of the CPU model, case-insensitive
    dimms: int | None = None
    memory_bytes: int | None = None
    drives: int | None = None
    drive_sizes: tuple[int, ...] | None = None  # bytes, any order
    gpus: int | None = None
    tolerance: float = 0.03


@dataclass(frozen=True)
class Match:
    book: str
    observed: str
    score: int
    keys: tuple[str, ...]  # every key that agreed, best first
    decided_by: str


@dataclass(frozen=True)
class Discrepancy:
    kind: Kind
    host: str | None  # the book row (None: not in the book)
    observed: str | None  # the snapshot's host (None: not found)
    field: str | None = None
    book_value: Any = None
    observed_value: Any = None
    matched_by: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "host": self.host, "observed": self.observed, "field": self.field,
                "book": self.book_value, "found": self.observed_value, "matched_by": self.matched_by,
                "detail": self.detail}


@dataclass
class ReconcileResult:
    matches: list[Match]  # with current snapshots (compared)
    discrepancies: list[Discrepancy]
    book_rows: int
    snapshots: int
    stale: list[Match] = field(default_factory=list)  # rows paired with a stale snapshot (not compared)
    stale_snapshots: int = 0

    def counts(self) -> dict[str, int]:
        result = {k.value: 0 for k in Kind}
        for d in self.discrepancies:
            result[d.kind.value] += 1
        return result

    def match_of(self, book_name: str) -> Match | None:
        return next((m for m in self.matches if m.book == book_name), None)

    def summary(self) -> dict[str, Any]:
        decided: dict[str, int] = {}
        for m in self.matches:
            decided[m.decided_by] = decided.get(m.decided_by, 0) + 1
        return {"book_rows": self.book_rows, "snapshots": self.snapshots, "matched": len(self.matches),
                "stale": self.stale_snapshots, "matched_stale": len(self.stale),
                "discrepancies": len(self.discrepancies), "by_kind": {k: v for k, v in self.counts().items() if v},
                "decided_by": decided}


# ------------------------------------------------------------------ keys


def serial_key(value: str | None, extra_junk: frozenset[str] = frozenset()) -> str | None:
    """A serial as compared: None for placeholders, else upper case without spaces."""
    clean = clean_serial(value)
    if clean is None or clean.strip().lower() in extra_junk:
        return None
    return re.sub(r"\s+", "", clean).upper()


def _mac(value: str | None) -> str | None:
    if not value:
        return None
    digits = re.sub(r"[^0-9a-f]", "", value.lower())
    return digits if len(digits) == 12 and digits != "0" * 12 else None


def _uuid(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip().lower()
    hexes = re.sub(r"[^0-9a-f]", "", text)
    # Placeholder UUIDs (all zeros, all f, or mostly zeros as some Supermicro boards report).
    if not hexes or set(hexes) <= {"0"} or set(hexes) <= {"f"} or hexes.count("0") >= 24:
        return None
    return hexes


def _book_keys(row: BookEntry, junk: frozenset[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    serial = serial_key(row.serial, junk)
    if serial:
        keys["serial"] = serial
    board = serial_key(row.board_serial, junk)
    if board:
        keys["board_serial"] = board
    for name, value in (("uuid", _uuid(row.uuid)), ("bmc_mac", _mac(row.bmc_mac)),
                        ("asset_tag", serial_key(row.asset_tag, junk)), ("bmc_address", row.bmc),
                        ("name", row.name.lower() if row.name else None)):
        if value:
            keys[name] = value
    return keys


def _snapshot_keys(snap: AssetSnapshot, junk: frozenset[str]) -> dict[str, set[str]]:
    """Key -> values, where the book's serial may equal the system serial, the service tag, the
    chassis serial or the board serial (books record whichever the vendor prints on the label)."""
    keys: dict[str, set[str]] = {}

    def add(key: str, value: str | None) -> None:
        if value:
            keys.setdefault(key, set()).add(value)

    for key, value in snap.serials().items():
        add(key, serial_key(value, junk))
    add("uuid", _uuid(snap.uuid))
    for mac in snap.bmc_macs:
        add("bmc_mac", _mac(mac))
    add("asset_tag", serial_key(snap.asset_tag, junk))
    add("bmc_address", snap.bmc.lower() if snap.bmc else None)
    add("name", snap.host.lower())
    if snap.hostname:
        add("name", snap.hostname.lower().split(".", 1)[0])
    return keys


# Which snapshot keys a book key is compared with.
_COMPARE: dict[str, tuple[str, ...]] = {
    "serial": ("serial", "service_tag", "chassis_serial", "board_serial"),
    "board_serial": ("board_serial",),
    "uuid": ("uuid",), "bmc_mac": ("bmc_mac",), "asset_tag": ("asset_tag",),
    "bmc_address": ("bmc_address",), "name": ("name",),
}


def match_book(book: Sequence[BookEntry], snapshots: Sequence[AssetSnapshot], *,
               extra_junk: Iterable[str] = ()) -> list[Match]:
    """Pair book rows with snapshots (see the module docstring); unpaired ones are left out."""
    junk = frozenset(j.strip().lower() for j in extra_junk)
    index: dict[tuple[str, str], list[int]] = {}
    for i, snap in enumerate(snapshots):
        for key, values in _snapshot_keys(snap, junk).items():
            for value in values:
                index.setdefault((key, value), []).append(i)
    pairs: list[tuple[int, int, str, str, int, tuple[str, ...]]] = []
    for row in book:
        agreed: dict[int, dict[str, int]] = {}
        for book_key, value in _book_keys(row, junk).items():
            for snap_key in _COMPARE[book_key]:
                for s in index.get((snap_key, value), ()):
                    # The book's serial may be on the chassis or board label: credit the key it hit.
                    credited = snap_key if book_key == "serial" else book_key
                    keys = agreed.setdefault(s, {})
                    keys[credited] = max(keys.get(credited, 0), WEIGHTS[credited])
        for s, keys in agreed.items():
            # A serial found both as system serial and chassis serial counts once.
            serial_like = [k for k in keys if k in ("serial", "service_tag", "chassis_serial", "board_serial")]
            if len(serial_like) > 1:
                best = max(serial_like, key=lambda k: WEIGHTS[k])
                for k in serial_like:
                    if k != best:
                        del keys[k]
            score = sum(keys.values())
            if score < MIN_SCORE:
                continue
            ordered = tuple(sorted(keys, key=lambda k: (-WEIGHTS[k], k)))
            pairs.append((-score, -WEIGHTS[ordered[0]], row.name, snapshots[s].host, s, ordered))
    pairs.sort(key=lambda p: (p[0], p[1], p[2], p[3]))
    book_index = {row.name: b for b, row in enumerate(book)}
    used_book: set[int] = set()
    used_snap: set[int] = set()
    matches: list[Match] = []
    for neg_score, _, name, host, snap_at, agreed_keys in pairs:
        row_at = book_index[name]
        if row_at in used_book or snap_at in used_snap:
            continue
        used_book.add(row_at)
        used_snap.add(snap_at)
        matches.append(Match(name, host, -neg_score, agreed_keys, agreed_keys[0]))
    return matches


# ------------------------------------------------------------------ comparisons


def _model_key(text: str | None, vendor: str | None = None) -> str | None:
    if not text or not text.strip():
        return None
    value = text.lower()
    for word in ("-- simulated", "- simulated", "simulated"):
        value = value.replace(word, "")
    for prefix in filter(None, (vendor_key(vendor), "dell", "hpe", "hp", "lenovo", "supermicro", "huawei", "inspur")):
        if value.startswith(prefix + " "):
            value = value[len(prefix) + 1:]
    value = re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "", value)
    return value or None


def model_matches(book_model: str, snap: AssetSnapshot) -> bool:
    """Whether the book's model names what the BMC reports: equal once spaces, punctuation, case
    and a vendor prefix are ignored, or one contains the other (``R750`` in ``PowerEdge R750``), or
    it is the product number / machine type the BMC reports as SKU (``7Z73CTO1WW``)."""
    want = _model_key(book_model, snap.manufacturer)
    if want is None:
        return True
    for candidate in (snap.model, snap.sku):
        got = _model_key(candidate, snap.manufacturer)
        if got and (got == want or (len(want) >= 4 and want in got) or (len(got) >= 4 and got in want)):
            return True
    return False


def _rack_key(value: str | None) -> str | None:
    if not value:
        return None
    text = re.sub(r"[^0-9a-z]+", "", value.lower())
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", text) or None


def location_differences(book: Location, placement: Placement) -> list[str]:
    """The location fields on which the book and the BMC disagree (only fields both give)."""
    fields_: list[str] = []
    for name, mine, theirs in (("site", book.site, placement.site), ("room", book.room, placement.room),
                               ("rack", book.rack, placement.rack)):
        if mine and theirs and _rack_key(mine) != _rack_key(theirs):
            fields_.append(name)
    if book.u is not None and placement.u is not None and book.u != placement.u:
        fields_.append("u")
    return fields_


def _model_like(pattern: str, model: str) -> bool:
    """A glob (``*Gold 6338*``) or, without wildcards, a substring; case-insensitive."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(model.lower(), pattern.lower())
    return pattern.lower() in model.lower()


def _sizes_match(want: Sequence[int], got: Sequence[int], tolerance: float) -> bool:
    if len(want) != len(got):
        return False
    return all(abs(w - g) <= tolerance * max(w, 1) for w, g in zip(sorted(want), sorted(got), strict=True))


def _sizes_text(sizes: Sequence[int]) -> str:
    counts: dict[str, int] = {}
    for size in sorted(sizes):
        label = size_text(size) or "?"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} x {label}" for label, n in counts.items()) or "none"


def hardware_differences(expect: HardwareExpectation, snap: AssetSnapshot) -> list[tuple[str, str, str]]:
    """``(field, expected, found)`` for each of cpu, memory, drives, gpus that differs."""
    hw = snap.hardware
    out: list[tuple[str, str, str]] = []
    cpu_bad = expect.cpus is not None and expect.cpus != hw.cpus
    if expect.cpu_model and not any(_model_like(expect.cpu_model, m) for m in hw.cpu_models):
        cpu_bad = True
    if cpu_bad:
        out.append(("cpu", f"{expect.cpus if expect.cpus is not None else '?'} x {expect.cpu_model or 'any'}",
                    f"{hw.cpus} x {', '.join(hw.cpu_models) or '?'}"))
    mem_bad = expect.dimms is not None and expect.dimms != hw.dimms
    if expect.memory_bytes is not None and abs(expect.memory_bytes - hw.memory_bytes) > \
            expect.tolerance * expect.memory_bytes:
        mem_bad = True
    if mem_bad:
        out.append(("memory", f"{expect.dimms if expect.dimms is not None else '?'} DIMMs, "
                              f"{size_text(expect.memory_bytes) or '?'}",
                    f"{hw.dimms} DIMMs, {size_text(hw.memory_bytes) or '0'}"))
    drive_bad = expect.drives is not None and expect.drives != hw.drives
    if expect.drive_sizes is not None and not _sizes_match(expect.drive_sizes, hw.drive_sizes, expect.tolerance):
        drive_bad = True
    if drive_bad:
        want = _sizes_text(expect.drive_sizes) if expect.drive_sizes is not None else f"{expect.drives} drives"
        out.append(("drives", want, _sizes_text(hw.drive_sizes)))
    if expect.gpus is not None and expect.gpus != hw.gpus:
        out.append(("gpus", str(expect.gpus), str(hw.gpus)))
    return out


def _proposed_serial(snap: AssetSnapshot) -> str | None:
    serials = snap.serials()
    return serials.get("service_tag") or serials.get("serial") or serials.get("chassis_serial")


def duplicate_serials(book: Sequence[BookEntry], *, extra_junk: Iterable[str] = ()) -> dict[str, list[str]]:
    """Serial -> the rows carrying it, for serials on more than one row (placeholders ignored)."""
    junk = frozenset(j.strip().lower() for j in extra_junk)
    rows: dict[str, list[str]] = {}
    for row in book:
        key = serial_key(row.serial, junk)
        if key:
            rows.setdefault(key, []).append(row.name)
    return {k: v for k, v in rows.items() if len(v) > 1}


def is_stale(snap: AssetSnapshot, stale_before: dt.datetime | None) -> bool:
    """Whether ``snap`` was taken before ``stale_before`` (a naive time counts as UTC)."""
    if stale_before is None:
        return False
    taken = snap.taken_at if snap.taken_at.tzinfo else snap.taken_at.replace(tzinfo=dt.UTC)
    cutoff = stale_before if stale_before.tzinfo else stale_before.replace(tzinfo=dt.UTC)
    return taken < cutoff


def reconcile(book: Sequence[BookEntry], snapshots: Sequence[AssetSnapshot], *,
              profiles: Mapping[str, HardwareExpectation] | None = None,
              extra_junk: Iterable[str] = (), stale_before: dt.datetime | None = None) -> ReconcileResult:
    """Match the book with the snapshots and list every discrepancy (see the module docstring).
    Snapshots taken before ``stale_before`` are reported as ``stale``, not compared."""
    junk = frozenset(j.strip().lower() for j in extra_junk)
    profiles = profiles or {}
    current = [s for s in snapshots if not is_stale(s, stale_before)]
    old = [s for s in snapshots if is_stale(s, stale_before)]
    matches = match_book(book, current, extra_junk=junk)
    matched_book = {m.book for m in matches}
    stale = match_book([row for row in book if row.name not in matched_book], old, extra_junk=junk) if old else []
    rows = {row.name: row for row in book}
    snaps = {snap.host: snap for snap in snapshots}
    found: list[Discrepancy] = []
    matched_book |= {m.book for m in stale}
    matched_snap = {m.observed for m in matches}
    stale_by_snap = {m.observed: m for m in stale}
    for row in book:
        if row.name not in matched_book:
            found.append(Discrepancy(Kind.MISSING, row.name, None, detail="no server answered as this row "
                                     "(no snapshot matches its serial, BMC address or name)"))
    for snap in current:
        if snap.host not in matched_snap:
            found.append(Discrepancy(Kind.UNEXPECTED, None, snap.host, field="serial",
                                     observed_value=_proposed_serial(snap),
                                     detail=f"{snap.manufacturer or '?'} {snap.model or '?'} at BMC {snap.bmc or '?'}"))
    cutoff = stale_before.date().isoformat() if stale_before else ""
    for snap in old:
        m = stale_by_snap.get(snap.host)
        found.append(Discrepancy(
            Kind.STALE, m.book if m else None, snap.host, field="taken_at",
            observed_value=snap.taken_at.isoformat(timespec="seconds"), matched_by=m.decided_by if m else None,
            detail=f"last collected {snap.taken_at.date().isoformat()}, before {cutoff} (--max-age): not compared, "
                   "collect it again" + ("" if m else "; it matches no book row")))
    for m in matches:
        row, snap = rows[m.book], snaps[m.observed]
        found.extend(_compare(row, snap, m, profiles, junk))
    for serial, names in sorted(duplicate_serials(book, extra_junk=junk).items()):
        found.append(Discrepancy(Kind.DUPLICATE_SERIAL, names[0], None, field="serial", book_value=serial,
                                 observed_value=None, detail="rows " + ", ".join(names)))
    order = {k: i for i, k in enumerate(Kind)}
    found.sort(key=lambda d: (order[d.kind], d.host or "", d.observed or "", d.field or ""))
    return ReconcileResult(matches, found, len(book), len(snapshots), stale, len(old))


def _compare(row: BookEntry, snap: AssetSnapshot, match: Match, profiles: Mapping[str, HardwareExpectation],
             junk: frozenset[str]) -> list[Discrepancy]:
    out: list[Discrepancy] = []

    def add(kind: Kind, field_: str, book_value: Any, found_value: Any, detail: str = "") -> None:
        out.append(Discrepancy(kind, row.name, snap.host, field_, book_value, found_value, match.decided_by, detail))

    serials = {serial_key(v, junk) for v in snap.serials().values()} - {None}
    book_serial = serial_key(row.serial, junk)
    if serials and book_serial not in serials:
        proposed = _proposed_serial(snap)
        if row.serial and book_serial is None:
            add(Kind.SERIAL, "serial", row.serial, proposed, "the book's serial is a placeholder")
        elif not row.serial:
            add(Kind.SERIAL, "serial", None, proposed, "the book has no serial")
        else:
            add(Kind.SERIAL, "serial", row.serial, proposed)
    if row.vendor and snap.manufacturer and vendor_key(row.vendor) != vendor_key(snap.manufacturer):
        add(Kind.MANUFACTURER, "vendor", row.vendor, snap.manufacturer)
    if row.model and (snap.model or snap.sku) and not model_matches(row.model, snap):
        add(Kind.MODEL, "model", row.model, snap.model)
    book_tag, snap_tag = serial_key(row.asset_tag, junk), serial_key(snap.asset_tag, junk)
    if book_tag and snap_tag and book_tag != snap_tag:
        add(Kind.ASSET_TAG, "asset_tag", row.asset_tag, snap.asset_tag)
    if row.bmc and snap.bmc and row.bmc != snap.bmc.lower():
        add(Kind.BMC_ADDRESS, "bmc", row.bmc, snap.bmc)
    if snap.placement is not None:
        differing = location_differences(row.location, snap.placement)
        if differing:
            add(Kind.LOCATION, "location", str(row.location) or None, str(snap.placement),
                "differs in " + ", ".join(differing))
    expect = profiles.get(row.profile) if row.profile else None
    if expect is not None:
        for field_, want, got in hardware_differences(expect, snap):
            add(Kind.HARDWARE, field_, want, got, f"profile {row.profile}")
    return out
