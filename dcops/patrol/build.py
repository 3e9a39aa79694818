"""A patrol engine built from the configuration (``patrol:`` and ``notify:`` sections), as the
one-shot ``dcops patrol run``, ``dcops patrol watch`` and the service all build it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dcops.config import Settings
from dcops.models import Host


def build_patrol(hosts: Sequence[Host], store: Any, settings: Settings, overrides: dict[str, Any] | None = None) -> Any:
    """The ``Patrol`` engine for ``hosts``; ``overrides`` are command-line values over the config's.
    Raises InvalidInputError naming the config file for a bad section."""
    from dcops.notify.config import load_notify_config
    from dcops.patrol.config import load_patrol_config
    from dcops.patrol.engine import Patrol

    config = load_patrol_config(settings.section("patrol"), overrides=overrides)
    notify = load_notify_config(settings.section("notify"), settings.config or "config")
    return Patrol(store, hosts, config, notify)
