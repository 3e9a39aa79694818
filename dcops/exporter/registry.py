"""Which collectors the exporter serves: every module of ``dcops.exporter.collectors`` that
exposes ``make_collector(store)``, found at start-up, so a capability adds its metrics by adding a
module, without editing this file or the server.

A factory returns either a prometheus_client collector (``collect()``, rendered per scrape) or an
object with ``exposition() -> bytes`` (pre-rendered text, for large collectors such as patrol),
or None when it has nothing to offer in this deployment. Each collector publishes its own
``dcops_<name>_collector_success`` and ``_duration_seconds``: ``collectors/_base.py`` has them
(``StoreCollector`` for prometheus_client collectors, ``own_text`` for pre-rendered ones), and
reading the store inside it, so one collector's failure is its own success 0, not a failed scrape.
A collector that needs the book (patrol, assets) has a ``hosts`` attribute ``dcops serve`` sets. A module that fails to load
or whose factory raises is logged and reported by ``dcops_exporter_collector_loaded{collector}``
= 0; the others are served.

Modules written before this convention (``capacity.py``) are adapted here, in ``ADAPTERS``.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


def _capacity(store: Any) -> Any:
    from dcops.capacity.results import CapacityResult
    from dcops.exporter.collectors.capacity import CapacityCollector
    from dcops.store.capacity import latest_result

    def latest() -> CapacityResult | None:
        doc = latest_result(store)
        return CapacityResult.from_json(doc) if doc else None

    return CapacityCollector(latest)


ADAPTERS: dict[str, Callable[[Any], Any]] = {"capacity": _capacity}


@dataclass
class Loaded:
    name: str
    collector: Any
    error: str | None = None


def discover(store: Any, *, only: set[str] | None = None, skip: set[str] | None = None) -> list[Loaded]:
    """Instantiate every collector module's factory (sorted by module name)."""
    from dcops.exporter import collectors

    found: list[Loaded] = []
    for info in sorted(pkgutil.iter_modules(collectors.__path__), key=lambda i: i.name):
        name = info.name
        if name.startswith("_") or (only and name not in only) or (skip and name in skip):
            continue
        try:
            module = importlib.import_module(f"{collectors.__name__}.{name}")
            factory = getattr(module, "make_collector", None) or ADAPTERS.get(name)
            if factory is None:
                continue
            collector = factory(store)
        except Exception as exc:  # noqa: BLE001 - one broken collector must not take the exporter down
            log.exception("exporter: collector %s failed to load", name)
            found.append(Loaded(name, None, f"{type(exc).__name__}: {exc}"))
            continue
        if collector is not None:
            found.append(Loaded(name, collector))
    return found
