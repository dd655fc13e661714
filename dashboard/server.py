"""The dashboard's web server: the Streamlit app (`app.py`) plus two routes of its own, the
same-origin media passthrough to the API and the bundled hls.js (nothing comes from a CDN).

`vigil dashboard` runs `streamlit run dashboard/server.py`; Streamlit finds `app` below and
serves it with its own flags (address, port, headless, no telemetry).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from dashboard.media import STATIC
from dashboard.passthrough import MediaPassthrough
from vigil.settings import get_settings

HERE = Path(__file__).resolve().parent

passthrough = MediaPassthrough(get_settings().resolved_api_url)


@asynccontextmanager
async def _lifespan(_app: st.App) -> AsyncIterator[None]:
    yield
    await passthrough.aclose()


app = st.App(
    HERE / "app.py",
    routes=[
        *passthrough.routes(),
        Mount(STATIC, app=StaticFiles(directory=HERE / "static"), name="vigil-static"),
    ],
    lifespan=_lifespan,
)
