"""The patrol's collector policy (dcops.heap): young collections rare, never made more frequent
than a caller set them, and one after each round."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dcops import heap


@pytest.fixture
def threshold() -> Iterator[None]:
    old = gc.get_threshold()
    yield
    gc.set_threshold(*old)


@pytest.mark.parametrize(("before", "after"), [
    ((700, 10, 10), (heap.YOUNG_THRESHOLD, 20, 20)),
    ((70_000, 20, 20), (heap.YOUNG_THRESHOLD, 20, 20)),
    ((5_000_000, 50, 30), (5_000_000, 50, 30)),  # an operator's rarer setting is kept
])
def test_tune(threshold: None, before: tuple[int, int, int], after: tuple[int, int, int]) -> None:
    gc.set_threshold(*before)
    heap.tune_garbage_collector()
    assert gc.get_threshold() == after


def test_after_round_collects_the_young_generation(threshold: None) -> None:
    gc.set_threshold(heap.YOUNG_THRESHOLD, 20, 20)
    cycles = []
    for _ in range(2000):
        a: list[object] = []
        a.append(a)
        cycles.append(a)
    del a
    cycles.clear()  # 2,000 unreachable cycles, too few for an automatic collection
    assert gc.get_count()[0] >= 2000
    collected: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.append(info["collected"])

    gc.callbacks.append(seen)
    try:
        heap.after_round()
    finally:
        gc.callbacks.remove(seen)
    assert collected and collected[0] >= 2000
