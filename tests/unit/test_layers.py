"""Layers point one way (docs/design.md#layers): every ``import`` in dcops/ is read (ast, nothing is
imported) and checked against the rules below. A table of synthetic imports proves that each rule
fails when it is broken, so this test cannot pass by checking nothing."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dcops"

# The bottom layer: modules directly in dcops/ that every layer may use (errors, models, config,
# secrets, report, ...). ``dcops.actions`` sits above the store (it writes audit records).
CORE = frozenset({"dcops", "dcops.config", "dcops.errors", "dcops.fileio", "dcops.models", "dcops.observation",
                  "dcops.processes", "dcops.report", "dcops.secrets", "dcops.terminal", "dcops.timeparse"})

# Modules ARCHITECTURE.md names as pure: no I/O, so they import nothing that does any.
PURE = ("dcops.baseline.diff", "dcops.patrol.checks", "dcops.patrol.converge", "dcops.patrol.pdu", "dcops.patrol.pace",
        "dcops.assets.reconcile", "dcops.capacity.math")


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the importing file
    imported: str  # dotted module name it imports
    where: str  # file:line


def _top(module: str) -> str:
    """``dcops.patrol.store`` -> ``dcops.patrol``; a core module is its own top."""
    parts = module.split(".")
    return module if module in CORE else ".".join(parts[:2])


def _within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _only(importer: str, imported: str, *allowed: str) -> bool:
    """True when ``imported`` is core or within ``allowed`` (or the importer's own package)."""
    return imported in CORE or _within(imported, _top(importer), *allowed)


@dataclass(frozen=True)
class Rule:
    name: str
    applies: tuple[str, ...]  # importer packages the rule constrains ("" = every module)
    exempt: tuple[str, ...]  # importer packages it does not constrain

    def broken_by(self, imp: Import) -> bool:
        if self.applies != ("",) and not _within(imp.importer, *self.applies):
            return False
        if _within(imp.importer, *self.exempt):
            return False
        return not CHECKS[self.name](imp.importer, imp.imported)


CHECKS = {
    # Core modules import nothing of dcops above them.
    "core imports only core": lambda _i, imported: imported in CORE,
    # The store (engine, migrations, audit, chain, roles) knows no capability: each capability
    # owns its tables (patrol/store.py, assets/store.py, provision/store.py, notify/store.py).
    "store imports no capability": lambda i, imported: _only(i, imported, "dcops.store"),
    # Drivers know the hardware, not what dcops does with it.
    "bmc imports no capability": lambda i, imported: _only(i, imported, "dcops.bmc"),
    # Rack PDU readers are drivers too; they send through the BMC layer's HTTP client and JSON
    # reader (one set of transport rules for every Redfish device), nothing else of it.
    "pdu imports no capability": lambda i, imported: _only(i, imported, "dcops.pdu", "dcops.bmc.redfish.wire",
                                                           "dcops.bmc.redfish.jsonbody"),
    # The book is read by everyone and reads no one.
    "inventory imports no capability": lambda i, imported: _only(i, imported, "dcops.inventory"),
    # Notify has its own Message and silence test: it imports no capability that notifies.
    "notify imports no capability (patrol, assets)": lambda i, imported: _only(i, imported, "dcops.store"),
    # Running actions over hosts sits below every front end.
    "actions imports no front end or capability": lambda i, imported: _only(i, imported, "dcops.store"),
    # Pure logic (tables of cases test it) imports only core and its own package's models.
    "pure modules import only core and their own package": lambda i, imported: _only(i, imported),
    # A scrape, a page, read stored results only: the exporter and the web UI never talk to a
    # BMC (nor the simulator) themselves.
    "exporter and web import no bmc, sim, service or cli":
        lambda _i, imported: not _within(imported, "dcops.bmc", "dcops.sim", "dcops.service", "dcops.cli"),
    # The command line is the top: only it and ``python -m dcops`` import it.
    "nothing imports cli": lambda _i, imported: not _within(imported, "dcops.cli"),
    # The long-running service is composed of capabilities; only its command starts it.
    "only cli imports service": lambda _i, imported: not _within(imported, "dcops.service"),
}

RULES = [
    Rule("core imports only core", applies=tuple(sorted(CORE - {"dcops"})), exempt=()),
    Rule("store imports no capability", applies=("dcops.store",), exempt=()),
    Rule("bmc imports no capability", applies=("dcops.bmc",), exempt=()),
    Rule("pdu imports no capability", applies=("dcops.pdu",), exempt=()),
    Rule("inventory imports no capability", applies=("dcops.inventory",), exempt=()),
    Rule("notify imports no capability (patrol, assets)", applies=("dcops.notify",), exempt=()),
    Rule("actions imports no front end or capability", applies=("dcops.actions",), exempt=()),
    Rule("pure modules import only core and their own package", applies=PURE, exempt=()),
    Rule("exporter and web import no bmc, sim, service or cli", applies=("dcops.exporter", "dcops.web"), exempt=()),
    Rule("nothing imports cli", applies=("",), exempt=("dcops.cli", "dcops.__main__")),
    Rule("only cli imports service", applies=("",), exempt=("dcops.cli", "dcops.service")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> Iterable[Import]:
    """Every dcops import in ``path``, relative ones resolved, wherever it is (a function body, an
    ``if TYPE_CHECKING:`` block): a deferred import is still a dependency."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    rel = path.relative_to(ROOT)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base_name = ".".join(base)
                module = f"{base_name}.{node.module}" if node.module else base_name
            else:
                module = node.module or ""
            # ``from dcops import cli`` imports the module dcops.cli: count each name as a module
            # when it could be one, and the package itself as well.
            targets = [module] + [f"{module}.{a.name}" for a in node.names if module == "dcops"]
        else:
            continue
        for target in targets:
            if target == "dcops" or target.startswith("dcops."):
                yield Import(name, target, f"{rel}:{node.lineno}")


def violations(imports: Iterable[Import]) -> list[str]:
    return [f"{imp.where}: {imp.importer} imports {imp.imported}: breaks '{rule.name}'"
            for imp in imports for rule in RULES if rule.broken_by(imp)]


def test_every_rule_has_a_check() -> None:
    assert {r.name for r in RULES} == set(CHECKS)


def test_dcops_keeps_its_layers() -> None:
    found = [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in imports_of(path)]
    assert len(found) > 500  # the walk read the package (not an empty glob)
    assert violations(found) == []


# Synthetic imports: (importer, imported, the rules it breaks joined by "+", or None).
CASES = [
    ("dcops.store.audit", "dcops.patrol.model", "store imports no capability"),
    ("dcops.store.db", "dcops.assets.history", "store imports no capability"),
    ("dcops.store.migrations.m0003_patrol", "dcops.notify.store", "store imports no capability"),
    ("dcops.store.audit", "dcops.store.chain", None),
    ("dcops.store.audit", "dcops.secrets", None),
    ("dcops.notify.outbox", "dcops.patrol.escalate", "notify imports no capability (patrol, assets)"),
    ("dcops.notify.config", "dcops.assets.warranty", "notify imports no capability (patrol, assets)"),
    ("dcops.notify.outbox", "dcops.notify.store", None),
    ("dcops.notify.store", "dcops.store.db", None),
    ("dcops.exporter.collectors.patrol", "dcops.bmc.select", "exporter and web import no bmc, sim, service or cli"),
    ("dcops.exporter.server", "dcops.sim.fleet", "exporter and web import no bmc, sim, service or cli"),
    ("dcops.exporter.collectors.patrol", "dcops.patrol.store", None),
    ("dcops.patrol.engine", "dcops.cli.common", "nothing imports cli"),
    ("dcops.service.serve", "dcops.cli.patrol", "nothing imports cli"),
    ("dcops.actions", "dcops.cli.common", "actions imports no front end or capability+nothing imports cli"),
    ("dcops.cli.power", "dcops.cli.common", None),
    ("dcops.__main__", "dcops.cli.main", None),
    ("dcops.patrol.engine", "dcops.service.serve", "only cli imports service"),
    ("dcops.cli.serve", "dcops.service.serve", None),
    ("dcops.actions", "dcops.patrol.store", "actions imports no front end or capability"),
    ("dcops.actions", "dcops.store.audit", None),
    ("dcops.bmc.redfish.connector", "dcops.patrol.model", "bmc imports no capability"),
    ("dcops.pdu.redfish", "dcops.patrol.pdu", "pdu imports no capability"),
    ("dcops.inventory.select", "dcops.bmc.base", "inventory imports no capability"),
    ("dcops.models", "dcops.inventory.book", "core imports only core"),
    ("dcops.errors", "dcops.report", None),
    ("dcops.patrol.converge", "dcops.store.db", "pure modules import only core and their own package"),
    ("dcops.assets.reconcile", "dcops.bmc.select", "pure modules import only core and their own package"),
    ("dcops.patrol.checks", "dcops.patrol.model", None),
    ("dcops.web.app", "dcops.bmc.select", "exporter and web import no bmc, sim, service or cli"),
    ("dcops.patrol.engine", "dcops.notify.outbox", None),  # patrol turns incidents into messages
    ("dcops.assets.notify", "dcops.notify.outbox", None),  # assets turns reminders into messages
]


@pytest.mark.parametrize(("importer", "imported", "broken"), CASES, ids=[f"{a}->{b}" for a, b, _ in CASES])
def test_each_rule_fails_when_broken(importer: str, imported: str, broken: str | None) -> None:
    found = violations([Import(importer, imported, "x.py:1")])
    assert [v.rpartition("breaks ")[2].strip("'") for v in found] == (broken.split("+") if broken else [])


@pytest.mark.parametrize(("source", "imported"), [
    ("from dcops.cli.common import settings\n", "dcops.cli.common"),
    ("import dcops.cli.main\n", "dcops.cli.main"),
    ("from dcops import cli\n", "dcops.cli"),
    ("def f():\n    from ..cli import common\n", "dcops.cli"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from dcops.cli.common import x\n", "dcops.cli.common"),
])
def test_the_reader_finds_imports_in_every_spelling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    source: str, imported: str) -> None:
    # A module dcops/patrol/fake.py under a temporary root: relative imports resolve from there.
    fake = tmp_path / "dcops" / "patrol" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    found = list(imports_of(fake))
    assert imported in [i.imported for i in found]
    assert any("nothing imports cli" in v for v in violations(found))
