"""Benchmarks (run on demand, printing figures). Importing this package installs the suite's
loopback guard in the benchmark and its Python subprocesses: a benchmark cannot leave loopback."""

from tests.helpers.loopback import guard_process_tree

guard_process_tree()
