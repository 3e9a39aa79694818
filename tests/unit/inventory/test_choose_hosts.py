"""Choosing the hosts of a command (names or patterns, narrowed by --limit): pure, as a table."""

from __future__ import annotations

import pytest

from dcops.errors import UsageError
from dcops.inventory import Inventory, load_inventory, parse_selectors
from dcops.inventory.select import choose_hosts
from tests.unit.inventory.paths import FLAT, SITE


@pytest.fixture(scope="module")
def book() -> Inventory:
    return load_inventory([SITE, FLAT])


CASES = [
    # names, limit, chosen, warnings
    (["web-01", "web-02"], [], ["web-01", "web-02"], []),
    (["web-*"], ["web-02,web-03"], ["web-02", "web-03"], []),
    ([], ["rack=A01:&role=db"], ["trade-db-01", "trade-db-02", "lab-02"], []),  # lab-02: the flat book's A01
    (["role=db"], ["trade-db-01,trade-db-09"], ["trade-db-01"], ["no host 'trade-db-09' in the inventory"]),
]


@pytest.mark.parametrize(("names", "limit", "chosen", "warnings"), CASES)
def test_choose(book: Inventory, names: list[str], limit: list[str], chosen: list[str], warnings: list[str]) -> None:
    said: list[str] = []
    hosts = choose_hosts(book.hosts, names, parse_selectors(limit), get=book.get, warn=said.append)
    assert [h.name for h in hosts] == chosen
    assert [line.split(" (")[0] for line in said] == warnings


@pytest.mark.parametrize(("names", "limit", "message"), [
    ([], [], "name the hosts"),
    (["web-1"], [], "no host 'web-1' in the inventory (did you mean"),
    (["web-*"], ["role=db"], "no host matches"),
])
def test_refusals(book: Inventory, names: list[str], limit: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        choose_hosts(book.hosts, names, parse_selectors(limit), get=book.get)


def test_an_unknown_name_is_reported_before_a_bad_limit(book: Inventory) -> None:
    def bad_limit() -> object:
        raise AssertionError("the limit was parsed before the names were checked")

    with pytest.raises(UsageError, match="no host 'nope'"):
        choose_hosts(book.hosts, ["nope"], bad_limit, get=book.get)  # type: ignore[arg-type]
