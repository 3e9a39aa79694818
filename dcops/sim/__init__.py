"""The fleet simulator: stateful, quirky Redfish BMCs (one to 10,000 in one process) for tests,
benchmarks, demos and fault drills. See docs/sim.md.

Modules: ``profiles`` (vendor flavours, hardware templates), ``bios`` (attribute registries),
``identity`` (seed-derived serials/MACs/UUIDs), ``records``/``state``/``storage``/``firmware`` (the
per-BMC state machines), ``resources``/``res_chassis``/``res_services`` (state -> Redfish JSON per
flavour), ``writes`` (PATCH/POST/DELETE handlers), ``server`` (HTTP: auth, sessions, ETags, query
options, latency, one shared aiohttp server), ``faults``, ``control`` (control API), ``fleet``
(layout, sockets, inventory), ``runner`` (state dir, TLS, background process), ``replay`` (serve a
captured mockup), ``testing`` (a fleet in a thread for tests).
"""
