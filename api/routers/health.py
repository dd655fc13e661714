from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The API can serve: the database answers."""
    try:
        with request.app.state.sessionmaker() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
