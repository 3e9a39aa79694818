"""Compatibility facade: the names other packages import from ``dcops.bmc.redfish.resources``.

The module was split (it had grown to 850 lines) into:

* ``keys``   -- Redfish key names and value tables (the one place Redfish spellings live);
* ``docs``   -- ``FetchError``, link/value helpers, the sans-I/O ``Reader`` and ``run_sync`` /
  ``run_async``, ETags and ``@Message.ExtendedInfo`` messages;
* ``read``   -- JSON -> ``Observation`` (``read_observation``, ``read_health``);
* ``bodies`` -- the requests dcops sends (reset, boot override, virtual media, ...);
* ``settings``, ``storage``, ``update``, ``tasks`` -- BIOS, RAID, firmware and task documents.

New code should import from those modules; everything that was importable from here still is.
"""

from __future__ import annotations

from dcops.bmc.redfish.bodies import (
    boot_override,
    boot_override_body,
    choose_reset_type,
    eject_media_action,
    insert_media_action,
    insert_media_body,
    media_state,
    media_trust,
    media_types,
    reset_body,
    reset_target,
    virtual_media_links,
)
from dcops.bmc.redfish.docs import (
    Doc,
    FetchError,
    Reader,
    Step,
    T,
    etag_of,
    extended_info,
    health_of,
    is_absent,
    last_segment,
    link,
    links_of,
    most_severe_message,
    normalize,
    number,
    power_state,
    run_async,
    run_sync,
    state_of,
    text,
)
from dcops.bmc.redfish.keys import (
    BOOT_TARGETS,
    HEALTH,
    LEGACY_THRESHOLDS,
    MAX_PAGES,
    MEMBERS,
    NEXT_LINK,
    ODATA_ID,
    POWER,
    PROCESSOR_KINDS,
    READING_TYPES,
    RESET_TYPES,
    ROOT,
    SECTIONS,
    SENSOR_THRESHOLDS,
    SEVERITY,
    UNITS,
)
from dcops.bmc.redfish.read import part_location, read_health, read_observation, sensor_kind

__all__ = [
    "media_trust",
    "BOOT_TARGETS", "HEALTH", "LEGACY_THRESHOLDS", "MAX_PAGES", "MEMBERS", "NEXT_LINK", "ODATA_ID", "POWER",
    "PROCESSOR_KINDS", "READING_TYPES", "RESET_TYPES", "ROOT", "SECTIONS", "SENSOR_THRESHOLDS", "SEVERITY",
    "UNITS", "Doc", "FetchError", "Reader", "Step", "T", "boot_override", "boot_override_body",
    "choose_reset_type", "eject_media_action", "etag_of", "extended_info", "health_of", "insert_media_action",
    "insert_media_body", "is_absent", "last_segment", "link", "links_of", "media_state", "media_types",
    "most_severe_message", "normalize", "number", "part_location", "power_state", "read_health",
    "read_observation", "reset_body", "reset_target", "run_async", "run_sync", "sensor_kind", "state_of",
    "text", "virtual_media_links",
]
