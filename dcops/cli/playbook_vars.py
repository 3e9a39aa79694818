"""``--playbook-var KEY=VALUE`` parsing, shared by ``provision`` and ``baseline verify --os``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dcops.errors import UsageError


def parse_playbook_vars(items: Sequence[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; VALUE is YAML (empty: "")."""
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--playbook-var takes KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value) if value else ""
    return out
