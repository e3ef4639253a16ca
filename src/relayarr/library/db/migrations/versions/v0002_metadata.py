"""Metadata: the provider response cache, each item's locks, written fingerprints,
provided and published values, and the files relayarr published (protected copies).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the metadata tables."""
    op.create_table(
        "library_provider_cache",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_library_provider_cache")),
    )
    with op.batch_alter_table("library_provider_cache", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_provider_cache_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "library_item_metadata",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("locked", sa.JSON(), nullable=False),
        sa.Column("locked_values", sa.JSON(), nullable=False),
        sa.Column("written", sa.JSON(), nullable=True),
        sa.Column("provided", sa.JSON(), nullable=True),
        sa.Column("provided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published", sa.JSON(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("movie_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "(movie_id IS NULL) <> (series_id IS NULL)",
            name=op.f("ck_library_item_metadata_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["library_movies.id"],
            name=op.f("fk_library_item_metadata_movie_id_library_movies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["library_series.id"],
            name=op.f("fk_library_item_metadata_series_id_library_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_item_metadata")),
        sa.UniqueConstraint("item", name=op.f("uq_library_item_metadata_item")),
    )
    with op.batch_alter_table("library_item_metadata", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_item_metadata_movie_id"), ["movie_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_library_item_metadata_series_id"), ["series_id"], unique=False
        )

    op.create_table(
        "library_published_files",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("written_at", sa.Float(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("movie_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "(movie_id IS NULL) <> (series_id IS NULL)",
            name=op.f("ck_library_published_files_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["library_movies.id"],
            name=op.f("fk_library_published_files_movie_id_library_movies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["library_series.id"],
            name=op.f("fk_library_published_files_series_id_library_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_published_files")),
        sa.UniqueConstraint("item", "name", name=op.f("uq_library_published_files_item_name")),
    )
    with op.batch_alter_table("library_published_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_published_files_movie_id"), ["movie_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_library_published_files_series_id"), ["series_id"], unique=False
        )


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("library_published_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_published_files_series_id"))
        batch_op.drop_index(batch_op.f("ix_library_published_files_movie_id"))

    op.drop_table("library_published_files")
    with op.batch_alter_table("library_item_metadata", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_item_metadata_series_id"))
        batch_op.drop_index(batch_op.f("ix_library_item_metadata_movie_id"))

    op.drop_table("library_item_metadata")
    with op.batch_alter_table("library_provider_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_provider_cache_expires_at"))

    op.drop_table("library_provider_cache")
