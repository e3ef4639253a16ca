"""Downloading artwork: streamed, size-capped, and only JPEG, PNG or WebP.

The body is read in chunks and the download aborted as soon as it passes the limit (a
``Content-Length`` above it is refused before reading). The bytes themselves decide the
format (magic numbers); a ``Content-Type`` that names something else than an image is
refused at once, so an HTML error page served with 200 never lands as ``poster.jpg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from relayarr.errors import ArtworkRejected

ImageFormat = Literal["jpeg", "png", "webp"]
EXTENSIONS: dict[ImageFormat, str] = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
_TYPES = {"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp"}
# Some CDNs label every file generically; the magic bytes still decide.
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}


@dataclass(frozen=True, slots=True)
class Image:
    data: bytes
    format: ImageFormat

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def sniff(data: bytes) -> ImageFormat | None:
    """The image format of ``data`` by its first bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


async def download_image(
    client: httpx.AsyncClient, url: str, *, name: str, max_bytes: int, seconds: float = 30.0
) -> Image:
    """Fetch the image at ``url`` for the file ``name``; :class:`ArtworkRejected` if unfit."""
    if not url.startswith(("http://", "https://")):
        raise ArtworkRejected(name, f"not an http(s) URL: {url[:200]}")
    try:
        async with client.stream("GET", url, timeout=seconds, follow_redirects=True) as response:
            if response.status_code != 200:
                raise ArtworkRejected(name, f"download failed: HTTP {response.status_code} ({url})")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in _TYPES and content_type not in _GENERIC_TYPES:
                raise ArtworkRejected(name, f"not an image: served as {content_type} ({url})")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ArtworkRejected(
                    name, f"too large: {int(declared)} bytes, limit {max_bytes} ({url})"
                )
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ArtworkRejected(
                        name, f"too large: over {max_bytes} bytes, download aborted ({url})"
                    )
    except httpx.HTTPError as exc:
        raise ArtworkRejected(name, f"download failed: {type(exc).__name__} ({url})") from None
    data = bytes(body)
    found = sniff(data)
    if found is None:
        raise ArtworkRejected(name, f"not a JPEG, PNG or WebP image ({url})")
    return Image(data, found)


__all__ = ["EXTENSIONS", "Image", "ImageFormat", "download_image", "sniff"]
