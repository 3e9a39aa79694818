"""Rack PDUs: reading them (``redfish``) for patrol's power evidence (docs/patrol.md, "Racks")."""
