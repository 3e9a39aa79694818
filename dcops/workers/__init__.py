"""Patrol workers that share a PostgreSQL store: membership by lease, ownership of racks by
rendezvous hashing over the live workers, epoch-aligned rounds (docs/patrol.md, "Several workers").

``ring`` is pure (who owns what, which leases count); ``lease`` is the table and its queries;
``runtime`` ties them to a patrol engine for ``dcops serve --worker``. Nothing here imports a
capability other than patrol's engine, which ``runtime`` drives.
"""
