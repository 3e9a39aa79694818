"""Failure-domain arithmetic for one availability zone and one resource class (pure).

For node i: capacity c_i = (total - reserved) * allocation_ratio, use u_i, ceiling q.
A survivor can absorb s_i = max(0, q*c_i - u_i). With U the set of nodes up and D the nodes
already unavailable (down, disabled, removed), a set F ⊆ U of failed nodes is survivable iff the
load of F and of D fits into what the rest of U can absorb:

    Σ_{F} u_i + Σ_{D} u_i  ≤  Σ_{U∖F} s_j
    ⇔  Σ_{F} (u_i + s_i)  ≤  Σ_{U} s_j − Σ_{D} u_i          (add Σ_F s to both sides)
    ⇔  Σ_{F} w_i  ≤  B,    w_i = u_i + s_i = max(u_i, q*c_i),  B = S − Σ_D u,  S = Σ_U s

So the worst m failures are the m largest w (not the m most loaded nodes), the worst rack is the
rack with the largest Σ w, the tolerated failures are the largest m with Σ top-m w ≤ B, and the
headroom is B − Σ top-m w. For n identical nodes at use p ≤ q this is m*q*c ≤ n*(q−p)*c, i.e.
m/n ≤ 1 − p/q: the rule of thumb ("seed rule") falls out as a special case.

Unavailable nodes are not survivors and their load is owed to the survivors before anything else
fails; when Placement still shows usage on them, that is load not yet evacuated (evacuated
instances move their allocations to the target node, so their usage disappears from D). When
B < 0 the AZ cannot carry even what is already down: ``tolerated`` is then −1.

A node whose rack is unknown counts as a rack of its own (which is optimistic; the check reports
such nodes). All arithmetic is exact (``Fraction``): the boundary cases are where decisions are
made, and floating point puts 12 nodes at p=0.6, q=0.8 on either side of 3.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

ZERO = Fraction(0)


@dataclass(frozen=True)
class Member:
    """One node as the arithmetic sees it for one resource class."""

    name: str
    capacity: Fraction
    used: Fraction
    rack: str | None = None
    available: bool = True


@dataclass(frozen=True)
class Loss:
    """One failure scenario: the nodes lost, the load they carried, and the room left.

    ``room`` is what the remaining survivors can still absorb under q after first taking the load
    of the nodes already unavailable; the scenario is survivable when ``allocated <= room``.
    """

    scenario: str  # "nodes=2", "rack", "rack+1", "none"
    label: str  # for people: "2 nodes", "rack B07", "rack B07 + 1 node"
    nodes: tuple[str, ...]
    allocated: Fraction
    room: Fraction
    rack: str | None = None

    @property
    def margin(self) -> Fraction:
        """Room left after re-hosting (negative: by how much the survivors would go over q)."""
        return self.room - self.allocated

    @property
    def survivable(self) -> bool:
        return self.allocated <= self.room


@dataclass(frozen=True)
class RackFigures:
    """One rack of one AZ for one resource class."""

    rack: str
    known: bool  # False: a node whose rack nobody named, counted as a rack of its own
    nodes: int  # nodes up
    unavailable: int
    capacity: Fraction  # of the nodes up
    allocated: Fraction  # on the nodes up
    weight: Fraction  # Σ w of the nodes up
    loss: Loss  # losing this rack


def rack_key(member: Member) -> str:
    """The rack a member counts in: its own, or a singleton named after the node."""
    return member.rack if member.rack is not None else f"?{member.name}"


def _rack_order(rack: str) -> tuple[bool, str]:
    """Named racks by name, then the lone nodes of unknown rack."""
    return rack.startswith("?"), rack


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class Analysis:
    """The failure-domain figures of one AZ for one resource class under ceiling ``q``."""

    def __init__(self, members: Iterable[Member], q: Fraction) -> None:
        self.q = q
        up: list[tuple[Fraction, str, Member, Fraction]] = []
        self.unavailable: tuple[Member, ...] = ()
        down: list[Member] = []
        for member in members:
            if member.available:
                limit = q * member.capacity
                weight = member.used if member.used > limit else limit
                up.append((weight, member.name, member, weight - member.used))
            else:
                down.append(member)
        # Largest w first; the name breaks ties so that results do not depend on input order.
        up.sort(key=lambda row: (-row[0], row[1]))
        self.unavailable = tuple(down)
        self.members: tuple[Member, ...] = tuple(row[2] for row in up)
        self._w = [row[0] for row in up]
        self._s = [row[3] for row in up]
        self._prefix_w = _prefix(self._w)
        self._prefix_u = _prefix([m.used for m in self.members])
        self._prefix_s = _prefix(self._s)
        self.absorbable: Fraction = self._prefix_s[-1]  # S
        self.pending: Fraction = sum((m.used for m in down), ZERO)  # Σ_D u
        self.budget: Fraction = self.absorbable - self.pending  # B

    # ---- the AZ as a whole -------------------------------------------------------------

    @property
    def n(self) -> int:
        """Nodes up (the survivors before anything else fails)."""
        return len(self.members)

    @property
    def capacity(self) -> Fraction:
        """Σ c over the nodes up."""
        return sum((m.capacity for m in self.members), ZERO)

    @property
    def allocated(self) -> Fraction:
        """Σ u over every node, up or not: the load the survivors must carry."""
        return self._prefix_u[-1] + self.pending

    @property
    def usage_ratio(self) -> Fraction | None:
        """p: the load of the AZ over the capacity of the nodes up (None without capacity)."""
        capacity = self.capacity
        return self.allocated / capacity if capacity else None

    @property
    def seed_ratio(self) -> Fraction | None:
        """The rule of thumb's bound on m/n, 1 − p/q (exact only for identical nodes)."""
        p = self.usage_ratio
        return None if p is None or not self.q else 1 - p / self.q

    @property
    def seed_nodes(self) -> int | None:
        """The rule of thumb's m: floor(n * (1 − p/q)), −1 when even m=0 breaks it."""
        ratio = self.seed_ratio
        if ratio is None:
            return None
        return max(-1, int((self.n * ratio) // 1))

    @cached_property
    def tolerated(self) -> int:
        """The largest m such that any m nodes may fail; −1 when the AZ cannot even carry the
        load of the nodes already unavailable."""
        if self.budget < 0:
            return -1
        return bisect.bisect_right(self._prefix_w, self.budget) - 1

    @property
    def headroom(self) -> Fraction:
        """B − Σ of the tolerated-many largest w: what is left after the worst tolerated loss."""
        return self.budget - self._prefix_w[max(self.tolerated, 0)]

    @property
    def over_q(self) -> tuple[str, ...]:
        """Nodes up that already use more than q of their capacity."""
        return tuple(m.name for m in self.members if m.used > self.q * m.capacity)

    # ---- scenarios -------------------------------------------------------------------

    def nothing_lost(self) -> Loss:
        """The AZ as it stands: the nodes already unavailable, and the room left for them."""
        return Loss("none", "nothing more", (), ZERO, self.budget)

    def node_loss(self, count: int) -> Loss:
        """Losing the ``count`` nodes with the largest w (all nodes up when fewer)."""
        k = max(0, min(count, self.n))
        return Loss(
            scenario=f"nodes={count}",
            label=_plural(count, "node"),
            nodes=tuple(m.name for m in self.members[:k]),
            allocated=self._prefix_u[k],
            room=self.absorbable - self._prefix_s[k] - self.pending,
        )

    def loss_of(self, names: Iterable[str]) -> Loss:
        """Losing exactly the named nodes (names of nodes not up are ignored)."""
        wanted = set(names)
        chosen = [i for i, m in enumerate(self.members) if m.name in wanted]
        return Loss(
            scenario="nodes",
            label=_plural(len(chosen), "node"),
            nodes=tuple(self.members[i].name for i in chosen),
            allocated=sum((self.members[i].used for i in chosen), ZERO),
            room=self.absorbable - sum((self._s[i] for i in chosen), ZERO) - self.pending,
        )

    @cached_property
    def _racks(self) -> dict[str, list[int]]:
        racks: dict[str, list[int]] = {}
        for index, member in enumerate(self.members):
            racks.setdefault(rack_key(member), []).append(index)
        return racks

    def _largest_outside(self, inside: Sequence[int], extra: int) -> list[int]:
        """The ``extra`` largest-w nodes up that are not in ``inside`` (members are sorted by w)."""
        if not extra:
            return []
        members = set(inside)
        return [i for i in range(self.n) if i not in members][:extra]

    def rack_loss(self, rack: str, extra: int = 0) -> Loss:
        """Losing every node up in ``rack`` and then the ``extra`` largest-w nodes outside it."""
        inside = self._racks.get(rack, [])
        chosen = list(inside) + self._largest_outside(inside, extra)
        allocated = sum((self.members[i].used for i in chosen), ZERO)
        absorbed = sum((self._s[i] for i in chosen), ZERO)
        label = f"rack {rack}" + (f" + {_plural(extra, 'node')}" if extra else "")
        return Loss(
            scenario="rack" + (f"+{extra}" if extra else ""),
            label=label,
            nodes=tuple(self.members[i].name for i in chosen),
            allocated=allocated,
            room=self.absorbable - absorbed - self.pending,
            rack=rack,
        )

    def worst_rack(self, extra: int = 0) -> Loss | None:
        """The rack (plus ``extra`` further nodes) whose loss leaves the least margin; None when
        no node is up. The worst extra nodes for a given rack are the largest w outside it, so
        only the choice of rack needs a search."""
        best: tuple[Fraction, str] | None = None
        for rack in sorted(self._racks, key=_rack_order):
            inside = self._racks[rack]
            weight = sum((self._w[i] for i in inside + self._largest_outside(inside, extra)), ZERO)
            # Largest weight wins; racks come in report order (named racks by name, then lone
            # nodes of unknown rack), so a tie goes to the first, for stable output.
            if best is None or weight > best[0]:
                best = (weight, rack)
        return None if best is None else self.rack_loss(best[1], extra)

    def racks(self) -> list[RackFigures]:
        """Every rack with nodes of this class, up or not, sorted by name."""
        down_count: dict[str, int] = {}
        for member in self.unavailable:
            key = rack_key(member)
            down_count[key] = down_count.get(key, 0) + 1
        rows = []
        for rack in sorted(set(self._racks) | set(down_count), key=_rack_order):
            inside = self._racks.get(rack, [])
            rows.append(RackFigures(
                rack=rack,
                known=not rack.startswith("?"),
                nodes=len(inside),
                unavailable=down_count.get(rack, 0),
                capacity=sum((self.members[i].capacity for i in inside), ZERO),
                allocated=sum((self.members[i].used for i in inside), ZERO),
                weight=sum((self._w[i] for i in inside), ZERO),
                loss=self.rack_loss(rack),
            ))
        return rows


def _prefix(values: Sequence[Fraction]) -> list[Fraction]:
    sums = [ZERO]
    total = ZERO
    for value in values:
        total += value
        sums.append(total)
    return sums
