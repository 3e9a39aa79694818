"""Redfish: ``resources`` (JSON <-> models, key names), ``connector`` (sync sessions over the
``redfish`` library), ``aio`` (async read path for patrol), ``drivers`` (bmc.base implementations),
``oem`` (vendor quirks)."""
