"""Alembic's entry point for the library database. It runs only inside
:func:`relayarr.library.db.migrate` (and :func:`~relayarr.library.db.migrate.new_revision`),
which hand it an open connection; there is no alembic.ini and no URL to read here."""

from __future__ import annotations

from alembic import context

from relayarr.library.db.migrate import VERSION_TABLE
from relayarr.library.db.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    # SQLite alters a table by copying it; batch mode does that for every change.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
