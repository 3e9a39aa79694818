"""Memory hygiene of a long-running patrol: when the cyclic garbage collector runs, and giving the
C heap's free memory back to the system after a round (glibc ``malloc_trim``).

The collector. A round allocates millions of short-lived objects (each visit's parsed documents,
coroutine frames) while the fleet's long-lived state stays. Reference counting frees nearly all of
them; the cyclic collector is only for cycles, and a steady round at 1,000 BMCs leaves ~200 cyclic
objects. With CPython's default threshold (700 new containers) the youngest generation is scanned
thousands of times a round, and every scan walks everything in flight at that moment (hundreds of
visits' documents) and promotes it. So: young collections at most every 1,000,000 new containers
(a big round still collects; cyclic garbage stays bounded), and one young collection after each
round, when nothing is in flight (``after_round``). Measured at 1,000 simulated BMCs: 120 ms of
collection per round became 12-19 ms, a steady round's CPU -7% (threshold 70,000 before). The
patrol calls ``after_round`` once the round's own objects are freed (``Patrol.round``): then the
young generation is what the patrol keeps plus the round's cycles, usually under the 700 that
make a collection worth it (at 10,000 BMCs: ~390 ms a round before, none in most rounds now).

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
import gc
from typing import Any

YOUNG_THRESHOLD = 1_000_000

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


def tune_garbage_collector() -> None:
    """Young collections at most every ``YOUNG_THRESHOLD`` new containers (never lowered)."""
    threshold = gc.get_threshold()
    if threshold[0] < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, max(threshold[1], 20), max(threshold[2], 20))


def after_round() -> None:
    """After a round: collect the young generation (the round's cycles; nothing is in flight now,
    so the scan is short) and give free C-heap pages back."""
    if gc.isenabled() and gc.get_count()[0] > 700:
        gc.collect(0)
    give_back_free_heap()
