"""Baselines: the desired state of a class of servers, the pure diff against what a BMC reports,
and the executors that bring a server to the baseline and verify it.

Public API::

    from dcops.baseline.load import load_baselines         # raises InvalidInputError (file:line)
    from dcops.baseline.diff import diff_host               # pure: baseline x HostState -> Plan
    from dcops.baseline.accept import check_acceptance      # pure: profile x Observation -> verdicts

Format: docs/baselines.md.
"""
