"""The fields of a host in the book, how each is checked, and how they map to ``models.Host``.

Pure: no I/O. A host is handled here as a flat mapping of dotted paths (``bmc.address``,
``asset.serial``, ``rack``) to values, which is what inheritance, the importer and the diff all
work on. ``check_value`` validates and converts one value; ``build_host`` and ``flatten_host``
convert between the flat form and ``Host``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from dcops.models import (
    AssetRecord,
    BmcEndpoint,
    Host,
    InbandEndpoint,
    Location,
    NetworkEndpoint,
    Protocol,
    SourceRef,
)
from dcops.secrets import check_reference, scheme_of

BMC_FIELDS: tuple[str, ...] = (
    "address", "port", "ipmi_port", "scheme", "protocol", "username", "password", "verify_tls", "ca_bundle",
    "system",
)
ASSET_FIELDS: tuple[str, ...] = (
    "serial", "asset_tag", "purchase_date", "warranty_end", "contract", "supplier",
    "service_provider", "use", "notes",
)
INBAND_FIELDS: tuple[str, ...] = ("address", "port")  # the host's own address (patrol's in-band probe)
LOCATION_FIELDS: tuple[str, ...] = ("site", "room", "rack", "u", "u_height")
HOST_FIELDS: tuple[str, ...] = (
    "name", *LOCATION_FIELDS, "bmc", "vendor", "model", "profile", "az", "role", "tags", "asset", "inband",
    "networks",
)
# Sub-mappings of a host whose keys merge one by one along the inheritance chain.
NESTED: dict[str, tuple[str, ...]] = {"bmc": BMC_FIELDS, "asset": ASSET_FIELDS, "inband": INBAND_FIELDS}

# A network entry: an address, or {address, port, switch}. Network names are the book's own
# (mgmt, biz-a, storage...), so ``networks`` is not in NESTED: its flat paths are
# ``networks.<name>`` holding a ``NetworkEndpoint``, and are not listed in PATHS.
NETWORK_FIELDS: tuple[str, ...] = ("address", "port", "switch")
NETWORKS = "networks"

# Every leaf path of a host, in the order `show` and `dump` present them.
PATHS: tuple[str, ...] = tuple(
    path
    for top in HOST_FIELDS if top != NETWORKS
    for path in ([f"{top}.{sub}" for sub in NESTED[top]] if top in NESTED else [top])
)

# Host names, site/room/rack names and tags end up in selectors (`rack=A01,role=db`) and in
# file names, so they may not contain separators, spaces or glob characters.
NAME_RE = re.compile(r"^\w[\w.\-]*$")
_HOSTNAME_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
SCHEMES = ("http", "https")
PROTOCOLS = tuple(p.value for p in Protocol)

_KIND: dict[str, str] = {
    "name": "name", "site": "name", "room": "name", "rack": "name",
    "u": "posint", "u_height": "posint",
    "vendor": "text", "model": "text", "profile": "name", "az": "name", "role": "name",
    "tags": "tags",
    "bmc.address": "address", "bmc.port": "port", "bmc.ipmi_port": "port", "bmc.scheme": "scheme", "bmc.protocol": "protocol",
    "bmc.username": "text", "bmc.password": "password", "bmc.verify_tls": "bool", "bmc.ca_bundle": "text",
    "bmc.system": "text",
    "asset.serial": "text", "asset.asset_tag": "text", "asset.purchase_date": "date",
    "asset.warranty_end": "date", "asset.contract": "text", "asset.supplier": "text",
    "asset.service_provider": "text", "asset.use": "text", "asset.notes": "text",
    "inband.address": "address", "inband.port": "port",
}


def kind_of(path: str) -> str:
    """The kind of value a field path holds: name, text, posint, port, bool, scheme, protocol,
    date, address, password or tags. Raises ``KeyError`` for an unknown path."""
    return _KIND[path]


def suggest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_field(key: Any, known: Iterable[str]) -> str:
    """The message for a key that is not a field here, with the closest known one."""
    return f"unknown field '{key}'{suggest(str(key), known)}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    if isinstance(value, dt.date):
        return "a date"
    return type(value).__name__


def _must_be_string(field: str, value: Any) -> str:
    hint = ""
    if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
        # YAML turns 0123 into 83 and 1e5 into 100000.0: quoting keeps what was written.
        hint = " (quote it: '...')"
    elif isinstance(value, bool):
        hint = " (YAML reads yes/no/on/off as booleans: quote it)"
    return f"{field} must be a string, not {_describe(value)}{hint}"


def check_name(field: str, value: Any) -> tuple[Any, str | None]:
    """Check a name (host, site, room, rack, tag): a string of letters, digits, '.', '_' and '-'."""
    if not isinstance(value, str):
        return None, _must_be_string(field, value)
    if not value:
        return None, f"{field} must not be empty"
    if not NAME_RE.match(value):
        return None, (f"{field} '{value}' may only contain letters, digits, '.', '_' and '-' "
                      "(it is used in selectors)")
    return value, None


def check_address(value: Any, path: str = "bmc.address") -> tuple[Any, str | None]:
    """Check an address (``path`` names the field in messages): an IPv4/IPv6 address or a DNS host name."""
    if not isinstance(value, str):
        return None, _must_be_string(path, value)
    text = value.strip()
    if not text:
        return None, f"{path} must not be empty"
    try:
        ipaddress.ip_address(text)
        return text, None
    except ValueError:
        pass
    labels = text.rstrip(".").split(".")
    # All-numeric dotted text is meant as an IPv4 address (10.1.0.300 is a typo, not a host name).
    if all(label.isdigit() for label in labels) or ":" in text:
        return None, f"{path} '{value}' is not a valid IP address"
    if len(text) > 253 or not all(_HOSTNAME_LABEL.match(label) for label in labels):
        return None, f"{path} '{value}' is not an IP address or host name"
    return text, None


def check_date(field: str, value: Any) -> tuple[Any, str | None]:
    """Check a date: a YAML date or a 'YYYY-MM-DD' string."""
    if isinstance(value, dt.datetime):
        return None, f"{field} must be a date YYYY-MM-DD, not a timestamp"
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return dt.date.fromisoformat(value.strip()), None
            except ValueError as exc:
                return None, f"{field} '{value}' is not a valid date: {exc}"
        return None, f"{field} '{value}' is not a date: use YYYY-MM-DD"
    return None, f"{field} must be a date YYYY-MM-DD, not {_describe(value)}"


def check_value(path: str, value: Any) -> tuple[Any, str | None]:
    """Validate and convert the value of one leaf field (``path`` as in ``PATHS``).

    Returns ``(converted, None)`` or ``(None, message)``. Plain-text passwords pass here: whether
    they are allowed depends on the file (see ``plaintext_password``). Raises nothing.
    """
    kind = _KIND[path]
    if kind == "name":
        return check_name(path, value)
    if kind == "text":
        if not isinstance(value, str):
            return None, _must_be_string(path, value)
        return value, None
    if kind in ("posint", "port"):
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"{path} must be a whole number, not {_describe(value)}"
        if kind == "port" and not 1 <= value <= 65535:
            return None, f"{path} {value} is out of range (1-65535)"
        if kind == "posint" and value < 1:
            return None, f"{path} must be 1 or more, not {value}"
        return value, None
    if kind == "bool":
        if not isinstance(value, bool):
            return None, f"{path} must be true or false, not {_describe(value)}"
        return value, None
    if kind == "scheme":
        if value not in SCHEMES:
            return None, f"bmc.scheme '{value}' is not one of: {', '.join(SCHEMES)}"
        return value, None
    if kind == "protocol":
        if not isinstance(value, str) or value.lower() not in PROTOCOLS:
            return None, f"bmc.protocol '{value}' is not one of: {', '.join(PROTOCOLS)}"
        return Protocol(value.lower()), None
    if kind == "date":
        return check_date(path, value)
    if kind == "address":
        return check_address(value, path)
    if kind == "password":
        if not isinstance(value, str):
            return None, _must_be_string(path, value)
        wrong = check_reference(value, book=True)
        return (None, f"bmc.password: {wrong}") if wrong else (value, None)
    if kind == "tags":
        if not isinstance(value, list):
            return None, f"tags must be a list (e.g. [prod, trading]), not {_describe(value)}"
        tags: list[str] = []
        for tag in value:
            ok, wrong = check_name("tag", tag)
            if wrong:
                return None, f"tags: {wrong}"
            tags.append(ok)
        return tags, None
    raise AssertionError(f"no check for {path}")  # a field was added to PATHS without a kind


def check_network(network: str, value: Any) -> tuple[NetworkEndpoint | None, str | None]:
    """Check one entry of ``networks``: an address, or a mapping {address, port, switch}.
    Returns ``(endpoint, None)`` or ``(None, message)``; the message names ``networks.<name>``."""
    path = f"networks.{network}"
    _, wrong = check_name(path, network)
    if wrong:
        return None, f"network name: {wrong}"
    if isinstance(value, str):
        address, wrong = check_address(value, path)
        return (None, wrong) if wrong else (NetworkEndpoint(address), None)
    if not isinstance(value, dict):
        return None, f"{path} must be an address or a mapping {{address, port, switch}}, not {_describe(value)}"
    unknown = [k for k in value if k not in NETWORK_FIELDS]
    if unknown:
        return None, f"{path}: {unknown_field(unknown[0], NETWORK_FIELDS)}"
    if value.get("address") is None:
        return None, f"{path}: missing address"
    address, wrong = check_address(value["address"], f"{path}.address")
    if wrong:
        return None, wrong
    port = value.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        return None, f"{path}.port must be a whole number 1-65535, not {port!r}"
    switch = value.get("switch")
    if switch is not None:
        switch, wrong = check_name(f"{path}.switch", switch)
        if wrong:
            return None, wrong
    return NetworkEndpoint(address, port, switch), None


def network_value(endpoint: NetworkEndpoint) -> Any:
    """A network entry as the book writes it: the bare address when nothing else is set."""
    if endpoint.port is None and endpoint.switch is None:
        return endpoint.address
    out: dict[str, Any] = {"address": endpoint.address}
    if endpoint.port is not None:
        out["port"] = endpoint.port
    if endpoint.switch is not None:
        out["switch"] = endpoint.switch
    return out


def plaintext_password(ref: str) -> bool:
    """True when a password reference holds the password itself (``plain:...``)."""
    return scheme_of(ref) == "plain"


def check_dates_in_order(values: Mapping[str, Any]) -> str | None:
    """The message when the warranty ends before the purchase, else None."""
    bought, ends = values.get("asset.purchase_date"), values.get("asset.warranty_end")
    if isinstance(bought, dt.date) and isinstance(ends, dt.date) and ends < bought:
        return f"asset.warranty_end {ends.isoformat()} is before asset.purchase_date {bought.isoformat()}"
    return None


def build_host(values: Mapping[str, Any], source: SourceRef | None = None) -> Host:
    """Build a ``Host`` from checked flat values (``name`` and ``bmc.address`` must be present)."""
    get = values.get
    bmc = BmcEndpoint(
        address=values["bmc.address"],
        port=get("bmc.port"),
        ipmi_port=get("bmc.ipmi_port"),
        protocol=get("bmc.protocol") or Protocol.AUTO,
        scheme=get("bmc.scheme") or "https",
        username=get("bmc.username") or "",
        password_ref=get("bmc.password") or "",
        verify_tls=get("bmc.verify_tls", True),
        ca_bundle=get("bmc.ca_bundle"),
        system=get("bmc.system"),
    )
    location = Location(site=get("site"), room=get("room"), rack=get("rack"), u=get("u"),
                        u_height=get("u_height") or 1)
    asset = AssetRecord(**{f: get(f"asset.{f}") for f in ASSET_FIELDS})
    inband_address = get("inband.address")
    inband = InbandEndpoint(str(inband_address), get("inband.port")) if inband_address else None
    networks = tuple((path.split(".", 1)[1], value) for path, value in values.items()
                     if path.startswith(f"{NETWORKS}.") and isinstance(value, NetworkEndpoint))
    return Host(name=values["name"], bmc=bmc, location=location, vendor=get("vendor"), model=get("model"),
                profile=get("profile"), az=get("az"), role=get("role"), tags=tuple(get("tags") or ()),
                asset=asset, source=source or SourceRef(), inband=inband, networks=networks)


def flatten_host(host: Host, *, keep_defaults: bool = False) -> dict[str, Any]:
    """The flat form of a host: every path of ``PATHS`` that is set and differs from the built-in
    default (with ``keep_defaults``, the defaults too)."""
    if keep_defaults:
        full = {**_DEFAULTS, **flatten_host(host)}
        return {path: full[path] for path in [*PATHS, *(p for p in full if p.startswith(f"{NETWORKS}."))]
                if path in full}
    bmc, loc, asset = host.bmc, host.location, host.asset
    values: dict[str, Any] = {
        "name": host.name, "site": loc.site, "room": loc.room, "rack": loc.rack, "u": loc.u,
        "u_height": loc.u_height if loc.u_height != 1 else None,
        "vendor": host.vendor, "model": host.model, "profile": host.profile, "az": host.az, "role": host.role,
        "tags": list(host.tags) or None,
        "bmc.address": bmc.address, "bmc.port": bmc.port, "bmc.ipmi_port": bmc.ipmi_port,
        "bmc.scheme": bmc.scheme if bmc.scheme != "https" else None,
        "bmc.protocol": bmc.protocol if bmc.protocol != Protocol.AUTO else None,
        "bmc.username": bmc.username or None, "bmc.password": bmc.password_ref or None,
        "bmc.verify_tls": False if not bmc.verify_tls else None, "bmc.ca_bundle": bmc.ca_bundle,
        "bmc.system": bmc.system,
    }
    for name in ASSET_FIELDS:
        values[f"asset.{name}"] = getattr(asset, name)
    values["inband.address"] = host.inband.address if host.inband else None
    values["inband.port"] = host.inband.port if host.inband else None
    flat = {path: values[path] for path in PATHS if values[path] is not None}
    # After the fixed paths: `networks.<name>` entries (dump nests them back under networks:).
    flat.update({f"{NETWORKS}.{name}": network_value(endpoint) for name, endpoint in host.networks})
    return flat


_DEFAULTS: dict[str, Any] = {"u_height": 1, "bmc.scheme": "https", "bmc.protocol": Protocol.AUTO,
                             "bmc.verify_tls": True}


def mask_password(ref: str | None) -> str | None:
    """A password reference fit to show: ``plain:`` values are masked, other references kept."""
    if ref and plaintext_password(ref):
        return "plain:********"
    return ref
