"""Cameras: status at a glance, add, edit, enable/disable, delete, status history."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from dashboard import forms, session
from dashboard.client import ApiError
from dashboard.formatting import ago, browser_tz, local_time, md, now, status_badge
from dashboard.models import Camera

REFRESH_SECONDS = 15
ADDED = "cameras_added"  # how many were added in this session: a fresh, empty form each time


def _add_form(first: bool) -> None:
    form = f"add_camera_{st.session_state.get(ADDED, 0)}"
    expanded = first or bool(forms.errors_of(form))
    with st.expander("Add a camera", expanded=expanded, icon=":material/add:"), st.form(form):
        values = forms.camera_fields(form, None)
        submitted = st.form_submit_button("Add camera", type="primary")
    if not submitted:
        return
    try:
        camera = session.client().create_camera(forms.camera_payload(values, None))
    except ApiError as exc:
        if exc.status == 401:
            session.handle(exc, "Adding the camera")
        forms.set_errors(form, exc)
        st.rerun()
    forms.clear(form)
    st.session_state[ADDED] = st.session_state.get(ADDED, 0) + 1
    session.flash("success", f"Camera “{camera.name}” added.")
    st.rerun()


@st.dialog("Edit camera", width="large")
def _edit(camera: Camera) -> None:
    form = f"edit_camera_{camera.id}"
    with st.form(form):
        values = forms.camera_fields(form, camera)
        submitted = st.form_submit_button("Save changes", type="primary")
    if not submitted:
        return
    try:
        changes = forms.camera_payload(values, camera)
        if changes:
            session.client().update_camera(camera.id, changes)
    except ApiError as exc:
        if exc.status == 401:
            session.handle(exc, "Saving the camera")
        forms.set_errors(form, exc)
        st.rerun(scope="fragment")
    forms.clear(form)
    session.flash("success", f"Camera “{values['name']}” saved." if changes else "No changes.")
    st.rerun()


@st.dialog("Delete camera")
def _delete(camera: Camera) -> None:
    st.write(
        f"Delete **{md(camera.name)}**? Its zones, events and clips go with it. "
        "This cannot be undone."
    )
    if st.button("Delete camera", type="primary", icon=":material/delete:"):
        try:
            session.client().delete_camera(camera.id)
        except ApiError as exc:
            session.handle(exc, "Deleting the camera")
            return
        session.flash("success", f"Camera “{camera.name}” deleted.")
        st.rerun()


@st.dialog("Status history", width="large")
def _history(camera: Camera) -> None:
    history = session.load("Loading the history", lambda: session.client().camera_health(camera.id))
    st.caption(f"{md(camera.name)}: the last {len(history.items)} of {history.total} changes")
    if not history.items:
        st.info("No status changes yet: the camera has not been contacted.")
        return
    tz = browser_tz()
    st.dataframe(
        [
            {
                "When": local_time(entry.ts, tz),
                "Status": entry.status,
                "Before": entry.previous_status or "",
                "Error": entry.error or "",
            }
            for entry in history.items
        ],
        hide_index=True,
    )


def _set_enabled(camera: Camera, enabled: bool) -> None:
    try:
        session.client().update_camera(camera.id, {"enabled": enabled})
    except ApiError as exc:
        session.handle(exc, "Updating the camera")
        return
    verb = "enabled" if enabled else "disabled: it is no longer recorded or analysed"
    session.flash("success", f"Camera “{camera.name}” {verb}.")
    st.rerun()


def _card(camera: Camera) -> None:
    """One compact row per camera: a page of twenty stays readable."""
    label, colour = status_badge(camera.status, camera.enabled)
    with st.container(border=True, key=f"camera_card_{camera.id}"):
        about, address, actions = st.columns([3, 3.5, 3.5], vertical_alignment="center")
        with about:
            st.markdown(f"**{md(camera.name)}** :{colour}-badge[{label}]")
            st.caption(f"Last seen {ago(camera.last_seen_at, now())}")
        with address:
            st.markdown(f"`{camera.stream_url.replace('`', '')}`")
            faces = " · faces on" if camera.face_mode else ""
            st.caption(f"{camera.detect_fps:g} fps detection at {camera.detect_width} px{faces}")
        with actions, st.container(horizontal=True, horizontal_alignment="right"):
            if st.button("Edit", key=f"edit_{camera.id}", icon=":material/edit:"):
                _edit(camera)
            toggle = "Disable" if camera.enabled else "Enable"
            if st.button(toggle, key=f"toggle_{camera.id}", help=f"{toggle} {camera.name}"):
                _set_enabled(camera, not camera.enabled)
            with st.popover("More", icon=":material/more_horiz:"):
                if st.button(
                    "Status history", key=f"history_{camera.id}", icon=":material/history:"
                ):
                    _history(camera)
                if st.button("Delete", key=f"delete_{camera.id}", icon=":material/delete:"):
                    _delete(camera)
        if camera.last_error and camera.status != "online":
            st.warning(f"Last error: {camera.last_error}", icon=":material/warning:")


@st.fragment(run_every=REFRESH_SECONDS)
def _camera_list() -> None:
    """Redrawn on its own every few seconds, so a camera going offline shows without a click."""
    cameras = session.load("Loading your cameras", session.client().all_cameras)
    if not cameras:
        return
    counts = Counter(status_badge(c.status, c.enabled)[0] for c in cameras)
    summary = " · ".join(f"{n} {label}" for label, n in sorted(counts.items()))
    st.caption(f"{len(cameras)} camera{'s' if len(cameras) != 1 else ''}: {summary}")
    for camera in cameras:
        _card(camera)


def render() -> None:
    st.title("Cameras")
    session.show_flash()
    first = not session.load(
        "Loading your cameras", lambda: session.client().cameras(limit=1).total
    )
    if first:
        st.info(
            "No cameras yet — add one below. You need its RTSP address, found in the camera's "
            "app or manual (for example rtsp://admin:password@192.168.1.20:554/stream1).",
            icon=":material/videocam:",
        )
    _add_form(first)
    _camera_list()
