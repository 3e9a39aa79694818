"""Host patterns: Ansible's --limit grammar (union, :&, :!, globs, ~regex, all) with key=value
terms, as a table (tests/cases/inventory/selectors.yaml), cross-checked against ansible-core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dcops.errors import UsageError
from dcops.inventory import Inventory, load_inventory, parse_selectors
from tests.unit.inventory.paths import CASES, FLAT, SITE

TABLE = yaml.safe_load((CASES / "selectors.yaml").read_text())


@pytest.fixture(scope="module")
def book() -> Inventory:
    return load_inventory([SITE, FLAT])


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda c: " | ".join(c["patterns"]))
def test_select(book: Inventory, case: dict[str, Any]) -> None:
    assert [h.name for h in book.select(case["patterns"])] == case["hosts"]
    unmatched = parse_selectors(case["patterns"]).unmatched(book.hosts)
    assert [t.pattern for t in unmatched] == case.get("unmatched", [])


def test_no_selector_selects_all_in_file_order(book: Inventory) -> None:
    assert book.select([]) == list(book.hosts)


@pytest.mark.parametrize("case", TABLE["errors"], ids=lambda c: c["pattern"] or "(empty)")
def test_bad_selectors_are_usage_errors(case: dict[str, str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_selectors([case["pattern"]])
    assert case["message"] in str(caught.value)


def test_host_no_longer_in_the_book_matches_on_its_name_only() -> None:
    selector = parse_selectors("old-*:!rack=A01")
    assert selector.matches_facts({"name": ("old-01",)})
    assert not parse_selectors("rack=A01").matches_facts({"name": ("old-01",)})


# ---- the same patterns through ansible-core's own InventoryManager --------------------------

@pytest.fixture(scope="module")
def ansible_inventory(book: Inventory, tmp_path_factory: pytest.TempPathFactory) -> Any:
    pytest.importorskip("ansible")
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    path: Path = tmp_path_factory.mktemp("ansible") / "hosts.yaml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {h.name: None for h in book.hosts}}}))
    return InventoryManager(loader=DataLoader(), sources=[str(path)])


@pytest.mark.parametrize("case", [c for c in TABLE["cases"] if c.get("ansible")], ids=lambda c: c["patterns"][0])
def test_ansible_core_selects_the_same_hosts(ansible_inventory: Any, book: Inventory, case: dict[str, Any]) -> None:
    ansible_inventory.clear_pattern_cache()
    theirs = {h.name for h in ansible_inventory.get_hosts(case["patterns"][0])}
    assert theirs == set(case["hosts"])
