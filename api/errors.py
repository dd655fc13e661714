"""Error responses: always JSON `{"detail": ...}`, never a bare 500 page, never the input."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from vigil.logs import get_logger
from vigil.storage.objectstore import ObjectStoreUnavailableError

log = get_logger(__name__)
OBJECT_STORE_RETRY_SECONDS = 5
_MAX_LOC_CHARS = 64


def public_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without `input`, `ctx` or `url`: the input may be a password, a URL
    with credentials or megabytes of JSON, and must not come back (nor reach a log)."""
    public = []
    for error in errors:
        msg = str(error.get("msg", "invalid"))
        reason = (error.get("ctx") or {}).get("error")
        if error.get("type") == "json_invalid" and isinstance(reason, str):
            msg = f"{msg}: {reason}"  # our own or the json module's message, no input in it
        loc = [part[:_MAX_LOC_CHARS] if isinstance(part, str) else part for part in error["loc"]]
        public.append({"loc": loc, "msg": msg, "type": str(error.get("type", "value_error"))})
    return public


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": public_errors(exc.errors())}, status_code=422)

    @app.exception_handler(OperationalError)
    async def database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database_unavailable", error=str(exc.orig))
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503)

    @app.exception_handler(ObjectStoreUnavailableError)
    async def object_store_unavailable(
        _request: Request, exc: ObjectStoreUnavailableError
    ) -> JSONResponse:
        log.error("object_store_unavailable", error=str(exc))
        return JSONResponse(
            {"detail": "media storage unavailable, retry later"},
            status_code=503,
            headers={"Retry-After": str(OBJECT_STORE_RETRY_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def unhandled(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        # The server drops the connection after an unhandled error; say so, so a client's
        # kept-alive connection is not reused and reset.
        return JSONResponse(
            {"detail": "internal error"}, status_code=500, headers={"Connection": "close"}
        )
