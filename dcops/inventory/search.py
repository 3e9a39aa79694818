"""Fuzzy, typo-tolerant search over the book: ``dcops inventory search "r750 a03"``.

Every host contributes searchable records ``(field, value)``: name, serial, asset tag, BMC
address, vendor, model and its location (site, room, rack, U, and the whole path). Callers can add
more records (e.g. part serials of DIMMs, once collected) with ``extra``.

Scoring, per query token (whitespace separates tokens) against one term (a whole value or one of
its words, lower-cased):

* 100  the token is the term;
* 98   equal once leading zeros are dropped and o/i/l next to a digit read as 0/1
       (``a3`` = ``A03``, ``r75o`` = ``R750``);
* 90-95 the token is a substring of the term (short tokens only at the start of a word);
* <=89 fuzzy similarity (``rapidfuzz.fuzz.ratio``), capped so that any exact or substring match
  ranks above any fuzzy one. Digits are not fuzzy: the token must carry the same numbers as
  the term (R740 is another model, not a typo of R750), except a token of 8 or more characters
  against a serial or asset tag; a bare number such as the ``03`` of ``trade-db-03`` only
  matches exactly.

A host's token score is its best over all its terms; a host matches when every token scores at
least ``min_score``, and its score is the mean of its token scores. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from dcops.errors import UsageError
from dcops.models import Host

DEFAULT_MIN_SCORE = 75.0
SEARCH_FIELDS = ("name", "serial", "asset_tag", "bmc", "vendor", "model", "site", "room", "rack", "u",
                 "location")
# Identifiers searched as a whole only: splitting 10.1.0.11 into 10/1/0/11 would match everything.
_WHOLE_ONLY = frozenset({"bmc", "serial", "asset_tag"})
# When a token matches both a specific field and the composite location, name the specific one.
_GENERIC = frozenset({"location"})
_WORD_SPLIT = re.compile(r"[\s/_\-,;:()]+")
_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")
_FUZZY_CAP = 89.0


_DIGIT_LOOKALIKE = re.compile(r"(?<=[0-9])[oil]|[oil](?=[0-9])")
_NON_DIGITS = re.compile(r"[^0-9]+")
# Digits must be right (R740 is another model, 10.1.0.12 another BMC, A02 another rack); only in
# long serial numbers and asset tags may a digit be mistyped too.
_DIGITS_EXACT_BELOW = 8


def _serial_like(field: str) -> bool:
    return field.endswith("serial") or field.endswith("asset_tag")


def _normalize(text: str) -> str:
    """Forgive what people mistype in identifiers: ``o``/``i``/``l`` next to a digit read as
    ``0``/``1`` (``r75o`` = ``r750``) and leading zeros of numbers dropped (``a3`` = ``a03``)."""
    text = _DIGIT_LOOKALIKE.sub(lambda m: "0" if m.group() == "o" else "1", text)
    return _LEADING_ZEROS.sub("", text)


def _digits(normalized: str) -> str:
    return _NON_DIGITS.sub(" ", normalized).strip()


def host_records(host: Host) -> list[tuple[str, str]]:
    """The searchable ``(field, value)`` records of one host (empty values left out)."""
    loc = host.location
    records = [
        ("name", host.name),
        ("serial", host.asset.serial or ""),
        ("asset_tag", host.asset.asset_tag or ""),
        ("bmc", host.bmc.address),
        ("vendor", host.vendor or ""),
        ("model", host.model or ""),
        ("site", loc.site or ""),
        ("room", loc.room or ""),
        ("rack", loc.rack or ""),
    ]
    if loc.u is not None:
        last = loc.u + loc.u_height - 1
        records.append(("u", f"U{loc.u}" if last == loc.u else f"U{loc.u}-U{last}"))
    path = "/".join(p for p in (loc.site, loc.room, loc.rack) if p)
    if path:
        records.append(("location", path + (f"/U{loc.u}" if loc.u is not None else "")))
    return [(f, v) for f, v in records if v]


@dataclass(frozen=True)
class TokenMatch:
    """How one query token matched one host: its score, the field(s) and the value that matched."""

    token: str
    score: float
    fields: tuple[str, ...]
    value: str


@dataclass(frozen=True)
class SearchHit:
    """One host found, with its overall score and a match per query token."""

    host: Host
    score: float
    matches: tuple[TokenMatch, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field that matched some token, in token order, without repeats."""
        seen: list[str] = []
        for match in self.matches:
            seen.extend(f for f in match.fields if f not in seen)
        return tuple(seen)

    def describe(self) -> str:
        """``model=PowerEdge R750, rack=A03``: what matched, for a person."""
        parts: list[str] = []
        for match in self.matches:
            text = f"{'/'.join(match.fields)}={match.value}"
            if text not in parts:
                parts.append(text)
        return ", ".join(parts)


class SearchIndex:
    """Lower-cased terms of every host's records, built once and searched many times.

    ``extra`` adds records ``(host name, field, value)`` for hosts in ``hosts``; records for other
    names are ignored.
    """

    def __init__(self, hosts: Sequence[Host], extra: Iterable[tuple[str, str, str]] = ()) -> None:
        self.hosts: tuple[Host, ...] = tuple(hosts)
        index_of = {h.name: i for i, h in enumerate(self.hosts)}
        self._terms: list[str] = []
        self._normal: dict[str, list[int]] = {}
        self._digits: list[str] = []  # the numbers in each normalized term
        self._numeric: list[bool] = []  # the term is only a number
        self._loose_digits: list[bool] = []  # the term is a serial or asset tag
        self._postings: list[list[tuple[int, str, str]]] = []  # term -> (host index, field, value)
        term_ids: dict[str, int] = {}

        def add(term: str, host_index: int, field: str, value: str) -> None:
            tid = term_ids.get(term)
            if tid is None:
                tid = term_ids[term] = len(self._terms)
                self._terms.append(term)
                self._postings.append([])
                normal = _normalize(term)
                self._normal.setdefault(normal, []).append(tid)
                self._digits.append(_digits(normal))
                self._numeric.append(normal.isdigit())
                self._loose_digits.append(False)
            self._postings[tid].append((host_index, field, value))
            if _serial_like(field):
                self._loose_digits[tid] = True

        def add_record(host_index: int, field: str, value: str) -> None:
            lowered = value.strip().lower()
            if not lowered:
                return
            add(lowered, host_index, field, value)
            if field not in _WHOLE_ONLY:
                for word in _WORD_SPLIT.split(lowered):
                    if word and word != lowered:
                        add(word, host_index, field, value)

        for i, host in enumerate(self.hosts):
            for field, value in host_records(host):
                add_record(i, field, value)
        for name, field, value in extra:
            if name in index_of and value:
                add_record(index_of[name], field, str(value))

    def _score_terms(self, token: str, cutoff: float) -> dict[int, float]:
        """Score of every term that reaches ``cutoff`` for one lower-case token."""
        scores: dict[int, float] = {}
        normal = _normalize(token)
        digits = _digits(normal)
        if cutoff <= _FUZZY_CAP:
            for _, score, tid in process.extract(token, self._terms, scorer=fuzz.ratio, limit=None,
                                                 score_cutoff=cutoff):
                # A bare number (the "03" of trade-db-03) is matched exactly or not at all.
                if self._numeric[tid]:
                    continue
                loose = self._loose_digits[tid] and len(token) >= _DIGITS_EXACT_BELOW
                if not loose and self._digits[tid] != digits:
                    continue
                scores[tid] = min(float(score), _FUZZY_CAP)
        short = len(token) < 3
        for tid, term in enumerate(self._terms):
            if token in term:
                if term == token:
                    scores[tid] = 100.0
                elif not short or term.startswith(token):
                    scores[tid] = max(scores.get(tid, 0.0), 90.0 + 5.0 * len(token) / len(term))
        for tid in self._normal.get(normal, ()):
            if self._terms[tid] != token:
                scores[tid] = max(scores.get(tid, 0.0), 98.0)
        return scores

    def search(self, query: str, *, min_score: float = DEFAULT_MIN_SCORE,
               limit: int | None = None) -> list[SearchHit]:
        """Hosts matching every token of ``query``, best first (ties by name).

        Raises ``UsageError`` for an empty query or a ``min_score`` outside 0-100.
        """
        tokens = [t for t in query.lower().split() if t]
        if not tokens:
            raise UsageError("empty search query")
        if not 0 <= min_score <= 100:
            raise UsageError(f"--min-score must be between 0 and 100, not {min_score}")
        candidates: dict[int, list[TokenMatch]] | None = None
        for token in tokens:
            best: dict[int, tuple[float, list[str], str]] = {}
            for tid, score in self._score_terms(token, min_score).items():
                if score < min_score:
                    continue
                for host_index, field, value in self._postings[tid]:
                    if candidates is not None and host_index not in candidates:
                        continue
                    current = best.get(host_index)
                    if current is None or score > current[0]:
                        best[host_index] = (score, [field], value)
                    elif score == current[0] and field not in current[1]:
                        if field not in _GENERIC and all(f in _GENERIC for f in current[1]):
                            best[host_index] = (score, [*current[1], field], value)  # show the specific value
                        else:
                            current[1].append(field)
            found: dict[int, list[TokenMatch]] = {}
            for host_index, (score, fields, value) in best.items():
                specific = [f for f in fields if f not in _GENERIC] or fields
                previous = candidates[host_index] if candidates is not None else []
                found[host_index] = [*previous, TokenMatch(token, round(score, 1), tuple(specific), value)]
            candidates = found
            if not candidates:
                return []
        assert candidates is not None
        hits = [
            SearchHit(self.hosts[i], round(sum(m.score for m in matches) / len(matches), 1), tuple(matches))
            for i, matches in candidates.items()
        ]
        hits.sort(key=lambda h: (-h.score, h.host.name))
        return hits[:limit] if limit is not None else hits


def search_hosts(hosts: Sequence[Host], query: str, *, min_score: float = DEFAULT_MIN_SCORE,
                 limit: int | None = None, extra: Iterable[tuple[str, str, str]] = ()) -> list[SearchHit]:
    """Build an index over ``hosts`` (plus ``extra`` records) and search it once; see ``SearchIndex``."""
    return SearchIndex(hosts, extra).search(query, min_score=min_score, limit=limit)
