"""Read a cloud's compute nodes from Nova and Placement: the only importer of openstacksdk.

``fetch_cloud`` returns plain records (``dcops.capacity.cloud``); every openstacksdk and
keystoneauth error is translated here into ``CloudConfigError`` (exit 3) or
``CloudUnreachableError`` (exit 4). Tokens never appear in messages: they are resolved through
``dcops.secrets`` and so scrubbed from anything dcops prints.

Cost: one request each for services, AZs, aggregates and hypervisors (paged by the SDK), one
for the provider list, then two per provider (inventories, usages), run ``parallel`` at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dcops.errors import MissingExtraError

try:
    import openstack
    import openstack.exceptions as os_exc
    from keystoneauth1 import exceptions as ks_exc
except ImportError as exc:  # an install without dcops[openstack]: --from-file still works
    raise MissingExtraError("reading an OpenStack cloud", "openstack", "openstacksdk") from exc

from dcops import __version__
from dcops.capacity.cloud import (
    AggregateRecord,
    CloudData,
    HypervisorRecord,
    ProviderRecord,
    ServiceRecord,
    ZoneRecord,
    build_snapshot,
)
from dcops.capacity.errors import CloudConfigError, CloudUnreachableError
from dcops.capacity.model import Snapshot
from dcops.secrets import Secret

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class CloudOptions:
    """How to reach the cloud: a ``clouds.yaml`` entry, or URLs and a token, or the ``OS_*``
    environment when neither is given. URLs given with ``cloud`` override its endpoints."""

    cloud: str | None = None
    placement_url: str | None = None
    compute_url: str | None = None
    token: Secret | None = None
    verify: bool = True
    timeout: float = 30.0
    parallel: int = 8

    def describe(self) -> dict[str, str]:
        """Where the data came from, for the snapshot's ``source`` (no secrets)."""
        out = {}
        if self.cloud:
            out["cloud"] = self.cloud
        if self.placement_url:
            out["placement_url"] = self.placement_url
        if self.compute_url:
            out["compute_url"] = self.compute_url
        return out


@contextlib.contextmanager
def _translate(what: str) -> Iterator[None]:
    """Turn SDK and keystoneauth errors into dcops errors naming ``what`` was being read."""
    try:
        yield
    except os_exc.ConfigException as exc:
        raise CloudConfigError(f"cloud configuration: {exc}") from exc
    except ks_exc.EndpointNotFound as exc:
        raise CloudConfigError(f"{what}: no endpoint in the service catalog ({exc})") from exc
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.DiscoveryFailure) as exc:
        raise CloudUnreachableError(f"{what}: cannot connect: {type(exc).__name__}: {exc}") from exc
    except (ks_exc.Unauthorized, ks_exc.Forbidden) as exc:
        raise CloudUnreachableError(f"{what}: credentials refused: {exc}") from exc
    except os_exc.HttpException as exc:
        status = exc.status_code
        if status in (401, 403):
            raise CloudUnreachableError(f"{what}: credentials refused (HTTP {status})") from exc
        detail = (exc.details or exc.message or "").strip().splitlines()
        raise CloudUnreachableError(
            f"{what}: HTTP {status}: {detail[0] if detail else type(exc).__name__}") from exc
    except (os_exc.SDKException, ks_exc.ClientException) as exc:
        raise CloudUnreachableError(f"{what}: {type(exc).__name__}: {exc}") from exc


def connect(options: CloudOptions) -> Any:
    """An ``openstack.connection.Connection`` for ``options`` (nothing is sent yet).

    Raises ``CloudConfigError`` when the options cannot address a cloud.
    """
    common: dict[str, Any] = {
        "app_name": "dcops",
        "app_version": __version__,
        "api_timeout": options.timeout,
        "verify": options.verify,
    }
    if options.placement_url:
        common["placement_endpoint_override"] = options.placement_url
    if options.compute_url:
        common["compute_endpoint_override"] = options.compute_url
    with _translate("connect"):
        if options.cloud:
            return openstack.connect(cloud=options.cloud, **common)
        if options.token is not None:
            if not options.placement_url or not options.compute_url:
                raise CloudConfigError("--token needs --placement-url and --compute-url (or use --cloud)")
            # admin_token sends the token as is to every endpoint; with noauth2 Placement and
            # in front of a token-validating proxy that is all that is needed.
            return openstack.connect(
                load_yaml_config=False, load_envvars=False, auth_type="admin_token",
                auth={"endpoint": options.placement_url, "token": options.token.reveal()}, **common)
        if not (os.environ.get("OS_CLOUD") or os.environ.get("OS_AUTH_URL")):
            raise CloudConfigError("no cloud given: use --cloud NAME (clouds.yaml), --placement-url/"
                                   "--compute-url/--token, OS_CLOUD or OS_AUTH_URL, or --from-file")
        return openstack.connect(**common)


def _services(conn: Any) -> list[ServiceRecord]:
    with _translate("Nova os-services"):
        return [
            ServiceRecord(host=s.host, binary=s.binary, zone=s.availability_zone, status=s.status,
                          state=s.state, forced_down=bool(s.is_forced_down),
                          disabled_reason=s.disabled_reason)
            for s in conn.compute.services()
        ]


def _zones(conn: Any) -> list[ZoneRecord]:
    with _translate("Nova os-availability-zone/detail"):
        return [
            ZoneRecord(name=z.name, available=bool((z.state or {}).get("available")), hosts=z.hosts or {})
            for z in conn.compute.availability_zones(details=True)
        ]


def _aggregates(conn: Any) -> list[AggregateRecord]:
    with _translate("Nova os-aggregates"):
        return [
            AggregateRecord(name=a.name,
                            availability_zone=a.availability_zone or (a.metadata or {}).get("availability_zone"),
                            hosts=tuple(a.hosts or ()), uuid=a.uuid)
            for a in conn.compute.aggregates()
        ]


def _hypervisors(conn: Any) -> list[HypervisorRecord]:
    with _translate("Nova os-hypervisors/detail"):
        return [
            HypervisorRecord(id=str(h.id), hostname=h.name, service_host=(h.service_details or {}).get("host"),
                             state=h.state, status=h.status)
            for h in conn.compute.hypervisors(details=True)
        ]


def _provider(conn: Any, uuid: str, name: str) -> ProviderRecord:
    with _translate(f"Placement resource provider {name}"):
        inventories = {
            inv.resource_class: {"total": inv.total, "reserved": inv.reserved,
                                 "allocation_ratio": inv.allocation_ratio}
            for inv in conn.placement.resource_provider_inventories(uuid)
        }
        usages = conn.placement.fetch_resource_provider_usages(uuid).usages or {}
    return ProviderRecord(uuid=uuid, name=name, inventories=inventories,
                          usages={k: int(v) for k, v in usages.items()})


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence openstacksdk's deprecation warnings about its own internals (hundreds per run,
    nothing a user can act on)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"openstack(\.|$)")
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module=r"openstack(\.|$)")
        yield


def fetch_cloud(conn: Any, parallel: int = 8) -> CloudData:
    """Read Nova and Placement through ``conn``.

    Raises ``CloudUnreachableError`` or ``CloudConfigError`` (translated SDK errors).
    """
    with _quiet():
        return _fetch_cloud(conn, parallel)


def _fetch_cloud(conn: Any, parallel: int) -> CloudData:
    services = _services(conn)
    zones = _zones(conn)
    aggregates = _aggregates(conn)
    hypervisors = _hypervisors(conn)
    wanted = {h.id for h in hypervisors} | {h.hostname for h in hypervisors}
    with _translate("Placement resource providers"):
        # Only compute nodes matter: child providers (vGPU, bandwidth) and sharing providers
        # are not where instances' memory and CPUs live.
        roots = [(p.id, p.name) for p in conn.placement.resource_providers()
                 if p.id in wanted or p.name in wanted]
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, 32)), thread_name_prefix="placement") as pool:
        providers = list(pool.map(lambda rp: _provider(conn, rp[0], rp[1]), roots))
    log.debug("read %d services, %d hypervisors, %d providers", len(services), len(hypervisors), len(providers))
    return CloudData(services=services, zones=zones, aggregates=aggregates, hypervisors=hypervisors,
                     providers=providers)


def fetch_snapshot(options: CloudOptions, now: dt.datetime | None = None) -> Snapshot:
    """Connect, read everything and join it into a snapshot (racks not yet assigned).

    Raises ``CloudConfigError`` or ``CloudUnreachableError``.
    """
    with _quiet():
        conn = connect(options)
    try:
        data = fetch_cloud(conn, options.parallel)
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    taken_at = now or dt.datetime.now(dt.UTC)
    data = CloudData(services=data.services, zones=data.zones, aggregates=data.aggregates,
                     hypervisors=data.hypervisors, providers=data.providers, source=options.describe())
    return build_snapshot(data, taken_at)
