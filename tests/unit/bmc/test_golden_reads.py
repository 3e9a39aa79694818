"""Every capture, perturbed capture and recorded sim visit reads and checks exactly as the golden
table says (tests/unit/bmc/golden_reads.py): the parsing and checking code may get cheaper, never
say something else."""

from __future__ import annotations

import pytest

from tests.unit.bmc.golden_reads import cases, expected

TABLE = expected()
CASES = dict(cases())


def test_the_table_covers_every_case() -> None:
    assert sorted(CASES) == sorted(TABLE)


@pytest.mark.parametrize("case", sorted(CASES))
def test_reads_and_checks_as_recorded(case: str) -> None:
    got = CASES[case]()
    want = TABLE[case]
    assert sorted(got) == sorted(want)
    for read in sorted(want):
        assert got[read] == want[read], f"{case} {read}"
