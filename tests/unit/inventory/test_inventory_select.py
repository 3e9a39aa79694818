"""Selectors: names, globs, key=value, AND within a string, OR across strings, negation."""

from __future__ import annotations

import pytest

from dcops.errors import UsageError
from dcops.inventory import Inventory, load_inventory, parse_selectors
from tests.unit.inventory.paths import FLAT, SITE


@pytest.fixture(scope="module")
def book() -> Inventory:
    return load_inventory([SITE, FLAT])


@pytest.mark.parametrize(("selectors", "expected"), [
    (["trade-db-01"], ["trade-db-01"]),
    (["trade-db-0[12]"], ["trade-db-01", "trade-db-02"]),
    (["TRADE-DB-*"], ["trade-db-01", "trade-db-02", "trade-db-03", "trade-db-04"]),
    (["rack=A03,role=db,model=*R750"], ["clear-db-01", "clear-db-02"]),
    (["rack=a03,!role=db"], ["clear-app-01"]),
    (["rack=B02,name=comp-0[45]", "lab-0*,tag=canary"], ["comp-04", "comp-05", "lab-03"]),
    (["tag=low-latency,az=az2"], ["trade-gw-03", "trade-gw-04", "mkt-feed-02"]),
    (["site=lab"], ["lab-03", "lab-ipmi-01"]),
    (["room=r201,vendor=huawei"], ["stor-05", "stor-06"]),
    (["profile=dell-r750-trading"], ["trade-oms-01", "trade-oms-02"]),
    (["rack=", "nothing-like-this"], ["lab-03", "lab-ipmi-01"]),  # empty value: hosts without a rack
    (["no-such-host"], []),
])
def test_select(book: Inventory, selectors: list[str], expected: list[str]) -> None:
    assert [h.name for h in book.select(selectors)] == expected


def test_no_selector_selects_all_in_file_order(book: Inventory) -> None:
    assert book.select([]) == list(book.hosts)


@pytest.mark.parametrize(("text", "message"), [
    ("rak=A01", "unknown key 'rak' (did you mean 'rack'?)"),
    ("rack=A01,,role=db", "empty condition"),
    ("", "empty selector"),
    ("!", "empty condition"),
])
def test_bad_selectors_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse_selectors([text])
