"""DocPool (dcops/bmc/redfish/share.py): documents kept equal, identical parts kept once."""

from __future__ import annotations

import copy
import gc
import json

import pytest

from dcops.bmc.redfish.share import DocPool


def service_root(uuid: str) -> dict:
    return {"@odata.id": "/redfish/v1", "UUID": uuid, "RedfishVersion": "1.13.1",
            "ProtocolFeaturesSupported": {"ExpandQuery": {"Levels": True, "MaxLevels": 1}, "SelectQuery": True},
            "Systems": {"@odata.id": "/redfish/v1/Systems"}, "Links": {"Sessions": {"@odata.id": "/s"}}}


# (first document, second document, the sub-path that must be one object in both, or None: kept apart)
CASES = [
    ("same collection", {"Members": [{"@odata.id": "/a"}], "Members@odata.count": 1},
     {"Members": [{"@odata.id": "/a"}], "Members@odata.count": 1}, ()),
    ("roots differing by UUID share their links", service_root("u-1"), service_root("u-2"),
     ("ProtocolFeaturesSupported",)),
    ("1 and True apart", {"x": 1}, {"x": True}, None),
    ("1 and 1.0 apart", {"x": 1}, {"x": 1.0}, None),
    ("0.0 and -0.0 apart", [0.0], [-0.0], None),
    ("None and missing apart", {"x": None}, {}, None),
    ("False and 0 apart", [False], [0], None),
    ("key order kept apart", {"a": 1, "b": 2}, {"b": 2, "a": 1}, None),
    ("list and dict apart", {"x": []}, {"x": {}}, None),
    ("string and number apart", ["1"], [1], None),
    ("nested lists", {"x": [[1, "a"], [2, "b"]]}, {"x": [[1, "a"], [2, "b"]]}, ("x",)),
]


@pytest.mark.parametrize(("label", "first", "second", "shared"), CASES, ids=[c[0] for c in CASES])
def test_equal_documents_share_parts_and_stay_what_they_were(label, first, second, shared) -> None:
    pool = DocPool()
    want_a, want_b = json.dumps(first), json.dumps(second)
    a, b = pool.share(copy.deepcopy(first)), pool.share(copy.deepcopy(second))
    # Same content, same key order, same types (json.dumps spells True/1/1.0/-0.0 apart).
    assert json.dumps(a) == want_a
    assert json.dumps(b) == want_b
    if shared is None:
        assert a is not b
    else:
        part_a, part_b = a, b
        for step in shared:
            part_a, part_b = part_a[step], part_b[step]
        assert part_a is part_b


def test_strings_are_shared() -> None:
    pool = DocPool()
    a = pool.share({"Name": "".join(["System ", "Board"])})
    b = pool.share({"Name": "".join(["System ", "Bo", "ard"])})
    assert a["Name"] is b["Name"]


def test_prune_forgets_unused_parts_and_never_matches_a_reused_id() -> None:
    pool = DocPool(prune_every=10**9)
    kept = pool.share(service_root("kept"))
    for k in range(200):
        pool.share(service_root(f"gone-{k}"))  # dropped at once: only the pool holds them
    gc.collect()
    before = len(pool)
    pool.prune()
    assert len(pool) < before
    # The kept document's parts are still there and still shared.
    again = pool.share(service_root("kept"))
    assert again is kept
    # New documents after a prune (ids of freed parts may be reused) come back equal to what was given.
    for k in range(200):
        doc = {"k": k, "v": [k, {"n": str(k)}], "t": k % 2 == 0}
        assert json.dumps(pool.share(copy.deepcopy(doc))) == json.dumps(doc)


def test_prune_runs_by_itself_as_the_pool_grows() -> None:
    pool = DocPool(prune_every=64)
    for k in range(2000):
        pool.share(service_root(f"u-{k}"))
    assert len(pool) < 2000  # unique roots nobody keeps are forgotten along the way


def test_a_hostile_depth_is_kept_as_it_came() -> None:
    import orjson

    raw = b'{"a":' * 1000 + b"1" + b"}" * 1000  # orjson's limit is 1,024 levels; Python recurses ~1,000
    doc = orjson.loads(raw)
    shared = DocPool().share(doc)
    levels = 0
    while isinstance(shared, dict):  # walked by hand: comparing 1,000 levels recurses too deep
        assert list(shared) == ["a"]
        shared, levels = shared["a"], levels + 1
    assert (levels, shared) == (1000, 1)


def test_colliding_hashes_never_merge_different_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    from dcops.bmc.redfish import share

    monkeypatch.setattr(share, "hash", lambda _key: 0, raising=False)  # every part collides
    pool = DocPool()
    docs = [first for _, first, _, _ in CASES] + [second for _, _, second, _ in CASES]
    got = [pool.share(copy.deepcopy(doc)) for doc in docs]
    assert [json.dumps(g) for g in got] == [json.dumps(d) for d in docs]
    # Equal parts still meet: the pool keeps the first part of hash 0 and checks a hit for real.
    fresh = DocPool()
    assert fresh.share({"a": 1}) is fresh.share({"a": 1})
