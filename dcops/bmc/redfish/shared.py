"""What the Redfish drivers of one BMC share: the connector, the service root, the host system
(chosen by evidence or pinned by the book, ``systems.choose``) and its manager, the vendor
quirks, and small read helpers (collections, ETag'd reads). Power, boot, virtual media, BIOS,
RAID and firmware all aim at that one system."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from dcops.bmc.redfish import oem, systems
from dcops.bmc.redfish.connector import RedfishConnector, Response
from dcops.bmc.redfish.docs import Doc, FetchError, Reader, expand_supported, link, run_sync
from dcops.bmc.redfish.inline import InlineDrives
from dcops.bmc.redfish.keys import ODATA_ID, ROOT
from dcops.bmc.redfish.read import read_observation
from dcops.bmc.redfish.tasks import Clock, Pacing
from dcops.errors import ApplyError
from dcops.observation import Observation

log = logging.getLogger(__name__)

# Words of a refusal that means "busy, ask again later": 409 ResourceInUse (a controller or an
# update service working on something else), Dell STOR023, "already scheduled or running".
BUSY_WORDS = ("ResourceInUse", "STOR023", "already scheduled or running", "busy")


class Shared:
    """What the drivers of one BMC share: the connector, the first system, the vendor quirks."""

    def __init__(self, conn: RedfishConnector, pacing: Pacing | None = None, clock: Clock | None = None) -> None:
        self.conn = conn
        self.pacing = pacing or Pacing()
        self.clock = clock or Clock()
        self._expand: bool | None = None  # $expand=.($levels=1) on collections (None: not known yet)
        self._root: Doc | None = None
        self._system_uri: str | None = None
        self._manager_uri: str | None = None
        self._quirks: oem.Quirks | None = None
        self.last_errors: list[Any] = []  # what the last members() read could not read
        # One storage-controller operation at a time per BMC (controllers refuse a second one).
        self.storage_lock = threading.Lock()

    def root(self) -> Doc:
        if self._root is None:
            self._root = self.conn.get(ROOT)
        return self._root

    def pin(self) -> str | None:
        """The book's pin of the host system (``bmc.system``), if any."""
        endpoint = getattr(self.conn, "endpoint", None)
        value = getattr(endpoint, "system", None)
        return value if isinstance(value, str) and value else None

    def _collection(self, key: str, failures: list[FetchError] | None = None) -> list[Doc]:
        uri = link(self.root(), key) or f"{ROOT}/{key}"
        try:
            docs = self.members(uri, key.lower())
        except FetchError as exc:
            if failures is not None:
                failures.append(exc)
            return []
        if not docs and failures is not None:  # listed, but no member could be read
            failures.extend(FetchError(e.what, e.reason) for e in self.last_errors)
        return docs

    def _choose(self) -> None:
        failures: list[FetchError] = []
        system_docs = self._collection("Systems", failures)
        managers = self._collection("Managers")
        choice = systems.choose(system_docs, managers, self.pin())
        if choice.error:
            raise ApplyError(f"{self.conn.host}: {choice.error}")
        if choice.host is None and failures and not failures[0].reason.startswith(("HTTP 4", "4")):
            # The BMC answered, but its Systems collection is unusable (an HTML page, truncated
            # JSON, a 5xx): which server this is and how it is cannot be known. A read failure
            # (exit 4), never "lists no Systems" (a refusal of the request, exit 5).
            raise FetchError(failures[0].path, f"{failures[0].reason}; the server's health is unknown")
        if choice.host is None:
            raise ApplyError(f"{self.conn.host}: the BMC lists no Systems")
        self._system_uri = str(choice.host.get(ODATA_ID))
        manager = systems.manager_of(choice.host, managers)
        self._manager_uri = str(manager.get(ODATA_ID)) if manager else None

    def system_uri(self) -> str:
        """The URI of the host system: the book's pin, else the system the evidence names
        (ManagerForServers, Reset action, Boot, not a GPU baseboard or DPU)."""
        if self._system_uri is None:
            self._choose()
        assert self._system_uri is not None
        return self._system_uri

    def manager_uri(self) -> str:
        """The manager of the host system (its ManagedBy, else one naming it in ManagerForServers)."""
        if self._manager_uri is None:
            self._choose()
        if self._manager_uri is None:
            raise ApplyError(f"{self.conn.host}: the BMC lists no Managers")
        return self._manager_uri

    def system(self) -> Doc:
        return self.conn.get(self.system_uri())

    def quirks(self) -> oem.Quirks:
        if self._quirks is None:
            self._quirks = oem.detect(self.root(), self.system())
        return self._quirks

    def fetch(self, path: str) -> Doc:
        return self.conn.get(path)

    def observe(self, sections: Iterable[str], *, log_limit: int = 0) -> Observation:
        """This host read into an Observation (``read_observation``): the one-host read of
        ``bmc show``, provisioning's discover and accept, the firmware and RAID plans. It reads as
        the fleet's inventory tier does: collections with their members inlined and a Storage's
        drives inline where the service root advertises ``$expand`` (``expand``; what a BMC does
        with it is learnt afresh on each read: ``inline.py``), else member by member. Member by
        member, a sim Dell R750 took 70 requests, a 40-entry firmware inventory 40: at a real
        iDRAC's 0.3-1 s a request, 20-70 s before a plan could be shown."""
        step = read_observation(self.conn.host, sections=sections, log_limit=log_limit, system=self.pin(),
                                expand=self.expand(), inline=InlineDrives(self.conn.host))
        return run_sync(step, self.fetch)

    def forget(self) -> None:
        """Drop cached documents (after the BMC rebooted they may have changed)."""
        self._root = None

    def host(self) -> str:
        return self.conn.host

    def expand(self) -> bool:
        """Whether collections are read with ``$expand=.($levels=1)``: the service root advertises
        it and the BMC has not refused it yet (a 40-member firmware inventory is then 1 request)."""
        if self._expand is None:
            self._expand = expand_supported(self.root())
        return self._expand

    def members(self, uri: str | None, what: str | None = None) -> list[Doc]:
        """The member documents of a collection (inlined or linked, paged; ``$expand`` where the BMC
        supports it); unreadable members are skipped. Raises FetchError when the collection itself
        cannot be read."""
        if not uri:
            return []
        reader = Reader(expand=self.expand())
        docs = run_sync(reader.members(uri, what), self.fetch)
        self.last_errors = list(reader.errors)
        if not reader.expand:
            self._expand = False  # refused once: do not ask again
        if not docs and reader.errors and reader.errors[0].what in (uri, what):
            raise FetchError(uri, reader.errors[0].reason)
        return docs

    def write(self, method: str, uri: str, body: Any, what: str, *, etag: str | None = None) -> Response:
        """A write that waits out "busy" refusals (409 ResourceInUse + Retry-After: a controller or
        the update service working on something else) within ``pacing.busy_timeout``."""
        deadline = self.clock.now() + self.pacing.busy_timeout
        while True:
            try:
                resp: Response = self.conn.act(method, uri, body, what, etag=etag)
                return resp
            except ApplyError as exc:
                if not any(word.lower() in str(exc).lower() for word in BUSY_WORDS) \
                        or self.clock.now() + self.pacing.poll > deadline:
                    raise
                log.info("%s: %s: BMC busy, waiting", self.conn.host, what)
                self.clock.sleep(self.pacing.poll)

    def link_or(self, doc: Doc, key: str, default: str) -> str:
        return link(doc, key) or default
