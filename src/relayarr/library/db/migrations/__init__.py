"""Alembic migrations of the library database, run by :func:`relayarr.library.db.migrate`."""
