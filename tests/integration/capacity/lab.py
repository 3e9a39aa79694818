"""The lab cloud of the integration tests: what Placement is populated with, which racks the
inventory gives, and (in tests/fixtures/nova/lab/) what Nova answered for the same cloud.

Three AZs, each a scenario:

* az1 – 12 identical nodes in 4 racks of 3, memory at p = 0.6: the rule of thumb says
  m/n ≤ 1 − 0.6/0.8 = 1/4, so exactly 3 nodes, and a rack of 3 survives with no room to spare.
* az2 – the mixed-node counter-example: 100/100/200 GiB at 70/70/30 %; losing a small node is
  fine, losing the big lightly-used one is not.
* az3 – a disabled node (cmp-c01-03, maintenance) and a down one (cmp-c02-02) whose load is still
  owed, a hypervisor missing from the inventory (cmp-c09-01), and VCPU as the binding class.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

DOMAIN = "lab.example.net"
GiB = 1024  # MiB


@dataclass(frozen=True)
class LabHost:
    name: str
    az: str
    rack: str | None  # None: not in the inventory
    inventories: dict[str, tuple[int, int, float]]  # class -> (total, reserved, allocation_ratio)
    usage: dict[str, int]
    status: str = "enabled"
    state: str = "up"
    disabled_reason: str | None = None
    ip: str = ""

    @property
    def hypervisor(self) -> str:
        return f"{self.name}.{DOMAIN}"

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, self.hypervisor))

    @property
    def service_uuid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, "nova-compute." + self.hypervisor))


@dataclass
class Lab:
    hosts: list[LabHost] = field(default_factory=list)

    def az(self, name: str) -> list[LabHost]:
        return [h for h in self.hosts if h.az == name]

    def aggregate_uuid(self, az: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"aggregate.{az}.{DOMAIN}"))


def lab() -> Lab:
    hosts: list[LabHost] = []
    ip = 10
    for rack in range(1, 5):
        for slot in range(1, 4):
            ip += 1
            hosts.append(LabHost(
                name=f"cmp-a{rack:02d}-{slot:02d}", az="az1", rack=f"A{rack:02d}",
                inventories={"MEMORY_MB": (262144, 6144, 1.0), "VCPU": (64, 0, 4.0), "DISK_GB": (1800, 0, 1.0)},
                usage={"MEMORY_MB": 153600, "VCPU": 96, "DISK_GB": 600},
                ip=f"10.20.1.{ip}"))
    small = {"MEMORY_MB": (106496, 4096, 1.0), "VCPU": (32, 0, 4.0), "DISK_GB": (900, 0, 1.0)}
    big = {"MEMORY_MB": (208896, 4096, 1.0), "VCPU": (64, 0, 4.0), "DISK_GB": (1800, 0, 1.0)}
    hosts += [
        LabHost("cmp-b01-01", "az2", "B01", small, {"MEMORY_MB": 71680, "VCPU": 40, "DISK_GB": 300}, ip="10.20.2.11"),
        LabHost("cmp-b02-01", "az2", "B02", small, {"MEMORY_MB": 71680, "VCPU": 40, "DISK_GB": 300}, ip="10.20.2.12"),
        LabHost("cmp-b03-01", "az2", "B03", big, {"MEMORY_MB": 61440, "VCPU": 36, "DISK_GB": 250}, ip="10.20.2.13"),
    ]
    shape = {"MEMORY_MB": (397312, 4096, 1.0), "VCPU": (48, 0, 2.0), "DISK_GB": (3600, 100, 1.0)}

    def c(name: str, rack: str | None, mem: int, vcpu: int, disk: int, ip: str, **kw: str) -> LabHost:
        return LabHost(name, "az3", rack, shape, {"MEMORY_MB": mem, "VCPU": vcpu, "DISK_GB": disk}, ip=ip, **kw)

    hosts += [
        c("cmp-c01-01", "C01", 200000, 80, 1000, "10.20.3.11"),
        c("cmp-c01-02", "C01", 180000, 90, 900, "10.20.3.12"),
        c("cmp-c01-03", "C01", 32768, 10, 200, "10.20.3.13", status="disabled",
          disabled_reason="maintenance: DIMM B2 replacement CHG0042117"),
        c("cmp-c02-01", "C02", 150000, 85, 800, "10.20.3.21"),
        c("cmp-c02-02", "C02", 65536, 20, 300, "10.20.3.22", state="down"),
        c("cmp-c09-01", None, 120000, 70, 600, "10.20.3.91"),
    ]
    return Lab(hosts)
