"""Vigil's REST API (FastAPI): routers per resource under /api/v1."""
