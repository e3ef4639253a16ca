"""Kodi NFO files: the element schema of each field, and safe reading and writing."""

from relayarr.metadata.nfo.document import (
    NfoDocument,
    kind_values,
    parse_nfo,
    read_values,
    render_nfo,
)

__all__ = ["NfoDocument", "kind_values", "parse_nfo", "read_values", "render_nfo"]
