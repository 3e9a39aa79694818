"""Parsing the policy (--q, --require, config) and sizes; formatting amounts."""

from __future__ import annotations

from fractions import Fraction

import pytest

from dcops.capacity.policy import Requirement, build_policy, parse_ceilings, parse_requirements
from dcops.capacity.units import format_amount, format_ratio, parse_size
from dcops.errors import UsageError


def test_requirements() -> None:
    assert parse_requirements("rack") == (Requirement(True, 0),)
    assert [str(r) for r in parse_requirements("rack+1, nodes=2")] == ["nodes=2", "rack+1"]
    for bad in ("racks", "nodes", "nodes=-1", "rack+x", "", "nodes=1,"):
        with pytest.raises(UsageError):
            parse_requirements(bad)


def test_ceilings() -> None:
    assert parse_ceilings("MEMORY_MB=0.8,VCPU=1.0") == {"MEMORY_MB": Fraction(4, 5), "VCPU": Fraction(1)}
    assert parse_ceilings("memory=0.75, disk=off") == {"MEMORY_MB": Fraction(3, 4), "DISK_GB": None}
    for bad in ("MEMORY_MB", "MEMORY_MB=1.2", "VCPU=0", "VCPU=abc", "=0.5"):
        with pytest.raises(UsageError):
            parse_ceilings(bad)


def test_policy_layers_defaults_config_and_command_line() -> None:
    default = build_policy()
    assert default.ceilings == {"MEMORY_MB": Fraction(4, 5), "VCPU": 1, "DISK_GB": 1}
    assert default.describe() == "rack" and default.needs_racks
    configured = build_policy({"q": {"MEMORY_MB": 0.85, "disk": "off"}, "require": "nodes=1"})
    assert configured.ceilings == {"MEMORY_MB": Fraction(17, 20), "VCPU": 1}
    assert configured.describe() == "nodes=1" and not configured.needs_racks
    given = build_policy({"q": {"MEMORY_MB": 0.85}}, q="MEMORY_MB=0.7,PCPU=0.9", require="rack+1")
    assert given.ceilings["MEMORY_MB"] == Fraction(7, 10) and given.ceilings["PCPU"] == Fraction(9, 10)
    assert given.describe() == "rack+1"
    with pytest.raises(UsageError, match="nothing to check"):
        build_policy(q="MEMORY_MB=off,VCPU=off,DISK_GB=off")
    with pytest.raises(UsageError, match="mapping"):
        build_policy({"q": 0.8})


def test_sizes() -> None:
    assert parse_size("512G", "MEMORY_MB") == 524288
    assert parse_size("1.5T", "MEMORY_MB") == 1572864
    assert parse_size("512GiB", "MEMORY_MB") == 524288
    assert parse_size("65536", "MEMORY_MB") == 65536
    assert parse_size("2T", "DISK_GB") == 2048
    assert parse_size("64", "VCPU") == 64
    for text, rc in (("lots", "MEMORY_MB"), ("1K", "MEMORY_MB"), ("64G", "VCPU"), ("0", "MEMORY_MB")):
        with pytest.raises(UsageError):
            parse_size(text, rc)


def test_amounts_for_people() -> None:
    assert format_amount(2202009.6, "MEMORY_MB") == "2.1 TiB"
    assert format_amount(61440, "MEMORY_MB") == "60.0 GiB"
    assert format_amount(-20480, "MEMORY_MB") == "-20.0 GiB"
    assert format_amount(0, "MEMORY_MB") == "0 B"
    assert format_amount(1800, "DISK_GB") == "1.8 TiB"
    assert format_amount(96, "VCPU") == "96 vCPU"
    assert format_amount(12.5, "VCPU") == "12.5 vCPU"
    assert format_amount(3, "CUSTOM_FPGA") == "3 units"
    assert format_ratio(Fraction(4, 5)) == "0.8" and format_ratio(None) == "-" and format_ratio(0) == "0"
