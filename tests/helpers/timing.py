"""Deadlines for code under test on a machine that may be busy (CI shares its 2 cores).

A test that is not *about* a deadline gives the code a patient one (``PATIENT``), so a loaded
machine makes it slower, never red. A test that is about a deadline keeps it short and asserts what
the deadline did (gave up, marked unreachable, did not wait again), never that something else
finished within a wall-clock bound. ``DCOPS_TEST_PATIENCE`` (seconds) raises the ceiling on a
machine slower still.
"""

from __future__ import annotations

import os

PATIENT = float(os.environ.get("DCOPS_TEST_PATIENCE", "120"))
"""A deadline generous enough for any one BMC visit or peer start on a loaded 2-core machine."""

ROUND = PATIENT * 2.5
"""A patrol round deadline that fits a few patient visits."""

BACKSTOP = float(os.environ.get("DCOPS_TEST_BACKSTOP", "4"))
"""How much longer than its ``timeout`` mark a test may run before pytest-timeout kills it."""
