"""A ``postgresql://`` state URL without the driver installed says which extra to install."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import builtins, sys
real = builtins.__import__
def without_psycopg(name, *args, **kwargs):
    if name.split(".")[0] in ("psycopg", "psycopg2"):
        raise ImportError("No module named " + name)
    return real(name, *args, **kwargs)
builtins.__import__ = without_psycopg
from dcops.store import open_store
try:
    open_store("postgresql://dcops:s3cret-pw@127.0.0.1:1/dcops")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_missing_postgres_driver_names_the_extra() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120).stdout
    assert out.startswith("StateStoreError") and "pip install 'dcops[postgres]'" in out
    assert "s3cret-pw" not in out  # the URL's password stays scrubbed
