"""Loaded by every Python subprocess a test starts (tests/conftest.py puts this folder first on
PYTHONPATH): the same loopback guard as the test process, so a ``dcops`` command, an
ansible-playbook or a helper script run by a test cannot leave loopback either."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "loopback.py")
_spec = importlib.util.spec_from_file_location("_dcops_loopback_guard", _path)
if _spec is not None and _spec.loader is not None:
    _guard = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_guard)
    _guard.install()
