"""Generic Redfish document plumbing: ``FetchError``, link and value helpers, the sans-I/O
``Reader`` with ``run_sync`` / ``run_async``, ETags and error messages. No I/O here.

A reading step is a generator that yields the path it needs next and receives the document (or
has ``FetchError`` thrown in when that path cannot be read). The synchronous connector drives it
with ``run_sync``, the asyncio path with ``run_async``: the same parsing, only the transport
differs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dcops.bmc.redfish.keys import (
    EXPAND_ONE_LEVEL,
    EXTENDED_INFO,
    HEALTH,
    MAX_PAGES,
    MEMBERS,
    MEMBERS_COUNT,
    NEXT_LINK,
    ODATA_ETAG,
    ODATA_ID,
    ODATA_TYPE,
    POWER,
)
from dcops.bmc.redfish.options import may_blame_option
from dcops.errors import DcopsError, ExitCode
from dcops.observation import Health, PowerState, ReadError

Doc = dict[str, Any]
T = TypeVar("T")
# A reading step: yields a path, is sent the document for it, returns a value.
Step = Generator[str, Doc, T]


class FetchError(DcopsError):
    """One resource could not be read (404, 5xx after retries, not JSON). Thrown into the reader,
    which records it and carries on. A BMC that is down raises ``UnreachableError`` instead.

    A ``DcopsError`` (exit 4, results incomplete) so that a caller that lets one escape -- a
    power status read answered with a 500 -- reports the host instead of crashing the run."""

    exit_code = ExitCode.INCOMPLETE

    def __init__(self, path: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.status = status


def normalize(uri: str) -> str:
    """Cache/dedup key of a URI: no fragment or query, no trailing slash, lower case.

    Quirk (HPE iLO 5/6): links mix case (``/redfish/v1/systems/1/``) and carry trailing slashes,
    so the same resource arrives under several spellings.
    """
    if "#" not in uri and "?" not in uri and not uri.startswith("http"):
        return uri.rstrip("/").lower() or "/"  # the common case, on every read of every member
    path = uri.split("#", 1)[0].split("?", 1)[0]
    if path.startswith(("http://", "https://")):
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path.rstrip("/").lower() or "/"


def cache_key(uri: str) -> str:
    """Cache key of a request: ``normalize``d path plus its query string, kept as sent.

    Pages of one collection differ only in the query (``Members@odata.nextLink`` is
    ``...?$skip=75``): a key without it hands page 1 back for every page."""
    if "?" not in uri:
        return normalize(uri)
    base = uri.split("#", 1)[0]
    query = base.split("?", 1)[1] if "?" in base else ""
    return normalize(base) + (f"?{query}" if query else "")


def next_page(current: str, next_link: str) -> str:
    """The path to ask for the next page: ``Members@odata.nextLink`` as given when it is a path,
    without scheme and host when it is a full URL, and against the current page's path when it is
    only a query (``?$skip=75``: seen on some OpenBMC builds)."""
    if next_link.startswith(("http://", "https://")):
        return "/" + next_link.split("://", 1)[1].partition("/")[2]
    if next_link.startswith("?"):
        return current.split("?", 1)[0] + next_link
    return next_link


def link(doc: Doc | None, key: str) -> str | None:
    """The ``@odata.id`` of ``doc[key]`` (None when absent or malformed)."""
    if not isinstance(doc, dict):
        return None
    value = doc.get(key)
    if isinstance(value, dict):
        target = value.get(ODATA_ID)
        return target if isinstance(target, str) and target else None
    return None


def links_of(doc: Doc | None, key: str) -> list[str]:
    """The ``@odata.id`` of each entry of a list of links (``Links.Chassis``, ``Drives``)."""
    if not isinstance(doc, dict):
        return []
    value = doc.get(key)
    if isinstance(value, dict):  # some BMCs give a single link where a list is specified
        value = [value]
    if not isinstance(value, list):
        return []
    return [v[ODATA_ID] for v in value if isinstance(v, dict) and isinstance(v.get(ODATA_ID), str)]


def last_segment(uri: str) -> str:
    return uri.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def health_of(doc: Doc | None, *, rollup: bool = False) -> Health:
    status = doc.get("Status") if isinstance(doc, dict) else None
    if not isinstance(status, dict):
        return Health.UNKNOWN
    value = (status.get("HealthRollup") if rollup else None) or status.get("Health")
    return HEALTH.get(str(value).lower(), Health.UNKNOWN) if value else Health.UNKNOWN


def state_of(doc: Doc | None) -> str | None:
    status = doc.get("Status") if isinstance(doc, dict) else None
    state = status.get("State") if isinstance(status, dict) else None
    return state if isinstance(state, str) else None


def health_and_state(doc: Doc | None) -> tuple[Health, str | None]:
    """``health_of(doc)`` and ``state_of(doc)`` from one look at ``Status`` (every sensor of a
    patrol visit needs both)."""
    status = doc.get("Status") if isinstance(doc, dict) else None
    if not isinstance(status, dict):
        return Health.UNKNOWN, None
    value, state = status.get("Health"), status.get("State")
    return (HEALTH.get(str(value).lower(), Health.UNKNOWN) if value else Health.UNKNOWN,
            state if isinstance(state, str) else None)


def is_absent(doc: Doc) -> bool:
    return state_of(doc) == "Absent"


def text(doc: Doc | None, key: str) -> str | None:
    value = doc.get(key) if isinstance(doc, dict) else None
    # A string first: nearly every value read is one (this runs for every field of every part and
    # sensor of every patrol visit). A number is given as text; anything else is no text.
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def number(doc: Doc | None, key: str) -> float | None:
    return as_number(doc.get(key) if isinstance(doc, dict) else None)


def as_number(value: object) -> float | None:
    """``value`` as a float when it is a JSON number (a boolean is none), else None."""
    if type(value) is float:  # the common case (a reading, a threshold), float() of it would be itself
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def power_state(value: object) -> PowerState:
    return POWER.get(str(value).lower(), PowerState.UNKNOWN) if value else PowerState.UNKNOWN




def is_error_body(doc: object) -> bool:
    """A body that is an error, whatever status it came with: top-level ``error`` (the Redfish
    error response, DSP0266 "Error responses"), or an object that names neither ``@odata.id``
    nor ``@odata.type`` where a resource was asked for. Every Redfish resource carries both.

    Quirk (HPE Cray EX nC, Redfish 1.2.0): a link the service does not implement
    (``/Chassis/Mezz0/Power``) answers 200 with a ``ResourceMissingAtURI`` error body; read as a
    document it was a power resource with no supplies. Captures made with the DMTF mockup creator
    keep such bodies as documents too."""
    if not isinstance(doc, dict):
        return True
    if isinstance(doc.get("error"), dict):
        return True
    return ODATA_ID not in doc and ODATA_TYPE not in doc


def error_reason(doc: object) -> str:
    """Why an error body is one, in the BMC's own words where it gave some."""
    said = most_severe_message(doc)
    return f"error body: {said}" if said else "not a Redfish resource (no @odata.id or @odata.type)"


@dataclass
class Reader:
    """State of one read: a cache keyed by ``normalize``d URI and what could not be read."""

    errors: list[ReadError] = field(default_factory=list)
    cache: dict[str, Doc] = field(default_factory=dict)
    requests: int = 0
    # Ask collections for their members inlined (``$expand=.($levels=1)``): one GET instead of
    # 1 + N. Set from the service root's ProtocolFeaturesSupported; turned off at the first refusal.
    expand: bool = False
    # Errors reading the documents the health rests on (systems, chassis); set by the read's start.
    essential: list[str] = field(default_factory=list)
    # Read a Storage's drives inline with $expand (inline.InlineDrives: what is known of the BMC);
    # None: one by one. Set by read_observation where the service root advertises $expand.
    inline: Any = None

    def remember(self, doc: Doc) -> None:
        uri = doc.get(ODATA_ID)
        if isinstance(uri, str) and "#" not in uri:
            self.cache.setdefault(normalize(uri), doc)

    def get(self, uri: str | None, what: str | None = None, *, quiet: bool = False) -> Step[Doc | None]:
        """Read one resource; None (and an entry in ``errors``) when it cannot be read.
        ``quiet``: a read on a guess (a page asked for with ``$skip``): failing is no read error."""
        if not uri:
            return None
        key = cache_key(uri)
        if key in self.cache:
            return self.cache[key]
        try:
            self.requests += 1
            doc = yield uri
        except FetchError as exc:
            if not quiet:
                self.errors.append(ReadError(what or uri, exc.reason))
            self.cache[key] = {}
            return None
        if not isinstance(doc, dict):
            if not quiet:
                self.errors.append(ReadError(what or uri, "not a JSON object"))
            return None
        if is_error_body(doc):
            # An error served as a document is a failed read of that link, never a part.
            if not quiet:
                self.errors.append(ReadError(what or uri, error_reason(doc)))
            self.cache[key] = {}
            return None
        self.cache[key] = doc
        return doc

    def members(self, uri: str | None, what: str | None = None) -> Step[list[Doc]]:
        """The member documents of a collection: inlined ones as given, linked ones fetched,
        each distinct member once, following every ``Members@odata.nextLink`` page with its
        query string. Unreadable members are skipped (and recorded).

        Redfish spec (DSP0266, "Collection resources"): a service that pages adds
        ``Members@odata.nextLink``; ``Members@odata.count`` is the size of the whole collection.
        When a page says more members exist than were listed and gives no next link, the rest is
        asked for with ``$skip`` (what sushy and gofish do); a page seen before ends the walk
        (a BMC whose next link points back at itself), as does ``MAX_PAGES``. The caller's visit
        deadline bounds the whole walk."""
        if not uri:
            return []  # a link the document does not have (asked for on every visit: no Sensors link)
        result: list[Doc] = []
        seen_members: set[str] = set()
        seen_pages: set[str] = set()
        listed = 0  # distinct members listed so far, readable or not
        page_uri: str | None = uri
        total: int | None = None
        guessed = False  # this page was asked for with $skip because the count said more
        for number_ in range(MAX_PAGES):
            if not page_uri:
                break
            page_key = cache_key(page_uri)
            if page_key in seen_pages:
                break
            seen_pages.add(page_key)
            page = None
            if number_ == 0 and self.expand and "?" not in page_uri \
                    and normalize(page_uri) not in self.cache:
                page = yield from self._expanded(page_uri)
            if page is None:
                page = yield from self.get(page_uri, what if number_ == 0 else f"{what or uri} ({page_uri})",
                                           quiet=guessed)
            if not page:
                break
            if number_ == 0 and isinstance(page.get(MEMBERS_COUNT), int):
                total = page[MEMBERS_COUNT]
            new = 0
            for member in page.get(MEMBERS) or []:
                if not isinstance(member, dict):
                    continue
                target = member.get(ODATA_ID)
                key = normalize(target) if isinstance(target, str) and "#" not in target else None
                if key is not None:
                    # A collection that lists the same link twice (or pages that overlap) is one read.
                    if key in seen_members:
                        continue
                    seen_members.add(key)
                new += 1
                if len(member) > 1 or not isinstance(target, str):
                    # Inlined member ($expand, or a BMC that never links): use it as it is.
                    if key is not None:
                        self.cache.setdefault(key, member)  # self.remember(member), its key at hand
                    result.append(member)
                    continue
                doc = yield from self.get(target)
                if doc:
                    result.append(doc)
            listed += new
            next_link = page.get(NEXT_LINK)
            page_uri = next_page(page_uri, next_link) if isinstance(next_link, str) and next_link else None
            guessed = False
            if page_uri is None and uri and new and total is not None and listed < total:
                # The count says more and there is no next link: ask for the rest with $skip (the
                # Redfish paging query; sushy and gofish do the same). Refused or ignored: done.
                page_uri, guessed = f"{uri.split('?', 1)[0]}?$skip={listed}", True
        return result

    def _expanded(self, uri: str) -> Step[Doc | None]:
        """The collection with its members inlined; None when the BMC refuses (then no more asking)."""
        try:
            self.requests += 1
            doc = yield f"{uri}?{EXPAND_ONE_LEVEL}"
        except FetchError as exc:
            if may_blame_option(exc.status):
                # A root that claims $expand and a collection that fails it (options.py): the
                # plain read that follows decides whether the collection can be read at all.
                self.expand = False
                return None
            self.errors.append(ReadError(uri, exc.reason))
            self.cache[normalize(uri)] = {}
            return {}
        if not isinstance(doc, dict) or is_error_body(doc):
            return None
        self.cache[normalize(uri)] = doc
        return doc


def expand_supported(root: Doc | None) -> bool:
    """Whether the service root says ``$expand=.($levels=1)`` works (ExpandQuery Levels or NoLinks)."""
    features = root.get("ProtocolFeaturesSupported") if isinstance(root, dict) else None
    expand = features.get("ExpandQuery") if isinstance(features, dict) else None
    return bool(isinstance(expand, dict) and (expand.get("NoLinks") or expand.get("Levels")))


def run_sync(step: Step[T], fetch: Callable[[str], Doc]) -> T:
    """Drive a reading step with a blocking ``fetch(path) -> doc`` (raises FetchError per resource)."""
    try:
        path = next(step)
        while True:
            try:
                doc = fetch(path)
            except FetchError as exc:
                path = step.throw(exc)
                continue
            path = step.send(doc)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        step.close()


async def run_async(step: Step[T], fetch: Callable[[str], Awaitable[Doc]]) -> T:
    """Drive a reading step with an asyncio ``fetch``: the same parsing as ``run_sync``."""
    try:
        path = next(step)
        while True:
            try:
                doc = await fetch(path)
            except FetchError as exc:
                path = step.throw(exc)
                continue
            path = step.send(doc)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        step.close()


def etag_of(doc: Doc) -> str | None:
    """The ETag a GET answered with (the connector copies the header into ``@odata.etag``)."""
    value = doc.get(ODATA_ETAG)
    return value if isinstance(value, str) else None


def extended_info(body: object) -> list[Doc]:
    """The ``@Message.ExtendedInfo`` messages of an error body, most severe first."""
    if not isinstance(body, dict):
        return []
    inner = body.get("error")
    err: Doc = inner if isinstance(inner, dict) else body
    infos = [i for i in err.get(EXTENDED_INFO) or [] if isinstance(i, dict)]
    rank = {"critical": 0, "warning": 1, "ok": 2}

    def order(info: Doc) -> int:
        sev = str(info.get("MessageSeverity") or info.get("Severity") or "").lower()
        return rank.get(sev, 1)

    infos.sort(key=order)
    if not infos and isinstance(err.get("message"), str):
        infos = [{"Message": err["message"], "MessageId": err.get("code")}]
    return infos


def most_severe_message(body: object) -> str | None:
    """One line a person can act on: the most severe ExtendedInfo message with its id."""
    infos = extended_info(body)
    if not infos:
        return None
    info = infos[0]
    message = str(info.get("Message") or "").strip()
    message_id = info.get("MessageId")
    short = str(message_id).rsplit(".", 1)[-1] if message_id else None
    return f"{short}: {message}" if short and message else message or short
