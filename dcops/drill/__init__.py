"""Fault drills that score detection (docs/drills.md).

* ``scenario`` -- a scenario file (YAML) -> ``Scenario``, checked with file and line (pure);
* ``score`` -- what patrol opened and notified after the injection -> ``DrillScore`` (pure);
* ``sim`` -- run a scenario on the simulator: inject, patrol with heartbeats, watch a loopback
  webhook per escalation tier, score (I/O);
* ``live`` -- safe real actions on an explicit host list (BMC reset, graceful power-off of a
  spare), then watch the running patrol through the state store (I/O);
* ``store`` -- drill runs in the state store (migration m0023_heartbeat_drills).
"""
