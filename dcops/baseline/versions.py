"""Firmware version comparison across vendor formats. Pure.

Vendors write versions every way: ``7.00.00.00`` (iDRAC), ``52.16.1-4405`` (PERC), ``U46 v2.34
(03/11/2025)`` (HPE System ROM), ``TGBT42S 2.83`` (Lenovo XCC build and version), ``U8E122J-1.51``
(Lenovo UEFI), ``BD03`` (drive revisions), ``0x2A`` (CPLD), ``1.00`` vs ``1.0``.

A version becomes a sequence of tokens: numbers (compared as numbers) and words (compared as
text, case-insensitively); a trailing parenthesised date is dropped; ``0x..`` is a hex number;
missing trailing numbers count as zero (``1.2`` == ``1.2.0``). Two versions are comparable only if
their tokens line up kind by kind and their leading words agree (``U46`` vs ``U30`` are different
ROM families, and no order between them is claimed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAREN = re.compile(r"\([^)]*\)")
_TOKEN = re.compile(r"0x[0-9a-f]+|\d+|[a-z]+")
_HEX = re.compile(r"^0x[0-9a-f]+$")

Token = int | str


def tokens(version: str) -> tuple[Token, ...]:
    """The comparable tokens of ``version`` (see the module docstring)."""
    text = _PAREN.sub(" ", version).strip().lower()
    if text.startswith("v") and text[1:2].isdigit():
        text = text[1:]
    out: list[Token] = []
    for tok in _TOKEN.findall(text):
        if _HEX.match(tok):
            out.append(int(tok, 16))
        elif tok.isdigit():
            out.append(int(tok))
        elif tok == "v" and out:  # "U46 v2.34": the v is decoration
            continue
        else:
            out.append(tok)
    return tuple(out)


@dataclass(frozen=True)
class Comparison:
    """``order`` is -1, 0, 1, or None when the two versions cannot be ordered."""

    order: int | None
    reason: str = ""


_DOTTED = re.compile(r"\d+(?:\.\d+)+")


def compare(current: str | None, wanted: str) -> Comparison:
    """Compare a reported version with a wanted one.

    When the whole strings do not line up (``TGBT42S 2.83`` vs ``2.90``, ``U46 v2.34 (...)`` vs
    ``2.40``) but both carry a dotted number, the last dotted numbers are compared: that is the
    version vendors publish, the rest is a build or family tag."""
    full = _compare(current, wanted)
    if full.order is not None or current is None:
        return full
    a = _DOTTED.findall(_PAREN.sub(" ", current))
    b = _DOTTED.findall(_PAREN.sub(" ", wanted))
    if a and b:
        dotted = _compare(a[-1], b[-1])
        if dotted.order is not None:
            return Comparison(dotted.order, f"compared {a[-1]} with {b[-1]}")
    return full


def _compare(current: str | None, wanted: str) -> Comparison:
    if current is None or not current.strip():
        return Comparison(None, "the BMC reports no version")
    a, b = tokens(current), tokens(wanted)
    if not a or not b:
        return Comparison(0 if current.strip().lower() == wanted.strip().lower() else None,
                          "no comparable parts")
    n = max(len(a), len(b))
    for i in range(n):
        x: Token = a[i] if i < len(a) else 0
        y: Token = b[i] if i < len(b) else 0
        if isinstance(x, int) and isinstance(y, int):
            if x != y:
                return Comparison(-1 if x < y else 1)
            continue
        if isinstance(x, str) and isinstance(y, str):
            if x == y:
                continue
            if i == 0 or all(isinstance(t, str) for t in a[:i]):
                # Different leading words: different product families or build streams.
                return Comparison(None, f"different version families ({current!r} vs {wanted!r})")
            return Comparison(-1 if x < y else 1)
        # A number against a word: formats differ (e.g. "2.83" vs "TGBT42S 2.83").
        return Comparison(None, f"version formats differ ({current!r} vs {wanted!r})")
    return Comparison(0)


def satisfies(current: str | None, wanted: str, rule: str) -> tuple[bool, str]:
    """Whether ``current`` meets ``wanted`` under ``rule`` (exact | minimum), and why not."""
    cmp = compare(current, wanted)
    if rule == "exact":
        if cmp.order == 0:
            return True, ""
        if current is not None and current.strip() == wanted.strip():
            return True, ""
        return False, cmp.reason
    if cmp.order is None:
        return False, cmp.reason or "versions not comparable"
    return cmp.order >= 0, ""
