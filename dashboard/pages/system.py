"""System: is every service up, is every camera keeping up, and how full is the storage."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import session, ui
from dashboard.formatting import ago, md, now, size
from dashboard.models import CameraFigures, StorageFigures, SystemStatus

AREAS = {"recording_bytes": "Recordings", "object_bytes": "Clips & snapshots", "lake_bytes": "Lake"}


def _services(status: SystemStatus) -> None:
    st.subheader("Services")
    columns = st.columns(len(status.services))
    for column, service in zip(columns, status.services, strict=True):
        if service.healthy:
            column.markdown(f":green-badge[:material/check_circle: {md(service.name)}]")
        else:
            column.markdown(f":red-badge[:material/error: {md(service.name)}]")
            column.caption(md(service.detail or "unhealthy"))


def _throughput_chart(cameras: list[CameraFigures]) -> alt.Chart:
    rows = [
        {"camera": c.name, "what": what, "fps": value}
        for c in cameras
        for what, value in (("decoded", c.fps_in), ("analysed", c.fps_analysed))
        if value is not None
    ]
    return (
        alt.Chart(pd.DataFrame(rows), title="Frames per second")
        .mark_bar()
        .encode(
            x=alt.X("fps:Q", title="fps"),
            y=alt.Y("camera:N", title=None),
            yOffset="what:N",
            color=alt.Color("what:N", title=None),
            tooltip=["camera:N", "what:N", alt.Tooltip("fps:Q", format=".1f")],
        )
    )


def _figure(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _cameras(cameras: list[CameraFigures]) -> None:
    st.subheader("Cameras")
    table = pd.DataFrame(
        [
            {
                "Camera": c.name,
                "Status": c.status,
                "fps in": _figure(c.fps_in),
                "fps analysed": _figure(c.fps_analysed),
                "Inference (ms)": _figure(c.inference_ms, 0),
                "Queue": _figure(c.queue_depth, 0),
                "Dropped frames": _figure(c.frames_dropped, 0),
                "Stored": size(sum(getattr(c, a) or 0 for a in AREAS)),
            }
            for c in cameras
        ]
    ).set_index("Camera")
    st.table(table)  # a few rows of text: a plain table reads (and is found) more easily
    if any(c.fps_in is not None for c in cameras):
        st.altair_chart(_throughput_chart(cameras), width="stretch")
    else:
        st.caption("No frame figures yet: the dataflow reports them once it analyses a camera.")


def _storage(cameras: list[CameraFigures], storage: StorageFigures) -> None:
    st.subheader("Storage")
    cols = st.columns(3)
    cols[0].metric("Used by your cameras", size(storage.total_bytes))
    cols[1].metric("Cap", size(storage.cap_bytes) if storage.cap_bytes else "none")
    cols[2].metric("Lake kept", f"{storage.lake_retention_days} days")
    if storage.cap_bytes:
        share = min(1.0, storage.total_bytes / storage.cap_bytes)
        st.progress(share, text=f"{share:.0%} of the storage cap")
    rows = [
        {"camera": c.name, "area": label, "bytes": getattr(c, area)}
        for c in cameras
        for area, label in AREAS.items()
        if getattr(c, area)
    ]
    if rows:
        chart = (
            alt.Chart(pd.DataFrame(rows), title="Storage per camera")
            .mark_bar()
            .encode(
                x=alt.X("sum(bytes):Q", title="bytes", axis=alt.Axis(format="~s")),
                y=alt.Y("camera:N", title=None),
                color=alt.Color("area:N", title=None),
                tooltip=["camera:N", "area:N", alt.Tooltip("sum(bytes):Q", format="~s")],
            )
        )
        st.altair_chart(chart, width="stretch")
    if storage.measured_at is not None:
        st.caption(f"Storage measured {ago(storage.measured_at, now())}.")
    else:
        st.caption("Storage not measured yet: the ingest service measures it once running.")


def render() -> None:
    st.title("System")
    if st.button("Refresh", icon=":material/refresh:"):
        st.rerun()
    status = session.load("Checking the services", session.client().system)
    _services(status)
    if not status.cameras:
        ui.no_cameras("No cameras yet — add one, and its figures will show up here.")
    else:
        _cameras(status.cameras)
        _storage(status.cameras, status.storage)
