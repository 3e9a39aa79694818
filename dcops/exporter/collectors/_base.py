"""What every exporter collector shares: its own ``dcops_<name>_collector_success`` and
``dcops_<name>_collector_duration_seconds``, and reading the store so that a failure costs only
that collector's families (a broken store must not break the whole scrape).

Two shapes use it:

* ``StoreCollector`` -- a prometheus_client collector: subclasses set ``name`` and ``what`` and
  implement ``read()`` (the families of one scrape; raising is reported as success 0);
* ``own_text(name, what, ok, seconds)`` -- the same two gauges as exposition text, for collectors
  that serve pre-rendered text (patrol).

The registry skips modules whose name starts with ``_``, so this one is never served itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import ClassVar

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("dcops.exporter.collectors")


def _help(name: str, what: str) -> tuple[tuple[str, str], tuple[str, str]]:
    prefix = f"dcops_{name}_collector"
    return ((f"{prefix}_success", f"1 when the {name} collector read {what}, else 0"),
            (f"{prefix}_duration_seconds", f"Time the {name} collector took for this scrape"))


def own_families(name: str, what: str, ok: bool, seconds: float) -> list[Metric]:
    """The collector's own success and duration gauges."""
    (success, success_doc), (duration, duration_doc) = _help(name, what)
    return [GaugeMetricFamily(success, success_doc, value=1.0 if ok else 0.0),
            GaugeMetricFamily(duration, duration_doc, value=seconds)]


def own_text(name: str, what: str, ok: bool, seconds: float) -> str:
    """``own_families`` as exposition text (format 0.0.4)."""
    (success, success_doc), (duration, duration_doc) = _help(name, what)
    return (f"# HELP {success} {success_doc}\n# TYPE {success} gauge\n{success} {1.0 if ok else 0.0}\n"
            f"# HELP {duration} {duration_doc}\n# TYPE {duration} gauge\n{duration} {seconds:.6f}\n")


class StoreCollector(Collector):
    """A collector over stored results: ``collect()`` yields ``read()``'s families, or none when
    it raises (logged), then the collector's own success and duration."""

    name: ClassVar[str]  # dcops_<name>_collector_*
    what: ClassVar[str] = "its data"  # "1 when the <name> collector read <what>, else 0"

    def describe(self) -> Iterable[Metric]:
        # Nothing at registration: describing would need the data, and the store may be empty.
        return []

    def read(self) -> list[Metric]:
        """The families of one scrape (read from the store). May raise: the scrape goes on."""
        raise NotImplementedError

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        try:
            families, ok = self.read(), True
        except Exception:  # noqa: BLE001 - a broken store must not break the whole scrape
            log.exception("%s collector: reading %s failed", self.name, self.what)
            families, ok = [], False
        yield from families
        yield from own_families(self.name, self.what, ok, time.perf_counter() - started)
