"""The state store: SQLAlchemy Core over SQLite (default) or PostgreSQL.

``open_store(url)`` opens and migrates; ``Store`` hands out connections. Capabilities keep their
tables in ``schema.py`` and add migrations in ``migrations.py``.
"""

from dcops.store.db import Store, open_store, redacted_url

__all__ = ["Store", "open_store", "redacted_url"]
