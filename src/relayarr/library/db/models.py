"""The library database's tables (SQLAlchemy 2 declarative models).

Every table is prefixed ``library_`` so the library may share a PostgreSQL database with
the queue. Constraint names follow one convention (:data:`NAMING`), so migrations can
name what they alter on every engine. The metadata issue adds its tables (provider cache,
field locks, published files) as models here plus a new numbered migration; they refer to
items by ``(movie_id | series_id)`` as files and assets do.

Paths are stored absolute, as relayarr sees them; ``root`` is the root's configured path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite makes only an INTEGER PRIMARY KEY an auto-incrementing rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")
Stamp = DateTime(timezone=True)
Json = JSON()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class _Item:
    """What movies and series share: where the folder is, what it is called, when it was
    scanned, and the folder signature reconciliation compares."""

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    root: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(Text)
    original_title: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    tmdb_id: Mapped[int | None] = mapped_column(BigInteger)
    imdb_id: Mapped[str | None] = mapped_column(String(32))
    # Casefolded in Python: SQLite's lower() folds ASCII only.
    sort_key: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(64))
    issues: Mapped[list[Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(Stamp)
    scanned_at: Mapped[datetime] = mapped_column(Stamp)


class Movie(_Item, Base):
    __tablename__ = "library_movies"
    __table_args__ = (
        Index("ix_library_movies_sort", "sort_key", "id"),
        Index("ix_library_movies_root_folder", "root", "folder"),
        # The recent listing (dashboard) pages newest scan first.
        Index("ix_library_movies_scanned", "scanned_at", "id"),
    )

    files: Mapped[list[MediaFile]] = relationship(
        back_populates="movie", cascade="all, delete-orphan", passive_deletes=True
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="movie", cascade="all, delete-orphan", passive_deletes=True
    )


class Series(_Item, Base):
    __tablename__ = "library_series"
    __table_args__ = (
        Index("ix_library_series_sort", "sort_key", "id"),
        Index("ix_library_series_root_folder", "root", "folder"),
        # The recent listing (dashboard) pages newest scan first.
        Index("ix_library_series_scanned", "scanned_at", "id"),
    )

    tvdb_id: Mapped[int | None] = mapped_column(BigInteger)

    files: Mapped[list[MediaFile]] = relationship(
        back_populates="series", cascade="all, delete-orphan", passive_deletes=True
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="series", cascade="all, delete-orphan", passive_deletes=True
    )
    seasons: Mapped[list[Season]] = relationship(
        back_populates="series", cascade="all, delete-orphan", passive_deletes=True
    )
    episodes: Mapped[list[Episode]] = relationship(
        back_populates="series", cascade="all, delete-orphan", passive_deletes=True
    )


_ONE_OWNER = "(movie_id IS NULL) <> (series_id IS NULL)"


class MediaFile(Base):
    """A file of an item that is not artwork or an NFO: videos, subtitles, extras, the rest.
    ``role`` says which; ``details`` holds what the scan read (language, flags, kind)."""

    __tablename__ = "library_media_files"
    __table_args__ = (CheckConstraint(_ONE_OWNER, name="one_owner"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    movie_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_movies.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_series.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any] | None] = mapped_column(Json)

    movie: Mapped[Movie | None] = relationship(back_populates="files")
    series: Mapped[Series | None] = relationship(back_populates="files")


class Asset(Base):
    """Artwork and NFO files. ``scope`` says whom they belong to (the item, a season, or
    one video: ``video_path``); an NFO's ``details`` hold what it said, or its error."""

    __tablename__ = "library_assets"
    __table_args__ = (CheckConstraint(_ONE_OWNER, name="one_owner"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    movie_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_movies.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_series.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16))
    season_number: Mapped[int | None] = mapped_column(Integer)
    video_path: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any] | None] = mapped_column(Json)

    movie: Mapped[Movie | None] = relationship(back_populates="assets")
    series: Mapped[Series | None] = relationship(back_populates="assets")


class Season(Base):
    __tablename__ = "library_seasons"
    __table_args__ = (UniqueConstraint("series_id", "number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("library_series.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    folder: Mapped[str | None] = mapped_column(Text)

    series: Mapped[Series] = relationship(back_populates="seasons")


class Episode(Base):
    """One episode number of a series and the file holding it (a multi-episode file holds
    several)."""

    __tablename__ = "library_episodes"
    __table_args__ = (UniqueConstraint("series_id", "season_number", "episode_number"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("library_series.id", ondelete="CASCADE"))
    season_number: Mapped[int] = mapped_column(Integer)
    episode_number: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("library_media_files.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str | None] = mapped_column(Text)

    series: Mapped[Series] = relationship(back_populates="episodes")
    file: Mapped[MediaFile] = relationship()


class ScanRun(Base):
    """One scan: of a movie or series folder, or a reconciliation pass over a root."""

    __tablename__ = "library_scan_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    root: Mapped[str | None] = mapped_column(Text)
    folder: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(Stamp, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(Stamp)
    summary: Mapped[dict[str, Any] | None] = mapped_column(Json)
    error: Mapped[str | None] = mapped_column(Text)


class JobLink(Base):
    """A job that touched an item (``item_kind`` ``movie`` or ``series``). No foreign key:
    jobs live in the queue's database, which may be another one."""

    __tablename__ = "library_job_links"
    __table_args__ = (
        UniqueConstraint("item_kind", "item_id", "job_id"),
        Index("ix_library_job_links_job", "job_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(BigInteger)
    job_id: Mapped[int] = mapped_column(BigInteger)
    job_type: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(Stamp)


class ProviderCache(Base):
    """A provider's answer by request (provider, path, parameters; never the API key),
    reused until ``expires_at`` (seconds since the epoch)."""

    __tablename__ = "library_provider_cache"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class _MetadataOwned:
    """Rows of one metadata item: ``item`` is its reference (``movie:412``, ``series:87``,
    ``episode:87:2:3``), and the movie or series it belongs to takes them along when it is
    deleted."""

    item: Mapped[str] = mapped_column(String(64))
    movie_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_movies.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_series.id", ondelete="CASCADE"), index=True
    )


class ItemMetadata(_MetadataOwned, Base):
    """What relayarr keeps of one item's metadata: the locked fields and the user's values
    for them, the fingerprints of the NFO it last wrote, the providers' metadata from the
    last enrichment, and the values it last published."""

    __tablename__ = "library_item_metadata"
    __table_args__ = (
        CheckConstraint(_ONE_OWNER, name="one_owner"),
        UniqueConstraint("item"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    locked: Mapped[list[Any]] = mapped_column(Json)
    locked_values: Mapped[dict[str, Any]] = mapped_column(Json)
    written: Mapped[dict[str, Any] | None] = mapped_column(Json)
    provided: Mapped[dict[str, Any] | None] = mapped_column(Json)
    provided_at: Mapped[datetime | None] = mapped_column(Stamp)
    published: Mapped[dict[str, Any] | None] = mapped_column(Json)
    published_at: Mapped[datetime | None] = mapped_column(Stamp)


class PublishedFile(_MetadataOwned, Base):
    """A file relayarr published (an NFO or an image), by item and name relative to the
    item's folder, with the SHA-256 of its protected copy under ``data_dir/assets``."""

    __tablename__ = "library_published_files"
    __table_args__ = (
        CheckConstraint(_ONE_OWNER, name="one_owner"),
        UniqueConstraint("item", "name"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    folder: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    written_at: Mapped[float] = mapped_column(Float)


__all__ = [
    "NAMING",
    "Asset",
    "Base",
    "Episode",
    "ItemMetadata",
    "JobLink",
    "MediaFile",
    "Movie",
    "ProviderCache",
    "PublishedFile",
    "ScanRun",
    "Season",
    "Series",
]
