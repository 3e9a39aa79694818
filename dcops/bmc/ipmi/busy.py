"""What the IPMI fleet does when a visit ends with its read still in a worker thread, and what the
next visit of that BMC reads (pure; ``fleet.IpmiFleet`` does the I/O; the tables are in
tests/unit/bmc/test_ipmi_busy.py).

pyghmi is blocking, so a read runs in a thread, which asyncio cannot stop: a visit whose deadline
runs out (or whose round is cancelled) stops waiting, the thread does not. Left alone, it went on
reading (a slow inventory's FRU reads, then its sensors and log) with the BMC's session, and the
host's next read waited behind it until its own deadline: a live BMC called unreachable. So the
visit that gives up *halts* its read: the reading code stops before its next IPMI command
(``IpmiSession.checkpoint``), which leaves the session between two commands, sound, for the next
read; that read waits only for the command in flight (pyghmi gives each one up after its retries,
seconds), never for the rest of the cut read. What a read that was given up on read is kept by
nobody: the log position, the SEL's change stamp and the identity move only with a visit that
returns its result, so the next read reads the same new log entries again and reports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class End(Enum):
    """How a visit ended."""

    ANSWERED = "answered"  # the read finished and the visit took its observation
    FAILED = "failed"  # the read ended on the BMC's error (no answer, refused): nothing left running
    TIMED_OUT = "timed out"  # the visit's deadline ran out while its read ran
    CANCELLED = "cancelled"  # the round was cancelled (its own deadline) while the read ran
    # The deadline ran out before the read started: the read before (given up on) was still in its
    # last command. Nothing of this visit was sent.
    WAITED_OUT = "waited out"


@dataclass(frozen=True)
class Settle:
    """What to do with the read of a visit that ended."""

    keep: bool  # keep what it read: log position, SEL change stamp, identity and parts
    halt: bool  # stop it before its next IPMI command (it is still running)
    fru_cut: bool | None  # the FRU read it made was cut (True), completed (False), or none (None)


def settle(end: End, reads_fru: bool) -> Settle:
    """A visit that ``end``-ed, whose read reads the FRU (identity, parts) when ``reads_fru``."""
    if end is End.ANSWERED:
        return Settle(keep=True, halt=False, fru_cut=False if reads_fru else None)
    if end in (End.TIMED_OUT, End.CANCELLED):
        return Settle(keep=False, halt=True, fru_cut=True if reads_fru else None)
    # FAILED: its thread has ended. WAITED_OUT: it never started. A FRU that did not answer at all
    # is the BMC's failure, reported as such; it is not "slow", and is read again next time.
    return Settle(keep=False, halt=False, fru_cut=None)


def reads_fru(refresh: bool, known: bool, cut: bool) -> bool:
    """Whether a visit reads the FRU (identity, parts): on the inventory tier (``refresh``) always;
    else only when this process does not know the BMC's identity yet (a patrol started on a minute
    round: the PSU sensors are linked to the PSUs' FRU parts), unless the last FRU read of this BMC
    was ``cut``: its FRU is slow, and a minute visit that reads it again is cut again and calls a
    BMC that answers unreachable (the first round of a fleet is an inventory round: its minute
    re-read of a cut host has no identity yet). The minute facts come first; the inventory tier
    retries the FRU."""
    if refresh:
        return True
    return not known and not cut


FRU_RETRY = 900.0  # seconds after a cut FRU read before a minute visit tries it again (retry_fru)


def retry_fru(refresh: bool, known: bool, cut: bool, since_cut: float, every: float = FRU_RETRY) -> bool:
    """Whether a minute visit, its minute facts read and kept, tries the FRU again in the time its
    deadline has left: the identity is still unknown and the last FRU read, cut ``since_cut``
    seconds ago, was at least ``every`` ago. The inventory tier retries a cut FRU on its own; in a
    patrol without it (``inventory_every: 0``) nothing else ever did, and a host whose first FRU
    read was cut went without identity for the life of the process: its PSU faults named no
    serial or model. Tried after the minute facts and apart from them, so a FRU cut again costs
    the visit nothing it read (``IpmiFleet._retry_fru``)."""
    return not refresh and not known and cut and since_cut >= every


def timeout_error(host: str, deadline: float, end: End) -> str:
    """The error of a visit that ran out of time (TIMED_OUT, CANCELLED never reaches the caller)."""
    said = f"{host}: no complete IPMI answer within {deadline:g}s"
    if end is End.WAITED_OUT:
        return f"{said} (the BMC had not answered the last command of the read before, which was stopped)"
    return said
