"""asciicast v2 recordings: output bytes survive exactly (split UTF-8, non-UTF-8 bytes), input is
recorded a line at a time, and bad recordings are refused naming the line."""

from __future__ import annotations

import pytest

from dcops.console import cast


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("chunks", [
    [b"login: "],
    [b"caf\xc3", b"\xa9 ok\r\n"],  # a UTF-8 character split across reads
    [b"\x1b[2J\x1b[H", b"BIOS \xff\xfe garbage\r\n"],  # not UTF-8 at all
    [b"\xe2\x82", b""],  # a truncated character at the end
    [],
])
def test_output_bytes_round_trip(chunks: list[bytes]) -> None:
    clock = Clock()
    rec = cast.Recorder(clock)
    for n, chunk in enumerate(chunks):
        clock.now += n * 0.25
        rec.output(chunk)
    again = cast.loads(cast.dumps(rec.finish()))
    assert cast.output_bytes(again) == b"".join(chunks)
    assert rec.bytes_out == sum(map(len, chunks))
    times = [t for t, _, _ in again.events]
    assert times == sorted(times)


@pytest.mark.parametrize(("typed", "lines"), [
    ([b"r", b"o", b"o", b"t", b"\r"], ["root\r"]),
    ([b"ls -l\rexit\r"], ["ls -l\r", "exit\r"]),
    ([b"half"], ["half"]),  # flushed when the session ends
    ([b"a\r\nb\n"], ["a\r", "\n", "b\n"]),
    ([b"\x03"], ["\x03"]),
])
def test_input_is_recorded_by_line(typed: list[bytes], lines: list[str]) -> None:
    rec = cast.Recorder(Clock())
    for data in typed:
        rec.input(data)
    assert cast.input_lines(cast.loads(cast.dumps(rec.finish()))) == lines


def test_header() -> None:
    rec = cast.Recorder(Clock(), width=120, height=40, timestamp=1765000000, title="db-01 for alice")
    header = cast.loads(cast.dumps(rec.finish())).header
    assert header == {"version": 2, "width": 120, "height": 40, "timestamp": 1765000000, "title": "db-01 for alice"}


@pytest.mark.parametrize(("text", "where"), [
    ("", ":1: empty"),
    ("{not json\n", ":1: header is not JSON"),
    ('{"version": 1}\n', ":1: not an asciicast v2"),
    ('{"version": 2}\n[0.5, "o"]\n', ":2: an event is"),
    ('{"version": 2}\n[0.5, "o", "x"]\n[oops\n', ":3: event is not JSON"),
])
def test_bad_recordings_name_the_line(text: str, where: str) -> None:
    with pytest.raises(cast.CastError, match=f"rec.cast{where}"):
        cast.loads(text, "rec.cast")
