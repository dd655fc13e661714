"""Error responses: always JSON `{"detail": ...}`, never a bare 500 page."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from vigil.logs import get_logger

log = get_logger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    async def database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database_unavailable", error=str(exc.orig))
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503)

    @app.exception_handler(Exception)
    async def unhandled(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return JSONResponse({"detail": "internal error"}, status_code=500)
