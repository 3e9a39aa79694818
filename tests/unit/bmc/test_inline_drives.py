"""A Storage's drives read inline with ``$expand`` (dcops/bmc/redfish/inline.py, read._inline_drives):
the pure parts by table, and over every real capture the same parts as the drives read one by one,
whether the service expands the Storage, ignores the query, refuses it, or inlines drives that
differ from the drives read on their own (caught by the one-time check, never used)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from dcops.bmc.redfish.docs import FetchError, normalize
from dcops.bmc.redfish.inline import InlineDrives, inlined, mismatch, unread
from dcops.bmc.redfish.resources import read_observation, run_sync
from tests.unit.bmc.mockups import fetcher, load

CAPTURES = ("dell-poweredge-r750-idrac9-6.00", "hpe-proliant-dl360-gen10plus-ilo5-3.11",
            "hpe-proliant-dl380a-gen11-ilo6-1.66", "lenovo-thinksystem-sr670v2-xcc-2.83",
            "supermicro-sys-821ge-tnhr-x13", "nvidia-gb200-nvl", "gigabyte-h262-z63-ami",
            "dmtf-public-tower", "dmtf-public-localstorage", "dmtf-public-rackmount1")
D1 = {"@odata.id": "/redfish/v1/Systems/1/Storage/1/Drives/0", "@odata.type": "#Drive.v1_9_0.Drive", "Id": "0",
      "SerialNumber": "S1", "Status": {"Health": "OK", "State": "Enabled"}}
D2 = dict(D1, **{"@odata.id": "/redfish/v1/Systems/1/Storage/1/Drives/1", "Id": "1", "SerialNumber": "S2"})


@pytest.mark.parametrize(("answer", "keys"), [
    ({"Drives": [D1, D2]}, ["/redfish/v1/systems/1/storage/1/drives/0", "/redfish/v1/systems/1/storage/1/drives/1"]),
    ({"Drives": [{"@odata.id": D1["@odata.id"]}, D2]}, ["/redfish/v1/systems/1/storage/1/drives/1"]),  # one left a link
    ({"Drives": [{"@odata.id": D1["@odata.id"]}]}, []),  # ignored: links as they were
    ({"Drives": [{"error": {"code": "Base.1.8.InternalError"}, "@odata.id": D1["@odata.id"]}]}, []),  # error body
    ({"Drives": [dict(D1, **{"@odata.id": "/redfish/v1/Systems/1/Storage/1#/Drives/0"})]}, []),  # a fragment
    ({"Drives": "nope"}, []),
    ({}, []),
    ([D1], []),  # not an object
])
def test_inlined(answer: Any, keys: list[str]) -> None:
    assert list(inlined(answer)) == keys


@pytest.mark.parametrize(("links", "known", "left"), [
    (["/a/Drives/0", "/a/Drives/1/", "/A/drives/0"], [], ["/a/drives/0", "/a/drives/1"]),  # once, normalized
    (["/a/Drives/0", "/a/Drives/1"], ["/a/drives/1"], ["/a/drives/0"]),
    ([], ["/x"], []),
])
def test_unread(links: list[str], known: list[str], left: list[str]) -> None:
    assert unread(links, known) == left


@pytest.mark.parametrize(("inline", "full", "wrong"), [
    (D1, D1, None),
    ({k: v for k, v in D1.items() if k != "Status"}, D1, "Status"),  # health dropped: caught
    (dict(D1, SerialNumber="OTHER"), D1, "SerialNumber"),
    (dict(D1, Oem={"x": 1}), D1, None),  # what the parser does not read may differ
    (D1, dict(D1, FailurePredicted=True), "FailurePredicted"),  # stale: the drive now predicts failure
])
def test_mismatch(inline: dict[str, Any], full: dict[str, Any], wrong: str | None) -> None:
    assert mismatch(inline, full) == wrong


# --------------------------------------------------------------------------- over the captures

def _expanding(docs: dict[str, Any], *, refuse: bool = False, lossy: bool = False) -> Callable[[str], Any]:
    """A fetch over a capture that answers ``?$expand=.($levels=1)`` as DSP0266 says (each link not
    under Links replaced by its document, one level); ``refuse``: 501 for a non-collection;
    ``lossy``: inlined drives lose their Status."""
    plain = fetcher(docs)

    def inline(value: Any, in_links: bool) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and isinstance(value.get("@odata.id"), str) and not in_links:
                found = docs.get(normalize(value["@odata.id"]))
                if found is not None and "#" not in value["@odata.id"]:
                    found = copy.deepcopy(found)
                    if lossy and "Drive." in str(found.get("@odata.type")):
                        found.pop("Status", None)
                    return found
                return value
            return {k: v if k in ("Actions", "Oem") else inline(v, in_links or k == "Links") for k, v in value.items()}
        if isinstance(value, list):
            return [inline(v, in_links) for v in value]
        return value

    def fetch(path: str) -> Any:
        if "$expand" not in path:
            return plain(path)
        doc = docs.get(normalize(path))
        if doc is None:
            raise FetchError(path, "404 Not Found", 404)
        if refuse and "Members" not in doc:
            raise FetchError(path, "HTTP 501", 501)
        return {k: v if k.startswith("@") or k in ("Links", "Actions", "Oem") else inline(v, False)
                for k, v in doc.items()}

    return fetch


def _counted(fetch: Callable[[str], Any], paths: list[str]) -> Callable[[str], Any]:
    def counting(path: str) -> Any:
        paths.append(path)
        return fetch(path)

    return counting


def _parts(obs: Any) -> Any:
    """The parts as a set (sorted): an inlined drive is known by its own ``@odata.id``, a drive read
    on its own by the link it was read at. They differ only where a document names another URI
    than its own, and then only in order (DMTF public-tower: the documents at Disk-2-0 and
    Disk-2-1 carry each other's ``@odata.id``)."""
    parts = orjson.loads(orjson.dumps(obs.components, default=repr))
    return sorted(parts, key=lambda p: orjson.dumps(p, option=orjson.OPT_SORT_KEYS)), \
        orjson.loads(orjson.dumps(obs.errors, default=repr))


def _read(name: str, fetch: Callable[[str], Any], expand: bool, memory: InlineDrives | None = None
          ) -> tuple[Any, list[str]]:
    paths: list[str] = []
    obs = run_sync(read_observation(name, sections=("components",), expand=expand, inline=memory),
                   _counted(fetch, paths))
    return obs, paths


def _storage_expands(paths: list[str]) -> list[str]:
    return [p for p in paths if "$expand" in p and "/storage/" in p.lower() and "/drives" not in p.lower()
            and not p.lower().split("?")[0].endswith(("/volumes", "/controllers", "/storage"))]


@pytest.mark.parametrize("capture", CAPTURES)
def test_the_drives_inline_are_the_drives_read_one_by_one(capture: str) -> None:
    docs = load(capture)
    one_by_one, _ = _read(capture, fetcher(docs), expand=False)
    off = InlineDrives(capture, state=False)  # the same service, the drives read one by one
    _, off_paths = _read(capture, _expanding(docs), expand=True, memory=off)
    memory = InlineDrives(capture)
    inline, inline_paths = _read(capture, _expanding(docs), expand=True, memory=memory)
    assert _parts(inline) == _parts(one_by_one)
    most = max((len(d.get("Drives") or []) for k, d in docs.items() if "Storage." in str(d.get("@odata.type"))
                and "Collection" not in str(d.get("@odata.type"))), default=0)
    if _storage_expands(inline_paths):  # a Storage with two drives or more: checked once, then trusted
        assert memory.state is True
    else:
        assert memory.state is None and most < 2
    assert len(inline_paths) <= len(off_paths)
    if most >= 3:  # one request for the drives (and one to check the first answer) instead of one each
        assert len(inline_paths) < len(off_paths), (len(inline_paths), len(off_paths))


@pytest.mark.parametrize("capture", ["dell-poweredge-r750-idrac9-6.00", "supermicro-sys-821ge-tnhr-x13",
                                     "nvidia-gb200-nvl", "hpe-proliant-dl380a-gen11-ilo6-1.66"])
@pytest.mark.parametrize("service", ["ignores", "refuses", "lossy"])
def test_a_service_that_does_not_expand_the_storage_is_read_one_by_one(capture: str, service: str) -> None:
    docs = load(capture)
    expected, _ = _read(capture, fetcher(docs), expand=False)
    # ignores: every query answered with the document as it is (collections too)
    fetch = {"ignores": fetcher(docs), "refuses": _expanding(docs, refuse=True),
             "lossy": _expanding(docs, lossy=True)}[service]
    memory = InlineDrives(capture)
    first, first_paths = _read(capture, fetch, expand=service != "ignores", memory=memory)
    assert _storage_expands(first_paths)  # asked once
    assert _parts(first) == _parts(expected)  # every drive's health and serial as read on its own
    assert memory.state is False and memory.why
    again, again_paths = _read(capture, fetch, expand=service != "ignores", memory=memory)
    assert _parts(again) == _parts(expected)
    assert not _storage_expands(again_paths)  # remembered: not asked again
