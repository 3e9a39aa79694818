"""The BMC layer: one interface per concern (``base``), Redfish and IPMI implementations, and the
choice of protocol per host (``select``). See docs/bmc.md."""
