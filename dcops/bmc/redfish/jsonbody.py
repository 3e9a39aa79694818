"""Decode a BMC's response body strictly and say what is wrong with it (pure).

Both transports (the ``redfish`` library on the synchronous path, wire.py on patrol's) decode
through here. Strict: ``NaN``/``Infinity`` (which Python's ``json`` accepts), numbers that overflow
to infinity, trailing garbage and nesting deeper than 1,024 levels are refused (orjson), so a
hostile or broken BMC cannot pass a document that is not JSON off as one. The problem is said in
words ("truncated JSON", "HTML page, not JSON") without quoting the body: a body can hold anything.
"""

from __future__ import annotations

from typing import Any

import orjson

# The largest Redfish document either transport accepts, counted after decompression: a big
# $expand is a few MB; an endless body or a gzip bomb from one BMC must not take the process.
MAX_BODY = 16 * 1024 * 1024


def decode(raw: bytes | None) -> tuple[Any, str | None]:
    """``(document, None)``, ``(None, None)`` for an empty body, or ``(None, problem)``."""
    if not raw:
        return None, None
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as exc:
        return None, describe(raw, str(exc))


def fingerprint(doc: Any) -> bytes | None:
    """The document's exact JSON text, to key what was built from it (``read.SENSORS``); None when
    it has no JSON text (an integer past 64 bits, a value JSON cannot hold). Exact: ``1``, ``1.0``
    and ``true`` differ, as do ``0.0`` and ``-0.0``, though Python calls each pair equal; every
    member and nested value counts, so a key made from it cannot forget an input of the parse.
    Members in another order make another text: a memo miss, never a wrong hit."""
    try:
        return orjson.dumps(doc)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None


def describe(raw: bytes, message: str) -> str:
    head = raw.lstrip()[:1]
    if head == b"<":
        return "not JSON (an HTML or XML page)"
    if message.startswith("unexpected end of data"):
        return "truncated JSON (the body ends mid-document)"
    if message.startswith("depth limit exceeded"):
        return "JSON nested too deeply (over 1,024 levels)"
    if message.startswith("number is infinity"):
        return "not JSON (a number out of range)"
    if "not valid UTF-8" in message:
        return "not JSON (not valid UTF-8)"
    if message.startswith("unexpected content after document"):
        return "not JSON (garbage after the document)"
    return "not JSON (" + message.split(":", 1)[0] + ")"
