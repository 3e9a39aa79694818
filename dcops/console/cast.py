"""Session recordings in asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/).

A recording is a header line (JSON object) and one JSON array per event: ``[seconds, "o", text]``
for what the console printed and ``[seconds, "i", text]`` for what the user typed. Input is
recorded one line at a time (a line is flushed on CR or LF, the rest when the session closes): a
serial console echoes keystrokes itself, and a line is what an auditor reads.

Console output is bytes, not always UTF-8 (BIOS screens, line noise). Bytes that are not UTF-8
are kept with ``surrogateescape``, so ``output_bytes`` gives back exactly the bytes the console
sent; players show them as replacement characters. Pure: no I/O, the clock is passed in.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

VERSION = 2
NEWLINES = (b"\r", b"\n")


class CastError(ValueError):
    """A recording that is not valid asciicast v2 (names the line)."""


@dataclass
class Cast:
    header: dict[str, Any]
    events: list[tuple[float, str, str]] = field(default_factory=list)


def _decoder() -> codecs.IncrementalDecoder:
    return codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")


class Recorder:
    """Collects the events of one session; ``clock()`` returns monotonic seconds."""

    def __init__(self, clock: Callable[[], float], *, width: int = 80, height: int = 24,
                 timestamp: int | None = None, title: str | None = None,
                 env: dict[str, str] | None = None, start: float | None = None) -> None:
        self._clock = clock
        self._start = clock() if start is None else start
        self.header: dict[str, Any] = {"version": VERSION, "width": width, "height": height}
        if timestamp is not None:
            self.header["timestamp"] = timestamp
        if title:
            self.header["title"] = title
        if env:
            self.header["env"] = dict(env)
        self.events: list[tuple[float, str, str]] = []
        self._out = _decoder()
        self._in = _decoder()
        self._line = b""
        self.bytes_out = 0
        self.bytes_in = 0

    def _at(self) -> float:
        return round(max(0.0, self._clock() - self._start), 6)

    def output(self, data: bytes) -> None:
        self.bytes_out += len(data)
        text = self._out.decode(data)
        if text:
            self.events.append((self._at(), "o", text))

    def input(self, data: bytes) -> None:
        """Typed bytes: buffered until a line ends."""
        self.bytes_in += len(data)
        for byte in data:
            self._line += bytes((byte,))
            if self._line[-1:] in NEWLINES:
                self._flush_line()

    def _flush_line(self) -> None:
        if self._line:
            text = self._in.decode(self._line)
            self._line = b""
            if text:
                self.events.append((self._at(), "i", text))

    def finish(self) -> Cast:
        """The recording so far, partial line and undecoded tails included."""
        self._flush_line()
        tail_out = self._out.decode(b"", final=True)
        if tail_out:
            self.events.append((self._at(), "o", tail_out))
        tail_in = self._in.decode(b"", final=True)
        if tail_in:
            self.events.append((self._at(), "i", tail_in))
        return Cast(dict(self.header), list(self.events))

    @property
    def seconds(self) -> float:
        return self._at()


def dumps(cast: Cast) -> str:
    """The asciicast v2 text (newline-delimited JSON). ``ensure_ascii`` keeps escaped bytes
    (lone surrogates) representable."""
    lines = [json.dumps(cast.header, sort_keys=True)]
    lines += [json.dumps([t, kind, text]) for t, kind, text in cast.events]
    return "\n".join(lines) + "\n"


def loads(text: str, source: str = "<recording>") -> Cast:
    """Parse asciicast v2; raises CastError naming ``source`` and the line."""
    lines = text.splitlines()
    if not lines:
        raise CastError(f"{source}:1: empty recording")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise CastError(f"{source}:1: header is not JSON: {exc.msg}") from None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        raise CastError(f"{source}:1: not an asciicast v2 header")
    cast = Cast(header)
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CastError(f"{source}:{number}: event is not JSON: {exc.msg}") from None
        if (not isinstance(event, list) or len(event) != 3 or not isinstance(event[0], int | float)
                or not isinstance(event[1], str) or not isinstance(event[2], str)):
            raise CastError(f"{source}:{number}: an event is [seconds, code, text]")
        cast.events.append((float(event[0]), event[1], event[2]))
    return cast


def stream_bytes(cast: Cast, kind: str = "o") -> bytes:
    """Every event of ``kind`` concatenated, as the bytes that went over the wire."""
    return "".join(text for _, k, text in cast.events if k == kind).encode("utf-8", "surrogateescape")


def output_bytes(cast: Cast) -> bytes:
    return stream_bytes(cast, "o")


def input_lines(cast: Cast) -> list[str]:
    return [text for _, k, text in cast.events if k == "i"]
