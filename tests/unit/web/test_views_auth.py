"""The web UI's pure parts: host state, rack placement, grouping, passwords, cookies, CSRF."""

from __future__ import annotations

import datetime as dt

import pytest

from dcops.models import BmcEndpoint, Host, Location
from dcops.web import auth, views
from dcops.web.auth import Role, User

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
SEEN = {"observed_at": NOW, "reachable": True, "power": "On", "health": "OK"}


@pytest.mark.parametrize(("row", "severity", "state"), [
    (None, None, "never"),
    ({"observed_at": None, "reachable": False}, "critical", "never"),
    ({**SEEN, "reachable": False}, "critical", "down"),
    (SEEN, None, "ok"),
    (SEEN, "info", "ok"),
    (SEEN, "warning", "warning"),
    (SEEN, "emergency", "critical"),
    ({**SEEN, "health": "Warning"}, None, "warning"),
    ({**SEEN, "health": "Critical"}, "warning", "critical"),
    ({**SEEN, "power": "Off"}, None, "off"),
    ({**SEEN, "power": "Off"}, "critical", "critical"),
    ({**SEEN, "power": "Off"}, "warning", "warning"),
])
def test_host_state(row: dict | None, severity: str | None, state: str) -> None:
    assert views.host_state(row, severity) == state


def _host(name: str, rack: str | None = "A01", u: int | None = 1, height: int = 1, **kw: object) -> Host:
    return Host(name, BmcEndpoint(address="192.0.2.1"), Location("s", "r", rack, u, height), **kw)  # type: ignore[arg-type]


def test_rack_places_hosts_from_the_bottom_and_flags_overlaps() -> None:
    hosts = [_host("a", u=1, height=2), _host("b", u=2), _host("c", u=None), _host("d", rack="A10", u=44)]
    rows = views.fleet_views(hosts, {}, [])
    racks = views.rack_views(rows, "s", "r")
    assert [r.name for r in racks] == ["A01", "A10"]
    a01 = racks[0]
    slots = {s.view.name: s for s in a01.slots}
    assert a01.height == 42 and slots["a"].top == 41 and slots["a"].height == 2 and slots["b"].top == 41
    assert slots["b"].overlaps and not slots["a"].overlaps
    assert [v.name for v in a01.unplaced] == ["c"]
    assert racks[1].height == 44 and racks[1].slots[0].top == 1  # a rack taller than 42 U grows


def test_groups_by_tag_put_untagged_hosts_in_none_and_worst_first() -> None:
    hosts = [_host("a", tags=("db", "gold")), _host("b", tags=("db",)), _host("c")]
    rows = {"b": {**SEEN, "reachable": False}, "a": SEEN, "c": SEEN}
    groups = views.group_views(views.fleet_views(hosts, rows, []), "tag")
    assert [(g[0], [m.name for m in g[1]]) for g in groups] == [("db", ["b", "a"]), ("(none)", ["c"]),
                                                                 ("gold", ["a"])]
    with pytest.raises(ValueError):
        views.group_views([], "password")


def test_passwords_are_hashed_and_checked() -> None:
    stored = auth.hash_password("correct horse")
    assert "correct horse" not in stored and stored.startswith("scrypt$")
    assert auth.verify_password("correct horse", stored)
    assert not auth.verify_password("correct hors", stored)
    assert not auth.verify_password("x", "md5$abc")
    assert auth.hash_password("same") != auth.hash_password("same")  # salted
    users = {"anna": ("operator", stored)}
    assert auth.check_login(users.get, "anna", "correct horse") == User("anna", Role.OPERATOR)
    assert auth.check_login(users.get, "anna", "wrong") is None
    assert auth.check_login(users.get, "bob", "correct horse") is None


def test_session_cookies_refuse_tampering_and_expiry() -> None:
    signer = auth.Signer(b"k" * 32)
    session = auth.new_session(User("victor", Role.VIEWER), now=1000.0, seconds=60)
    cookie = signer.dump(session)
    assert auth.session_user(signer.load(cookie, 1010.0)) == User("victor", Role.VIEWER)
    assert signer.load(cookie, 2000.0) is None  # expired
    body, mac = cookie.split(".")
    forged = signer.dump({**session, "role": "admin"}).split(".")[0] + "." + mac
    assert signer.load(forged, 1010.0) is None
    assert auth.Signer(b"o" * 32).load(cookie, 1010.0) is None  # another key
    for junk in ("", "x", "a.b.c", "!!!.???", body):
        assert signer.load(junk, 1010.0) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    signer = auth.Signer(b"k" * 32)
    token = signer.csrf("sid-1")
    assert signer.csrf_ok("sid-1", token)
    assert not signer.csrf_ok("sid-2", token)
    assert not signer.csrf_ok("sid-1", None) and not signer.csrf_ok("sid-1", "")


@pytest.mark.parametrize(("path", "public"), [
    ("/ui/login", True), ("/ui/static/style.css", True), ("/ui/", False), ("/ui/loginx", False),
    ("/ui/incident/1/ack", False), ("/ui/host/login", False),
])
def test_public_paths(path: str, public: bool) -> None:
    assert auth.is_public(path, "/ui") is public


def test_roles_are_ordered() -> None:
    assert Role.VIEWER < Role.OPERATOR < Role.ADMIN
    assert User("a", Role.ADMIN).can(Role.OPERATOR) and not User("v", Role.VIEWER).can(Role.OPERATOR)
    assert Role.parse(" Operator ") is Role.OPERATOR
    with pytest.raises(ValueError):
        Role.parse("root")


def test_time_to_detect_and_resolve_per_group() -> None:
    items = [{"kind": "psu", "detect_minutes": 2.0, "resolve_minutes": 60.0},
             {"kind": "psu", "detect_minutes": 4.0, "resolve_minutes": None},
             {"kind": "drive", "detect_minutes": 1.0, "resolve_minutes": 120.0},
             {"kind": None, "detect_minutes": None, "resolve_minutes": None}]
    rows = views.time_to(items, lambda x: x.get("kind"))
    assert [(r["name"], r["incidents"], r["mttd"], r["mttr"], r["mttr_pct"]) for r in rows] == [
        ("psu", 2, 3.0, 60.0, 50), ("(none)", 1, None, None, 0), ("drive", 1, 1.0, 120.0, 100)]
    assert views.time_to([], lambda x: None) == []


@pytest.mark.parametrize(("part", "whole", "pct"), [(1, 3, 33), (0, 0, 0), (5, None, 0), (None, 4, 0), (9, 4, 100)])
def test_percent(part: int | None, whole: int | None, pct: int) -> None:
    assert views.percent(part, whole) == pct


def test_login_throttle_by_name_and_address() -> None:
    now = [0.0]
    throttle = auth.LoginThrottle(limit=3, window=60, clock=lambda: now[0])
    for _ in range(2):
        throttle.failed("user:anna", "addr:192.0.2.7")
    assert throttle.blocked("user:anna", "addr:192.0.2.7") == 0
    now[0] = 10
    throttle.failed("user:anna", "addr:192.0.2.7")
    assert throttle.blocked("user:anna", "addr:198.51.100.1") == 50  # the name, from anywhere (oldest at 0)
    assert throttle.blocked("user:bob", "addr:192.0.2.7") == 50  # the address, any name
    assert throttle.blocked("user:bob", "addr:198.51.100.1") == 0
    now[0] = 59
    assert throttle.blocked("user:anna") == 1  # the oldest failure ages out at 60
    now[0] = 60.5
    assert throttle.blocked("user:anna") == 0
    throttle.failed("user:anna")
    throttle.succeeded("user:anna")
    assert "user:anna" not in throttle.failures


def test_fast_html_escapes_what_the_book_says() -> None:
    from dcops.web import fast

    evil = '<script>x</script>"a&b'
    rows = views.fleet_views([_host(evil, u=3)], {}, [])
    rack = views.rack_views(rows, "s", "r")[0]
    for html in (str(fast.rack_slots(rack, "/ui", False)), str(fast.host_badges(rows, "/ui"))):
        assert "<script>" not in html and '"a&b' not in html
        assert "&lt;script&gt;x&lt;/script&gt;&#34;a&amp;b" in html
        assert 'href="/ui/host/%3Cscript%3Ex%3C%2Fscript%3E%22a%26b"' in html
    assert 'class="slot s-never t40 h1"' in str(fast.rack_slots(rack, "/ui", True))
