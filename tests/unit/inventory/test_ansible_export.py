"""The book as an Ansible inventory (pure): group names, nesting, host variables, no secrets."""

from __future__ import annotations

import pytest

from dcops.inventory import load_inventory
from dcops.inventory.ansible_export import group_name, host_groups, script_inventory, yaml_inventory
from tests.unit.inventory.paths import FLAT, SITE


@pytest.mark.parametrize(("parts", "expected"), [
    (("rack", "sh1", "r101", "A01"), "rack_sh1_r101_A01"),
    (("tag", "low-latency"), "tag_low_latency"),
    (("site", "sz.dc-2"), "site_sz_dc_2"),
    (("role", "db"), "role_db"),
])
def test_group_names_are_valid_ansible_names(parts: tuple[str, ...], expected: str) -> None:
    assert group_name(*parts) == expected


def test_groups_nest_by_place_and_flat_by_role_tag_az() -> None:
    book = load_inventory([SITE, FLAT])
    hosts = {h.name: h for h in book.hosts}
    assert host_groups(hosts["dr-db-01"]) == ["rack_sh1_r201_C01", "role_db", "tag_prod", "tag_openstack",
                                              "tag_oracle", "tag_dr", "az_az3"]
    assert host_groups(hosts["lab-03"]) == ["site_lab", "role_web", "tag_lab", "tag_canary"]  # no room, no rack
    tree = yaml_inventory(list(book.hosts))["all"]
    assert tree["children"]["site_sh1"]["children"]["room_sh1_r201"]["children"]["rack_sh1_r201_C01"]["hosts"] \
        == {"comp-07": None, "comp-08": None, "comp-09": None, "comp-10": None, "dr-db-01": None, "dr-db-02": None}
    assert tree["hosts"]["dr-db-01"]["dcops_bmc_address"] == "198.51.100.25"
    script = script_inventory(list(book.hosts))
    assert script["site_sh1"]["children"] == ["room_sh1_r101", "room_sh1_r102", "room_sh1_r201"]
    assert "lab-03" in script["site_lab"]["hosts"]
    text = repr(script) + repr(tree)
    assert "password" not in text and "env:" not in text
