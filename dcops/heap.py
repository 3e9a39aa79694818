"""Give the C heap's free memory back to the system after a burst (glibc ``malloc_trim``).

A patrol round allocates much and frees most of it at the end; glibc keeps freed memory for
later unless it lies at the top of its heap, so a long-running patrol's resident set kept the
round's peak (``tests/bench/patrol_memory.py``: 2-11 KB per BMC at 1,000 BMCs).
``malloc_trim(0)`` returns every free page of every arena, and costs a few milliseconds per
round. Nothing on a C library other than glibc (musl has no
such call and no such problem): a no-op there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

_trim: Any = None
_looked = False


def give_back_free_heap() -> bool:
    """Return free C-heap pages to the system; False when the C library cannot."""
    global _trim, _looked
    if not _looked:
        _looked = True
        try:
            _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            _trim.argtypes = [ctypes.c_size_t]
            _trim.restype = ctypes.c_int
        except (OSError, AttributeError):
            _trim = None
    if _trim is None:
        return False
    _trim(0)
    return True
