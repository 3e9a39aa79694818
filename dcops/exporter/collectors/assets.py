"""Prometheus metrics of asset management: warranty, discrepancies, collection times.

The collector is given a callable returning ``AssetsView`` (built from the book and the state
store by the exporter; any function in tests). A scrape reads only that: it never touches a BMC.

Metrics:

* ``dcops_assets_warranty_remaining_seconds{host}`` -- time until the warranty ends, in whole days
  (``/ 86400`` in PromQL gives the days left the book implies; negative: expired), in base units
  because ``promtool check metrics`` rejects ``_days``; hosts without a warranty end have none
* ``dcops_assets_warranty_end_timestamp_seconds{host}`` -- the warranty end (Unix time, start of
  the day, UTC), for alerting rules in base units
* ``dcops_assets_warranty_info{host,supplier,contract,service_provider}`` -- 1; join on ``host``
* ``dcops_assets_discrepancies{kind}`` -- discrepancies of each kind in the latest reconciliation
* ``dcops_assets_reconcile_timestamp_seconds`` -- when that reconciliation ran
* ``dcops_assets_last_collection_timestamp_seconds{host}`` -- the last successful collection of a host
* ``dcops_assets_collector_success`` and ``dcops_assets_collector_duration_seconds``

``supplier``, ``contract`` and ``service_provider`` are labels beyond the usual set (host, site,
rack, ...) on the ``_info`` gauge only: that is what an ``_info`` gauge is for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from dcops.assets.reconcile import Kind
from dcops.assets.warranty import WarrantyRow
from dcops.exporter.collectors._base import StoreCollector


@dataclass(frozen=True)
class AssetsView:
    """What one scrape publishes."""

    warranty: tuple[WarrantyRow, ...] = ()
    discrepancies: Mapping[str, int] | None = None  # kind -> count of the latest reconciliation
    reconciled_at: dt.datetime | None = None
    collections: Mapping[str, dt.datetime] = field(default_factory=dict)  # host -> last success


class AssetsCollector(StoreCollector):
    """Yields the asset gauges of ``view()`` (only its own success and duration when it fails)."""

    name = "assets"
    what = "its data"

    def __init__(self, view: Callable[[], AssetsView | None]) -> None:
        self._view = view
        # The book's hosts (warranty rows): ``dcops serve`` sets it to its inventory's hosts.
        self.hosts: Callable[[], Iterable[Any]] = lambda: ()

    def read(self) -> list[Metric]:
        view = self._view()
        return build_families(view) if view is not None else []


def _unix(when: dt.datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def build_families(view: AssetsView) -> list[Metric]:
    """The gauges for one view (pure, so it can be tested on its own)."""
    days = GaugeMetricFamily("dcops_assets_warranty_remaining_seconds",
                             "Time until the warranty ends per the book, whole days in seconds (divide by 86400 "
                             "for days left; negative once expired)", labels=["host"])
    ends = GaugeMetricFamily("dcops_assets_warranty_end_timestamp_seconds",
                             "When the warranty ends per the book (Unix time, start of that day UTC)",
                             labels=["host"])
    info = GaugeMetricFamily("dcops_assets_warranty_info", "Supplier, contract and service provider of a server "
                             "per the book (value 1)", labels=["host", "supplier", "contract", "service_provider"])
    for row in view.warranty:
        info.add_metric([row.host, row.supplier or "", row.contract or "", row.service_provider or ""], 1.0)
        if row.days_left is not None and row.warranty_end is not None:
            days.add_metric([row.host], float(row.days_left * 86400))
            midnight = dt.datetime.combine(row.warranty_end, dt.time(), tzinfo=dt.UTC)
            ends.add_metric([row.host], midnight.timestamp())
    families: list[Metric] = [days, ends, info]
    if view.discrepancies is not None:
        found = GaugeMetricFamily("dcops_assets_discrepancies",
                                  "Discrepancies between the book and the BMCs in the latest reconciliation, by kind",
                                  labels=["kind"])
        for kind in Kind:
            found.add_metric([kind.value], float(view.discrepancies.get(kind.value, 0)))
        families.append(found)
    if view.reconciled_at is not None:
        families.append(GaugeMetricFamily("dcops_assets_reconcile_timestamp_seconds",
                                          "When the latest reconciliation ran (Unix time)",
                                          value=_unix(view.reconciled_at)))
    last = GaugeMetricFamily("dcops_assets_last_collection_timestamp_seconds",
                             "When the asset inventory of a server was last collected over its BMC (Unix time)",
                             labels=["host"])
    for host, when in sorted(view.collections.items()):
        last.add_metric([host], _unix(when))
    families.append(last)
    return families


def store_view(store: object, hosts: Iterable[object] | Callable[[], Iterable[object]],
               today: Callable[[], dt.date] | None = None) -> Callable[[], AssetsView]:
    """A ``view`` callable over the state store and the book's hosts (a list, or a callable
    read at each scrape), for the exporter server."""
    from dcops.assets import store as asset_store
    from dcops.assets.warranty import warranty_rows

    fixed = None if callable(hosts) else list(hosts)

    def view() -> AssetsView:
        book = fixed if fixed is not None else list(hosts())  # type: ignore[operator]
        latest = asset_store.latest_reconcile(store)  # type: ignore[arg-type]
        return AssetsView(
            warranty=tuple(warranty_rows(book, (today or dt.date.today)())),  # type: ignore[arg-type]
            discrepancies=latest["counts"] if latest else None,
            reconciled_at=latest["at"] if latest else None,
            collections=asset_store.last_collections(store),  # type: ignore[arg-type]
        )

    return view


def make_collector(store: Any) -> AssetsCollector:
    """The exporter's factory (dcops.exporter.registry finds it): the latest reconciliation and
    collections from the store, warranties from ``collector.hosts()`` (the book; set by
    ``dcops serve``, empty until then)."""
    collector = AssetsCollector(lambda: None)
    collector._view = store_view(store, lambda: collector.hosts())
    return collector
