"""Ownership by rendezvous hashing of racks over live workers, site affinity, epoch membership
(dcops.workers.ring): tables of cases, pure."""

from __future__ import annotations

import itertools

import pytest

from dcops.models import BmcEndpoint, Host, Location
from dcops.workers import ring
from dcops.workers.ring import Member


def _host(name: str, site: str | None = "dc1", room: str | None = "r1", rack: str | None = "A01") -> Host:
    return Host(name=name, bmc=BmcEndpoint(address="192.0.2.1"), location=Location(site=site, room=room, rack=rack))


def _fleet(sites: int = 2, racks: int = 30, per_rack: int = 4) -> list[Host]:
    return [_host(f"h-{s}-{r}-{i}", f"dc{s}", "r1", f"R{r:02d}")
            for s, r, i in itertools.product(range(1, sites + 1), range(racks), range(per_rack))]


@pytest.mark.parametrize(("host", "unit"), [
    (_host("a"), ("dc1", "rack:dc1/r1/A01")),
    (_host("a", room=None), ("dc1", "rack:dc1/A01")),
    (_host("a", rack=None), ("dc1", "host:a")),  # no rack: a unit of its own
    (_host("a", site=None, rack=None), ("", "host:a")),
])
def test_unit_of(host: Host, unit: tuple[str, str]) -> None:
    assert ring.unit_of(host) == unit


def test_a_rack_is_never_split() -> None:
    units = ring.units(_fleet())
    assert len(units) == 60 and all(len(names) == 4 for _, names in units.values())
    members = [Member("w1"), Member("w2"), Member("w3")]
    owners = ring.assign({u: s for u, (s, _) in units.items()}, members).owners
    host_owner = {n: owners[u] for u, (_, names) in units.items() for n in names}
    for _u, (_, names) in units.items():
        assert len({host_owner[n] for n in names}) == 1


def test_every_worker_gets_a_share_and_only_the_dead_ones_racks_move() -> None:
    sites = {u: s for u, (s, _) in ring.units(_fleet()).items()}
    three = ring.assign(sites, [Member("w1"), Member("w2"), Member("w3")]).owners
    shares = {w: sum(1 for o in three.values() if o == w) for w in ("w1", "w2", "w3")}
    assert all(10 <= n <= 30 for n in shares.values()), shares  # 60 racks, 20 each on average
    two = ring.assign(sites, [Member("w1"), Member("w3")]).owners
    moved = {u for u in sites if three[u] != two[u]}
    assert moved == {u for u, w in three.items() if w == "w2"}  # only w2's racks move
    back = ring.assign(sites, [Member("w1"), Member("w2"), Member("w3")]).owners
    assert back == three  # and exactly they move back when w2 returns


def test_the_answer_does_not_depend_on_member_order() -> None:
    sites = {u: s for u, (s, _) in ring.units(_fleet()).items()}
    members = [Member("w1"), Member("w2"), Member("w3")]
    assert ring.assign(sites, members) == ring.assign(sites, list(reversed(members)))


@pytest.mark.parametrize(("members", "expect_owners", "orphan_sites"), [
    # site affinity: a worker only gets racks of the sites it reaches
    ([Member("w1", frozenset({"dc1"})), Member("w2", frozenset({"dc2"}))], {"dc1": {"w1"}, "dc2": {"w2"}}, set()),
    # a worker without --sites reaches every site
    ([Member("w1", frozenset({"dc1"})), Member("w2")], {"dc1": {"w1", "w2"}, "dc2": {"w2"}}, set()),
    # nobody reaches dc2: its racks are orphans, not silently dropped
    ([Member("w1", frozenset({"dc1"}))], {"dc1": {"w1"}}, {"dc2"}),
    ([], {}, {"dc1", "dc2"}),
])
def test_site_affinity(members: list[Member], expect_owners: dict[str, set[str]], orphan_sites: set[str]) -> None:
    sites = {u: s for u, (s, _) in ring.units(_fleet()).items()}
    got = ring.assign(sites, members)
    by_site: dict[str, set[str]] = {}
    for unit, who in got.owners.items():
        by_site.setdefault(sites[unit], set()).add(who)
    assert by_site == expect_owners
    assert {sites[u] for u in got.orphans} == orphan_sites


def _lease(name: str, registered: float, expires: float, sites: tuple[str, ...] = ()) -> dict[str, object]:
    return {"name": name, "registered_at": registered, "expires_at": expires, "sites": list(sites)}


@pytest.mark.parametrize(("lease", "at", "member"), [
    (_lease("w", 90.0, 130.0), 100.0, True),     # registered before the epoch, valid past it
    (_lease("w", 90.0, 100.0), 100.0, False),    # expired at the boundary: out
    (_lease("w", 90.0, 99.0), 100.0, False),     # expired before it
    (_lease("w", 100.5, 130.0), 100.0, False),   # registered after the boundary: from the next epoch
    (_lease("w", 99.5, 130.0), 100.0, False),    # within the margin of the boundary: next epoch too
    (_lease("w", 98.9, 130.0), 100.0, True),     # just outside the margin
])
def test_members_at_an_epoch(lease: dict[str, object], at: float, member: bool) -> None:
    assert bool(ring.members_at([lease], at, margin=1.0)) is member


def test_members_keep_their_sites_and_come_sorted() -> None:
    got = ring.members_at([_lease("w2", 0, 99, ("dc2",)), _lease("w1", 0, 99)], 10.0)
    assert got == [Member("w1"), Member("w2", frozenset({"dc2"}))]


@pytest.mark.parametrize(("t", "interval", "epoch"), [(0.0, 2.0, 0), (1.99, 2.0, 0), (2.0, 2.0, 1),
                                                      (1733572800.5, 60.0, 28892880)])
def test_epochs(t: float, interval: float, epoch: int) -> None:
    assert ring.epoch_of(t, interval) == epoch
    assert ring.epoch_start(epoch, interval) <= t < ring.epoch_start(epoch + 1, interval)


@pytest.mark.parametrize(("text", "sites"), [(None, set()), ("", set()), ("dc1", {"dc1"}),
                                             (" dc1 , dc2,", {"dc1", "dc2"})])
def test_parse_sites(text: str | None, sites: set[str]) -> None:
    assert ring.parse_sites(text) == frozenset(sites)


# --- who re-sends an open incident to Alertmanager (each worker its shard's) -------------------
_OWNERS = ring.subjects(ring.Assignment({"rack:dc1/r1/A01": "w2", "host:solo": "w3"}, ("rack:dc9/r1/Z99",)),
                        {"rack:dc1/r1/A01": ["a1", "a2"], "host:solo": ["solo"], "rack:dc9/r1/Z99": ["z1"]})


def test_subjects_name_hosts_and_rack_paths() -> None:
    assert _OWNERS == {"a1": "w2", "a2": "w2", "dc1/r1/A01": "w2", "solo": "w3"}


@pytest.mark.parametrize(("subject", "members", "who"), [
    ("a1", [Member("w1"), Member("w2"), Member("w3")], "w2"),        # a host incident: its rack's owner
    ("dc1/r1/A01", [Member("w1"), Member("w2"), Member("w3")], "w2"),  # a rack incident: the rack's owner
    ("solo", [Member("w1"), Member("w2"), Member("w3")], "w3"),      # a rackless host: its own unit's owner
    ("z1", [Member("w3"), Member("w2")], "w2"),  # an orphan (no worker reaches dc9): the first member by name
    ("gone", [Member("w2"), Member("w1")], "w1"),  # a host no longer in the book: the same, never dropped
    ("gone", [], None),                            # nobody alive: nobody sends
])
def test_resender(subject: str, members: list[Member], who: str | None) -> None:
    assert ring.resender(subject, _OWNERS, members) == who


def test_every_open_incident_is_resent_by_exactly_one_worker() -> None:
    hosts = [*_fleet(sites=2, racks=6, per_rack=2), _host("solo", rack=None)]
    units = ring.units(hosts)
    members = [Member("w1", frozenset({"dc1"})), Member("w2"), Member("w3", frozenset({"dc2"}))]
    owners = ring.subjects(ring.assign({u: s for u, (s, _) in units.items()}, members),
                           {u: names for u, (_, names) in units.items()})
    subjects = [h.name for h in hosts] + [u.removeprefix("rack:") for u in units if u.startswith("rack:")] + ["gone"]
    for subject in subjects:
        senders = [m.name for m in members if ring.resender(subject, owners, members) == m.name]
        assert len(senders) == 1, (subject, senders)
    # A host's incidents and its rack's go to the same worker (rack convergence happens there too).
    for unit, (_, names) in units.items():
        if unit.startswith("rack:"):
            assert {owners[n] for n in names} == {owners[unit.removeprefix("rack:")]}
