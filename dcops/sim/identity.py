"""Per-host identities derived from (seed, host index, slot): unique and stable for a given seed.

Nothing here is stored per host: every serial, MAC and UUID is recomputed from a hash when a document
is rendered, so 10,000 simulated BMCs cost no memory for them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

_ALNUM = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O, like real service tags


def digest(seed: int, index: int, slot: str) -> bytes:
    """16 bytes that depend only on (seed, index, slot)."""
    return hashlib.blake2b(f"{seed}/{index}/{slot}".encode(), digest_size=16).digest()


def _alnum(raw: bytes, length: int) -> str:
    number = int.from_bytes(raw, "big")
    chars = []
    for _ in range(length):
        number, rem = divmod(number, len(_ALNUM))
        chars.append(_ALNUM[rem])
    return "".join(chars)


def _spread(seed: int, index: int, slot: str, space: int) -> int:
    """A number in ``range(space)`` that differs for every ``index`` below ``space``: (offset + index)
    times a multiplier near space/phi and coprime with it (34**n and 16**n: odd, not a multiple of
    17), so neighbouring hosts get unrelated-looking serials and none repeats."""
    offset = int.from_bytes(digest(seed, 0, "serial/" + slot), "big")
    multiplier = int(space * 0.6180339887498949) | 1
    while multiplier % 17 == 0:
        multiplier += 2
    return ((offset + index) * multiplier) % space


def serial(seed: int, index: int, slot: str, length: int = 10, prefix: str = "") -> str:
    """A serial number such as ``MXQ2390RHW`` (``prefix`` + alphanumerics), unique per host index
    for a given (seed, slot) even at 7 characters (Dell service tags)."""
    width = length - len(prefix)
    value = _spread(seed, index, slot, len(_ALNUM) ** width)
    return prefix + _alnum(value.to_bytes(16, "big"), width)


def hex_serial(seed: int, index: int, slot: str, length: int = 8) -> str:
    """A hexadecimal serial (DIMMs report these), upper case, unique per host index."""
    return f"{_spread(seed, index, slot, 16 ** length):0{length}X}"


def mac(seed: int, index: int, slot: str, oui: str = "B0:7B:25") -> str:
    """A MAC address in the vendor's OUI; the low three bytes come from the hash.

    Two hosts could in theory share the low 24 bits; ``fleet`` uses ``mac_for`` which folds the
    host index in, so MACs in one fleet are unique."""
    low = digest(seed, index, slot)[:3]
    return oui + ":" + ":".join(f"{b:02X}" for b in low)


def mac_for(seed: int, index: int, port: int, oui: str = "B0:7B:25") -> str:
    """A fleet-unique MAC: 24 bits = (index * 64 + port) scrambled by a seed-derived offset."""
    offset = int.from_bytes(digest(seed, 0, "mac-offset")[:3], "big")
    value = (index * 64 + port + offset) % (1 << 24)
    low = value.to_bytes(3, "big")
    return oui + ":" + ":".join(f"{b:02X}" for b in low)


def system_uuid(seed: int, index: int) -> str:
    """An RFC 4122 version-4-shaped UUID for the system."""
    return str(uuid.UUID(bytes=digest(seed, index, "uuid"), version=4))


def pick(seed: int, index: int, slot: str, choices: int) -> int:
    """A stable choice in ``range(choices)``."""
    return int.from_bytes(digest(seed, index, slot)[:4], "big") % choices


def purchase_date(seed: int, index: int, first_year: int = 2019, last_year: int = 2024) -> dt.date:
    """A purchase date between Jan 1 of ``first_year`` and Dec 31 of ``last_year``."""
    start = dt.date(first_year, 1, 1)
    days = (dt.date(last_year, 12, 31) - start).days
    return start + dt.timedelta(days=pick(seed, index, "purchase", days + 1))
