"""Paths of the shipped example inventories and test cases."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CASES = REPO / "tests" / "cases" / "inventory"
SITE = REPO / "inventories" / "site.yaml"
FLAT = REPO / "inventories" / "examples" / "flat.yaml"
LEGACY = REPO / "inventories" / "examples" / "legacy"
