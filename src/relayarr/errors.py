"""Every error relayarr raises outside its job-queue library, in one tree.

::

    RelayarrError
    ├── ConfigError           the configuration is unusable (names the file/variable and key)
    ├── AppError              relayarr could not be put together (bad --import, clashing handler)
    ├── InputError            a command-line value that cannot be used
    │   ├── DurationError     a duration that is not <number><unit>...
    │   └── ChangeInvalid     a media change (a notify-players payload) that cannot be used
    ├── MoveRefused           ``queue move`` will not copy a queue that workers are using
    ├── PayloadInvalid        a webhook body that does not fit the *arr schema (names the field)
    ├── PlayerError           a media player could not be told (names the player)
    │   ├── PlayerPathError   a path maps into none of the player's libraries (names the path)
    │   ├── PlayerUnreachable connection refused, reset or timed out
    │   ├── PlayerAuthFailed  the player refused the credentials (401/403)
    │   └── PlayerBadAnswer   a 5xx, an unexpected status, a body that is not what the API sends
    └── WebError              a request the HTTP service refuses (carries its status and code)
        ├── Unauthorized      401: no credentials, or the wrong API key
        └── MalformedBody     400: the body is not JSON

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
