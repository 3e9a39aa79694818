"""Batch power for market open/close: a policy (``policy``), a pure wave planner (``plan``) and an
executor that applies the waves through the BMC layer and verifies (``execute``). See docs/power.md."""
