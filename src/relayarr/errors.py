"""Every error relayarr raises outside its job-queue library, in one tree.

::

    RelayarrError
    ├── ConfigError           the configuration is unusable (names the file/variable and key)
    ├── AppError              relayarr could not be put together (bad --import, clashing handler)
    ├── InputError            a command-line value that cannot be used
    │   ├── DurationError     a duration that is not <number><unit>...
    │   └── ChangeInvalid     a media change (a notify-players payload) that cannot be used
    ├── WaitFailed            ``scan --wait``: a job of the chain failed, or it did not end in time
    ├── LibraryError          the media library refuses a path, or cannot be read or stored
    │   ├── LibraryNotConfigured  no [[library.roots]] is configured
    │   ├── ItemNotFound      no movie or series with that id
    │   ├── NoPathMapping     no mapping rule fits a path (names the path and every rule tried)
    │   ├── OutsideLibrary    a path resolves outside every library root (names both)
    │   ├── RootUnavailable   a root's folder or anchor file is missing: retry later
    │   ├── FolderMissing     a folder to scan does not exist or is not a folder
    │   ├── InvalidCursor     a library page cursor the library did not make
    │   └── LibraryStoreError the library database failed, or is not migrated
    ├── MoveRefused           ``queue move`` will not copy a queue that workers are using
    ├── PayloadInvalid        a webhook body that does not fit the *arr schema (names the field)
    ├── MetadataError         enriching or publishing metadata failed (names provider or file)
    │   ├── ProviderError     a provider call failed (names the provider and the id asked for)
    │   │   ├── ProviderUnavailable  down, timing out, 5xx/429 past the retries, circuit open
    │   │   ├── ProviderAuthError    401: the API key is wrong
    │   │   ├── ProviderNotFound     404: the provider does not know this id
    │   │   └── ProviderBadResponse  the answer is not the JSON the provider documents
    │   ├── PublishError      one file could not be published (names the file)
    │   │   ├── UnsafePath           a name that would leave the item's folder
    │   │   ├── NfoMalformed         an existing NFO relayarr cannot read: left untouched
    │   │   └── ArtworkRejected      an image too large, not an image, or not downloadable
    │   └── EditInvalid       an edit of an item's fields or locks names unknown fields or
    │                         values of the wrong shape (names each)
    ├── PlayerError           a media player could not be told (names the player)
    │   ├── PlayerPathError   a path maps into none of the player's libraries (names the path)
    │   ├── PlayerUnreachable connection refused, reset or timed out
    │   ├── PlayerAuthFailed  the player refused the credentials (401/403)
    │   └── PlayerBadAnswer   a 5xx, an unexpected status, a body that is not what the API sends
    └── WebError              a request the HTTP service refuses (carries its status and code)
        ├── Unauthorized      401: no credentials, or the wrong API key
        ├── MalformedBody     400: the body is not JSON
        ├── LoginRequired     401: a dashboard page without a live session (-> login page)
        ├── CsrfRefused       403: a dashboard form without its session's CSRF token
        └── ArtworkRefused    404: an image the dashboard will not serve (not the item's,
                              outside the roots, missing, or not an image)

The job queue keeps its own tree (:mod:`relayarr.jobqueue.errors`, rooted in
``JobQueueError``) because it is a library that never imports the rest of relayarr. The CLI
and the web app each map both trees to their outputs in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RelayarrError(Exception):
    """Root of relayarr's own errors."""


class ConfigError(RelayarrError):
    """The configuration is unusable; the message names the file or variable and the key."""


class AppError(RelayarrError):
    """relayarr could not be put together (a bad ``--import``, a clashing handler)."""


class InputError(RelayarrError):
    """A command-line value that cannot be used (bad JSON payload, bad duration)."""


class MoveRefused(RelayarrError):
    """``relayarr queue move`` refuses: workers are active on the source queue."""


class DurationError(InputError, ValueError):
    """A duration string that is not ``<number><unit>...`` (units w, d, h, m, s)."""


class ChangeInvalid(InputError):
    """A media change (a ``notify-players`` payload) that cannot be used; names the field."""


class WaitFailed(RelayarrError):
    """``relayarr scan --wait`` followed a chain that ended with a failed or cancelled job
    (the message names it and its error), or that did not end within ``--timeout``."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in a payload: where (dotted path, e.g. ``movie.folderPath``) and what."""

    loc: str
    msg: str


class PayloadInvalid(RelayarrError):
    """A webhook payload that does not fit the schema; ``errors`` name each bad field."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        first = self.errors[0] if self.errors else FieldError("body", "invalid")
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{first.loc}: {first.msg}{more}")


class MetadataError(RelayarrError):
    """Enriching or publishing metadata failed; the message names the provider or file."""


class ProviderError(MetadataError):
    """A metadata provider call failed. ``provider`` is ``"tmdb"`` or ``"fanart.tv"``,
    ``subject`` what was asked for (``"movie 329865"``)."""

    def __init__(self, provider: str, subject: str, detail: str) -> None:
        self.provider = provider
        self.subject = subject
        self.detail = detail
        super().__init__(f"{provider}: {subject}: {detail}")


class ProviderUnavailable(ProviderError):
    """The provider is down, timing out, answering 5xx or 429 past the retries, or its
    circuit is open. ``retry_after`` (seconds) is when it is worth asking again, if known."""

    def __init__(
        self, provider: str, subject: str, detail: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(provider, subject, detail)
        self.retry_after = retry_after


class ProviderAuthError(ProviderError):
    """401: the provider refused the configured API key."""


class ProviderNotFound(ProviderError):
    """404: the provider does not know this id."""


class ProviderBadResponse(ProviderError):
    """The provider answered something that is not the JSON it documents."""


class PublishError(MetadataError):
    """One file could not be published; ``path`` names it. The other files still are."""

    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(f"{path}: {detail}")


class UnsafePath(PublishError):
    """A file name that would leave the item's folder (``..``, absolute, symlink out)."""


class NfoMalformed(PublishError):
    """An existing NFO is not XML relayarr can read; it is left as it is, never overwritten."""


class ArtworkRejected(PublishError):
    """An image that is too large, not a JPEG/PNG/WebP, or could not be downloaded."""


class EditInvalid(MetadataError):
    """An edit of an item's fields or locks that cannot be applied; ``errors`` name each
    unknown field or badly shaped value (``fields.titel: unknown field``)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.loc}: {e.msg}" for e in self.errors) or "invalid edit")


class PlayerError(RelayarrError):
    """A media player could not be told; the message starts with the player's name.

    ``retryable`` says whether trying again later can help (a player that is down may
    come back; a path outside every library of the player will not move by itself).
    """

    retryable = True

    def __init__(self, player: str, message: str) -> None:
        self.player = player
        super().__init__(f"{player}: {message}")


class PlayerPathError(PlayerError):
    """A path maps into none of the player's libraries (or sources, or sections)."""

    retryable = False

    def __init__(self, player: str, path: str, detail: str = "") -> None:
        self.path = path
        suffix = f" ({detail})" if detail else ""
        super().__init__(player, f"path {path!r} is outside every library of this player{suffix}")


class PlayerUnreachable(PlayerError):
    """The player did not answer: connection refused or reset, name not found, timed out."""


class PlayerAuthFailed(PlayerError):
    """The player refused the configured credentials (HTTP 401 or 403)."""


class PlayerBadAnswer(PlayerError):
    """The player answered, but not as its API does: a 5xx, an unexpected status, a body
    that is not JSON or lacks the fields the API always sends, a JSON-RPC error."""


class WebError(RelayarrError):
    """A request the HTTP service refuses. ``status`` and ``code`` become the JSON error
    answer (``{"error": {"code": ..., "message": ...}}``) in :mod:`relayarr.web.errors`."""

    status = 400
    code = "bad_request"


class Unauthorized(WebError):
    """No credentials were sent, or they do not match the API key."""

    status = 401
    code = "unauthorized"


class MalformedBody(WebError):
    """The request body is empty, not UTF-8 or not JSON (NaN and lone surrogates included)."""

    status = 400
    code = "malformed_json"


class LoginRequired(WebError):
    """A dashboard page was asked for without a live session: the answer sends the
    browser to the login page."""

    status = 401
    code = "login_required"


class CsrfRefused(WebError):
    """A dashboard form came without the CSRF token of its session (or without a
    session): it may have been sent by another site, so nothing is done."""

    status = 403
    code = "csrf_refused"


class ArtworkRefused(WebError):
    """An image the dashboard will not serve: not an asset of that item in the library
    database, outside every library root, missing on disk, or not a JPEG/PNG/GIF/WebP."""

    status = 404
    code = "artwork_refused"


class LibraryError(RelayarrError):
    """The media library refuses a path, or cannot read or store what it needs."""


class LibraryNotConfigured(LibraryError):
    """A library operation was asked for, but no ``[[library.roots]]`` is configured."""


class ItemNotFound(LibraryError):
    """No movie or series with that id in the library database."""


class NoPathMapping(LibraryError):
    """No mapping rule fits a path; the message names the path and every rule tried."""


class OutsideLibrary(LibraryError):
    """A path resolves (``..``, symlinks) outside every library root; names the path and roots."""


class RootUnavailable(LibraryError):
    """A library root's folder or one of its anchor files is missing, so its mount is
    presumably down: work for that root should wait and retry, not fail or remove anything."""

    def __init__(self, root: str, missing: str) -> None:
        self.root = root
        self.missing = missing
        super().__init__(f"library root {root} is unavailable: {missing} is missing")


class FolderMissing(LibraryError):
    """A folder given to the scanner does not exist or is not a folder."""


class InvalidCursor(LibraryError):
    """A paging cursor the library did not make (or made for another listing)."""


class LibraryStoreError(LibraryError):
    """The library database failed, or has not been migrated (``relayarr migrate``)."""
