"""dump_inventory writes what load_inventory reads back to the same hosts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcops.inventory import dump_inventory, load_inventory, load_inventory_text
from dcops.inventory.dump import dump_inventory_text
from dcops.models import AssetRecord, BmcEndpoint, Host, Location, Protocol, SourceRef
from tests.unit.inventory.paths import FLAT, SITE


def _bare(hosts: tuple[Host, ...] | list[Host]) -> dict[str, Host]:
    return {h.name: dataclasses.replace(h, source=SourceRef()) for h in hosts}


def test_site_round_trip_structured(tmp_path: Path) -> None:
    book = load_inventory([SITE, FLAT])
    out = tmp_path / "out.yaml"
    dump_inventory(book.hosts, out, racks=book.racks)
    again = load_inventory(out)
    assert _bare(again.hosts) == _bare(book.hosts)
    assert {(str(r), r.height) for r in again.racks} == {(str(r), r.height) for r in book.racks}
    text = out.read_text(encoding="utf-8")
    assert "sites:" in text and "bmc: {address:" in text
    assert text.count("password:") == 1  # shared BMC settings are written once, as file defaults


def test_flat_round_trip_to_a_stream() -> None:
    book = load_inventory(SITE)
    stream = io.StringIO()
    dump_inventory(book.hosts, stream, structured=False)
    assert "sites:" not in stream.getvalue()
    assert _bare(load_inventory_text(stream.getvalue()).hosts) == _bare(book.hosts)


def test_plaintext_password_keeps_the_file_loadable() -> None:
    hosts = [Host("h1", BmcEndpoint("10.0.0.1", password_ref="plain:pw123"))]
    text = dump_inventory_text(hosts)
    assert "insecure_plaintext_passwords: true" in text
    assert load_inventory_text(text).get("h1").bmc.password_ref == "plain:pw123"


_names = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
# Text that YAML would misread unquoted: numbers, booleans, nulls, dates, colons, unicode.
_texts = st.one_of(
    st.sampled_from(["0123", "yes", "no", "null", "~", "1e5", "2023-01-01", "a: b", "#x", "'q'", "华为", " lead"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20),
)
_dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31))


@st.composite
def _hosts(draw: st.DrawFn) -> list[Host]:
    names = draw(st.lists(_names, min_size=1, max_size=5, unique=True))
    hosts = []
    for i, name in enumerate(names):
        bought = draw(st.none() | _dates)
        ends = draw(st.none() | st.dates(min_value=bought or dt.date(2000, 1, 1), max_value=dt.date(2045, 1, 1)))
        placed = draw(st.booleans())
        hosts.append(Host(
            name=name,
            bmc=BmcEndpoint(f"10.0.0.{i + 1}", port=draw(st.none() | st.integers(1, 65535)),
                            protocol=draw(st.sampled_from(list(Protocol))), scheme=draw(st.sampled_from(["http", "https"])),
                            username=draw(st.sampled_from(["", "root"])), password_ref="env:PW",
                            verify_tls=draw(st.booleans())),
            location=Location("s1", "r1", "A01", i * 2 + 1, draw(st.integers(1, 2))) if placed else Location(),
            vendor=draw(st.none() | _texts), model=draw(st.none() | _texts),
            role=draw(st.none() | st.sampled_from(["db", "web"])),
            tags=tuple(draw(st.lists(_names, max_size=3, unique=True))),
            asset=AssetRecord(serial=draw(st.none() | _texts), notes=draw(st.none() | _texts),
                              purchase_date=bought, warranty_end=ends),
        ))
    return hosts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hosts=_hosts(), structured=st.booleans())
def test_any_hosts_round_trip(hosts: list[Host], structured: bool) -> None:
    text = dump_inventory_text(hosts, structured=structured)
    assert _bare(load_inventory_text(text).hosts) == _bare(hosts)
