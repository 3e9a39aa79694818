"""Fuzzy search: typos, multi-token AND, ranking, matched fields, extra records, speed."""

from __future__ import annotations

import time

import pytest

from dcops.errors import UsageError
from dcops.inventory import Inventory, load_inventory
from dcops.inventory.search import SearchIndex, search_hosts
from dcops.models import AssetRecord, BmcEndpoint, Host, Location
from tests.unit.inventory.paths import SITE

R750_IN_A03 = ["clear-app-01", "clear-db-01", "clear-db-02"]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_inventory(SITE).hosts)


@pytest.mark.parametrize("query", ["r750 a03", "R750 A03", "r75o a03", "poweredge r750 A3", "a03 r750",
                                   "powredge r750 a03", "dell r750 sh1/r101/a03"])
def test_model_and_rack_find_exactly_the_r750s_in_a03(index: SearchIndex, query: str) -> None:
    hits = index.search(query)
    assert sorted(h.host.name for h in hits) == R750_IN_A03
    for hit in hits:
        assert "model" in hit.fields and ("rack" in hit.fields or "location" in hit.fields)


def test_other_models_and_racks_are_not_typos(index: SearchIndex) -> None:
    """R740 and R650 in A03 and R750s in other racks are different things, not near matches."""
    names = {h.host.name for h in index.search("r750 a03", min_score=0.1)}
    assert names >= set(R750_IN_A03)
    names = {h.host.name for h in index.search("r750 a03")}
    assert "clear-db-03" not in names and "hist-db-01" not in names  # R740 in A03
    assert "trade-db-03" not in names  # R750 in B01, name ends in 03


def test_exact_matches_rank_before_fuzzy_ones(index: SearchIndex) -> None:
    hits = index.search("trade-db-1")
    assert hits[0].host.name == "trade-db-01"
    assert hits[0].score > max(h.score for h in hits[1:])


@pytest.mark.parametrize(("query", "host", "field"), [
    ("N5BH5KR", "trade-db-01", "serial"),
    ("n5bh5kr", "trade-db-01", "serial"),
    ("N5BH5XR", "trade-db-01", "serial"),  # one letter mistyped
    ("SEC-2021-0004", "trade-db-01", "asset_tag"),
    ("192.0.2.24", "trade-db-01", "bmc"),
    ("hauwei c02", "stor-05", "vendor"),
    ("u8 a01", "trade-db-01", "u"),
])
def test_finds_by_every_field(index: SearchIndex, query: str, host: str, field: str) -> None:
    hits = index.search(query)
    assert hits and hits[0].host.name == host
    assert field in hits[0].fields


def test_every_token_must_match(index: SearchIndex) -> None:
    assert index.search("r750 zzzzqqq") == []


def test_min_score_and_limit(index: SearchIndex) -> None:
    loose = index.search("lenvo", min_score=60)
    strict = index.search("lenvo", min_score=95)
    assert len(loose) == 6 and strict == []
    assert len(index.search("r750", limit=2)) == 2


def test_result_says_what_matched(index: SearchIndex) -> None:
    hit = index.search("r750 a03")[0]
    assert hit.describe() == "model=PowerEdge R750, rack=A03"
    assert [m.token for m in hit.matches] == ["r750", "a03"]


def test_bad_queries_are_usage_errors(index: SearchIndex) -> None:
    with pytest.raises(UsageError):
        index.search("   ")
    with pytest.raises(UsageError):
        index.search("x", min_score=101)


def test_extra_records_make_more_fields_searchable() -> None:
    """Later issues add part serials (DIMMs, disks) without changing the search."""
    hosts = [Host("h1", BmcEndpoint("10.0.0.1")), Host("h2", BmcEndpoint("10.0.0.2"))]
    extra = [("h2", "dimm.serial", "80AD01234567"), ("unknown", "dimm.serial", "X")]
    hits = search_hosts(hosts, "80AD01234567", extra=extra)
    assert [(h.host.name, h.fields) for h in hits] == [("h2", ("dimm.serial",))]


def _fleet(n: int) -> list[Host]:
    models = ["PowerEdge R750", "PowerEdge R740", "ProLiant DL380 Gen10 Plus", "ThinkSystem SR650 V2", "2288H V5"]
    return [
        Host(f"node-{i:05d}", BmcEndpoint(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"),
             Location("sh1", f"r{i // 400}", f"R{i // 20:04d}", i % 20 * 2 + 1), vendor="Dell",
             model=models[i % 5], asset=AssetRecord(serial=f"SN{i * 7919:09d}", asset_tag=f"AT-{i:06d}"))
        for i in range(n)
    ]


def test_fast_for_ten_thousand_hosts() -> None:
    hosts = _fleet(10_000)
    started = time.perf_counter()
    index = SearchIndex(hosts)
    built = time.perf_counter() - started
    started = time.perf_counter()
    hits = index.search("r750 r0042")
    searched = time.perf_counter() - started
    assert sorted(h.host.name for h in hits) == ["node-00840", "node-00845", "node-00850", "node-00855"]
    # Generous bounds for a loaded CI machine; typically ~0.3 s and ~0.1 s.
    assert built < 5 and searched < 2, (built, searched)


def test_an_empty_inventory_finds_nothing() -> None:
    assert SearchIndex(Inventory(()).hosts).search("x") == []
