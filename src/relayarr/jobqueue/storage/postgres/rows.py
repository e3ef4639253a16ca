"""The PostgreSQL engine's job rows have the shape both SQL engines share: see
:mod:`relayarr.jobqueue.storage.sql`, whose mapper this names for the engine's modules."""

from __future__ import annotations

from relayarr.jobqueue.storage.sql import row_to_job

__all__ = ["row_to_job"]
