"""``~.`` at the start of a line leaves the terminal console; anywhere else it is typed."""

from __future__ import annotations

import pytest

from dcops.console.terminal import EscapeReader


@pytest.mark.parametrize(("chunks", "sent", "leave"), [
    ([b"~."], b"", True),  # at the very start
    ([b"ls\r~."], b"ls\r", True),
    ([b"ls\r~", b"."], b"ls\r", True),  # split across reads
    ([b"a~."], b"a~.", False),  # not at the start of a line
    ([b"~~"], b"~", False),  # a literal tilde
    ([b"~x"], b"~x", False),
    ([b"\n~.rest"], b"\n", True),
    ([b"~", b"~", b"."], b"~.", False),  # "~~" sent one tilde; "." then follows it mid-line
])
def test_escape(chunks: list[bytes], sent: bytes, leave: bool) -> None:
    reader = EscapeReader()
    out = b""
    left = False
    for chunk in chunks:
        data, left = reader.feed(chunk)
        out += data
        if left:
            break
    assert (out, left) == (sent, leave)
