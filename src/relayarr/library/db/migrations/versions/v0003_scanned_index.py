"""Index movies and series by scan time, for the recent listing.

The dashboard's library page lists the newest scans first, paged by a (scanned_at, id)
cursor; without an index every page sorted the whole table.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("library_movies", "library_series")


def upgrade() -> None:
    """Add a (scanned_at, id) index to each item table."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_scanned", ["scanned_at", "id"], unique=False)


def downgrade() -> None:
    """Drop the indexes."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_scanned")
