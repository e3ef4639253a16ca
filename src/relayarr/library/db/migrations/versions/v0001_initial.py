"""The library's first tables: movies, series, seasons, episodes, media files, assets,
scan runs and job links.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "library_job_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("job_type", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_job_links")),
        sa.UniqueConstraint(
            "item_kind",
            "item_id",
            "job_id",
            name=op.f("uq_library_job_links_item_kind_item_id_job_id"),
        ),
    )
    with op.batch_alter_table("library_job_links", schema=None) as batch_op:
        batch_op.create_index("ix_library_job_links_job", ["job_id"], unique=False)

    op.create_table(
        "library_movies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("original_title", sa.Text(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("tmdb_id", sa.BigInteger(), nullable=True),
        sa.Column("imdb_id", sa.String(length=32), nullable=True),
        sa.Column("sort_key", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_movies")),
        sa.UniqueConstraint("folder", name=op.f("uq_library_movies_folder")),
    )
    with op.batch_alter_table("library_movies", schema=None) as batch_op:
        batch_op.create_index("ix_library_movies_root_folder", ["root", "folder"], unique=False)
        batch_op.create_index("ix_library_movies_sort", ["sort_key", "id"], unique=False)

    op.create_table(
        "library_scan_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("root", sa.Text(), nullable=True),
        sa.Column("folder", sa.Text(), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_scan_runs")),
    )
    with op.batch_alter_table("library_scan_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_scan_runs_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "library_series",
        sa.Column("tvdb_id", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("original_title", sa.Text(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("tmdb_id", sa.BigInteger(), nullable=True),
        sa.Column("imdb_id", sa.String(length=32), nullable=True),
        sa.Column("sort_key", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_series")),
        sa.UniqueConstraint("folder", name=op.f("uq_library_series_folder")),
    )
    with op.batch_alter_table("library_series", schema=None) as batch_op:
        batch_op.create_index("ix_library_series_root_folder", ["root", "folder"], unique=False)
        batch_op.create_index("ix_library_series_sort", ["sort_key", "id"], unique=False)

    op.create_table(
        "library_assets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("movie_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("season_number", sa.Integer(), nullable=True),
        sa.Column("video_path", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "(movie_id IS NULL) <> (series_id IS NULL)", name=op.f("ck_library_assets_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["library_movies.id"],
            name=op.f("fk_library_assets_movie_id_library_movies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["library_series.id"],
            name=op.f("fk_library_assets_series_id_library_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_assets")),
        sa.UniqueConstraint("path", name=op.f("uq_library_assets_path")),
    )
    with op.batch_alter_table("library_assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_assets_movie_id"), ["movie_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_library_assets_series_id"), ["series_id"], unique=False
        )

    op.create_table(
        "library_media_files",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("movie_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "(movie_id IS NULL) <> (series_id IS NULL)",
            name=op.f("ck_library_media_files_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["library_movies.id"],
            name=op.f("fk_library_media_files_movie_id_library_movies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["library_series.id"],
            name=op.f("fk_library_media_files_series_id_library_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_media_files")),
        sa.UniqueConstraint("path", name=op.f("uq_library_media_files_path")),
    )
    with op.batch_alter_table("library_media_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_library_media_files_movie_id"), ["movie_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_library_media_files_series_id"), ["series_id"], unique=False
        )

    op.create_table(
        "library_seasons",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["library_series.id"],
            name=op.f("fk_library_seasons_series_id_library_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_seasons")),
        sa.UniqueConstraint(
            "series_id", "number", name=op.f("uq_library_seasons_series_id_number")
        ),
    )
    op.create_table(
        "library_episodes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("season_number", sa.Integer(), nullable=False),
        sa.Column("episode_number", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["library_media_files.id"],
            name=op.f("fk_library_episodes_file_id_library_media_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["library_series.id"],
            name=op.f("fk_library_episodes_series_id_library_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_episodes")),
        sa.UniqueConstraint(
            "series_id",
            "season_number",
            "episode_number",
            name=op.f("uq_library_episodes_series_id_season_number_episode_number"),
        ),
    )
    with op.batch_alter_table("library_episodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_episodes_file_id"), ["file_id"], unique=False)


def downgrade() -> None:
    """Drop every table."""
    with op.batch_alter_table("library_episodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_episodes_file_id"))

    op.drop_table("library_episodes")
    op.drop_table("library_seasons")
    with op.batch_alter_table("library_media_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_media_files_series_id"))
        batch_op.drop_index(batch_op.f("ix_library_media_files_movie_id"))

    op.drop_table("library_media_files")
    with op.batch_alter_table("library_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_assets_series_id"))
        batch_op.drop_index(batch_op.f("ix_library_assets_movie_id"))

    op.drop_table("library_assets")
    with op.batch_alter_table("library_series", schema=None) as batch_op:
        batch_op.drop_index("ix_library_series_sort")
        batch_op.drop_index("ix_library_series_root_folder")

    op.drop_table("library_series")
    with op.batch_alter_table("library_scan_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_scan_runs_started_at"))

    op.drop_table("library_scan_runs")
    with op.batch_alter_table("library_movies", schema=None) as batch_op:
        batch_op.drop_index("ix_library_movies_sort")
        batch_op.drop_index("ix_library_movies_root_folder")

    op.drop_table("library_movies")
    with op.batch_alter_table("library_job_links", schema=None) as batch_op:
        batch_op.drop_index("ix_library_job_links_job")

    op.drop_table("library_job_links")
