"""The book as a NetBox device CSV, in the columns of NetBox's device bulk import (Devices >
Import; ``DeviceImportForm`` in netbox-community/netbox ``dcim/forms/bulk_import.py``). Pure.

NetBox has no importable field for a BMC address, an availability zone or a dcops profile: they
travel as custom fields (``cf_bmc_address``, ``cf_bmc_protocol``, ``cf_az``, ``cf_dcops_profile``),
which must exist in NetBox (text fields on dcim.device) before the import. Reading such a CSV back
is ``dcops inventory import devices.csv --mapping netbox`` (dcops/inventory/mappings/netbox-devices.yaml).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from dcops.models import Host

MAPPING = "netbox-devices.yaml"
# NetBox requires role, manufacturer, device_type, status and site on every row.
COLUMNS = ("name", "role", "manufacturer", "device_type", "status", "site", "location", "rack", "position", "face",
           "serial", "asset_tag", "tags", "cf_bmc_address", "cf_bmc_protocol", "cf_az", "cf_dcops_profile")
UNKNOWN_ROLE = "server"
UNKNOWN = "Unknown"


def device_row(host: Host) -> dict[str, str]:
    """One NetBox device row. Empty strings where dcops knows nothing (NetBox leaves them unset)."""
    loc = host.location
    return {
        "name": host.name, "role": host.role or UNKNOWN_ROLE, "manufacturer": host.vendor or UNKNOWN,
        "device_type": host.model or UNKNOWN, "status": "active", "site": loc.site or "",
        "location": loc.room or "", "rack": loc.rack or "", "position": "" if loc.u is None else str(loc.u),
        # A mounted device needs a face in NetBox; servers face front.
        "face": "front" if loc.rack and loc.u is not None else "",
        "serial": host.asset.serial or "", "asset_tag": host.asset.asset_tag or "", "tags": ",".join(host.tags),
        "cf_bmc_address": host.bmc.address, "cf_bmc_protocol": str(host.bmc.protocol), "cf_az": host.az or "",
        "cf_dcops_profile": host.profile or ""}


def netbox_csv(hosts: Sequence[Host]) -> str:
    """RFC 4180 CSV with NetBox's import header."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for host in hosts:
        writer.writerow(device_row(host))
    return out.getvalue()
