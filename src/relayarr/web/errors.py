"""Every error answer of the HTTP service, made here and nowhere else.

Each one is JSON with a stable machine-readable ``code``::

    {"error": {"code": "invalid_payload", "message": "movie: ...", "fields": [
        {"loc": "movie.folderPath", "msg": "Field required"}]}}

=========================  ======  =========================================================
raised                     status  code
=========================  ======  =========================================================
MalformedBody              400     malformed_json
Unauthorized               401     unauthorized
(route not found)          404     not_found
JobNotFound                404     job_not_found
(wrong method)             405     method_not_allowed
InvalidTransition          409     invalid_transition
(body over the limit)      413     body_too_large
PayloadInvalid             422     invalid_payload (``fields`` names each bad field)
RequestValidationError     422     invalid_request (``fields``: query/path/body items)
InvalidJob                 422     invalid_job
StorageError               503     storage_unavailable (with Retry-After; logged loudly)
LibraryNotConfigured       409     library_not_configured
ItemNotFound               404     item_not_found
FolderMissing              404     path_not_found
NoPathMapping              422     no_path_mapping
OutsideLibrary             422     outside_library
InvalidCursor              422     invalid_cursor
RootUnavailable            503     root_unavailable
LibraryStoreError          503     library_unavailable (with Retry-After; logged loudly)
EditInvalid                422     invalid_edit (``fields`` names each unknown field or value)
anything else              500     internal_error (a bug: logged with its traceback)
=========================  ======  =========================================================

Routes never catch; they raise, and :func:`install` maps (the webhook intake, which runs
ahead of the app's middleware, asks :func:`answer` for the same mapping). Answers to
webhook requests are also counted in the ``relayarr_webhook_requests_total`` metric by
outcome, here too. A message never echoes request input beyond field locations.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from relayarr.errors import (
    EditInvalid,
    FieldError,
    FolderMissing,
    InvalidCursor,
    ItemNotFound,
    LibraryError,
    LibraryNotConfigured,
    NoPathMapping,
    OutsideLibrary,
    PayloadInvalid,
    RootUnavailable,
    Unauthorized,
    WebError,
)
from relayarr.jobqueue import (
    InvalidJob,
    InvalidTransition,
    JobNotFound,
    StorageError,
)
from relayarr.web.context import connection_context
from relayarr.web.dashboard.errorpage import error_page, wants_page

logger = logging.getLogger(__name__)

SERVICE = "web"
WEBHOOK_PREFIX = "/api/v1/webhooks/"
WEBHOOK_SOURCES = frozenset({"radarr", "sonarr"})
RETRY_AFTER_SECONDS = "5"
_KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, message: str, fields: Sequence[FieldError] = ()) -> dict[str, object]:
    """The JSON document of an error answer."""
    return {
        "error": {
            "code": code,
            "message": message,
            "fields": [{"loc": field.loc, "msg": field.msg} for field in fields],
        }
    }


def webhook_source(path: str) -> str | None:
    """``radarr`` or ``sonarr`` when ``path`` is a webhook route, else None."""
    if not path.startswith(WEBHOOK_PREFIX):
        return None
    source = path[len(WEBHOOK_PREFIX) :].split("/", 1)[0]
    return source if source in WEBHOOK_SOURCES else None


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    fields: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """Build an error answer, and count it when it answers a webhook. Dashboard paths
    get a page instead of JSON (and a 401 sends the browser to the login page)."""
    if wants_page(request):
        return error_page(request, status, message)
    source = webhook_source(request.url.path)
    if source is not None:
        connection_context(request).metrics.webhook(source, code)
        if status == 401:
            # The *arr apps send Basic credentials when their username/password are set;
            # the challenge also lets a .NET client that waits for one send them.
            headers = {**(headers or {}), "WWW-Authenticate": 'Basic realm="relayarr"'}
    log = getattr(request.state, "log", None)
    if isinstance(log, dict):
        log["error"] = code
    return JSONResponse(error_body(code, message, fields), status_code=status, headers=headers)


async def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    if isinstance(exc, Unauthorized):
        logger.warning(
            "request refused: no valid API key",
            extra={"service": SERVICE, "operation": "auth", "path": request.url.path},
        )
    return error_response(request, exc.status, exc.code, str(exc))


async def _payload_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PayloadInvalid)
    return error_response(request, 422, "invalid_payload", str(exc), exc.errors)


async def _edit_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EditInvalid)
    return error_response(request, 422, "invalid_edit", str(exc), exc.errors)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [
        FieldError(".".join(str(part) for part in error.get("loc", ())), str(error.get("msg")))
        for error in exc.errors()
    ]
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return error_response(request, 400, "malformed_json", "request body is not valid JSON")
    summary = f"{fields[0].loc}: {fields[0].msg}" if fields else "invalid request"
    return error_response(request, 422, "invalid_request", summary, fields)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http_error")
    if status == 404:
        message = "no such route"
    elif status == 405:
        message = f"method {request.method} is not allowed here"
    elif isinstance(exc.detail, str) and exc.detail:
        message = exc.detail
    else:
        message = HTTPStatus(status).phrase if status in _KNOWN_STATUSES else "error"
    headers = dict(exc.headers or {})
    if status == 413:
        headers["Connection"] = "close"  # the unread rest of the body is not worth reading
    return error_response(request, status, code, message, headers=headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, JobNotFound)
    return error_response(request, 404, "job_not_found", str(exc))


async def _transition(request: Request, exc: Exception) -> Response:
    return error_response(request, 409, "invalid_transition", str(exc))


async def _invalid_job(request: Request, exc: Exception) -> Response:
    return error_response(request, 422, "invalid_job", str(exc))


_LIBRARY_ANSWERS: dict[type[LibraryError], tuple[int, str]] = {
    LibraryNotConfigured: (409, "library_not_configured"),
    ItemNotFound: (404, "item_not_found"),
    FolderMissing: (404, "path_not_found"),
    NoPathMapping: (422, "no_path_mapping"),
    OutsideLibrary: (422, "outside_library"),
    InvalidCursor: (422, "invalid_cursor"),
    RootUnavailable: (503, "root_unavailable"),
}


async def _library(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LibraryError)
    for exc_class, (status, code) in _LIBRARY_ANSWERS.items():
        if isinstance(exc, exc_class):
            return error_response(request, status, code, str(exc))
    # LibraryStoreError and anything new: the library database failed.
    logger.error(
        "library database failed; request refused with 503: %s",
        exc,
        extra={"service": SERVICE, "operation": "library", "path": request.url.path},
    )
    return error_response(
        request,
        503,
        "library_unavailable",
        "library database unavailable, retry",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _storage(request: Request, exc: Exception) -> Response:
    # The *arr apps never resend a webhook: an event we cannot store is lost unless
    # someone reads this line. Say it loudly, with the database and the route.
    logger.error(
        "storage failed; request refused with 503: %s",
        exc,
        extra={"service": SERVICE, "operation": "storage", "path": request.url.path},
    )
    return error_response(
        request,
        503,
        "storage_unavailable",
        "storage unavailable, retry",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _internal(request: Request, exc: Exception) -> Response:
    logger.error(
        "unexpected error while answering a request",
        exc_info=exc,
        extra={"service": SERVICE, "operation": "request", "path": request.url.path},
    )
    return error_response(
        request, 500, "internal_error", "internal error; the server log has the details"
    )


Handler = Callable[[Request, Exception], Awaitable[Response]]

_HANDLERS: dict[type[Exception], Handler] = {
    PayloadInvalid: _payload_invalid,
    EditInvalid: _edit_invalid,
    WebError: _web_error,
    RequestValidationError: _validation,
    HTTPException: _http,
    JobNotFound: _not_found,
    InvalidTransition: _transition,
    InvalidJob: _invalid_job,
    StorageError: _storage,
    LibraryError: _library,
    Exception: _internal,
}


def install(app: FastAPI) -> None:
    """Register the mapping above on ``app``."""
    for exc_class, handler in _HANDLERS.items():
        app.add_exception_handler(exc_class, handler)


async def answer(request: Request, exc: Exception) -> Response:
    """The answer to ``exc`` by the same mapping, for code that runs outside the app's
    exception middleware (the webhook intake): the handler of its closest class."""
    for exc_class in type(exc).__mro__:
        handler = _HANDLERS.get(exc_class)
        if handler is not None:
            return await handler(request, exc)
    return await _internal(request, exc)  # pragma: no cover - Exception is in the map


__all__ = ["answer", "error_body", "error_response", "install", "webhook_source"]
