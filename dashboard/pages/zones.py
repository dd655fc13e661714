"""Zones: per camera, the areas where a person counts as an intrusion."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import forms, session, ui
from dashboard.client import ApiError
from dashboard.formatting import md
from dashboard.models import Camera, Zone
from dashboard.zone_preview import (
    SQUARES,
    PointsError,
    format_points,
    parse_points,
    render_preview,
)

FORM = "zone"
NAME, POINTS, INTRUSION, DWELL = "zone_name", "zone_points", "zone_intrusion", "zone_dwell"
EDITING = "zone_editing"  # the id of the zone in the editor, None for a new one
CAMERA = "zone_camera"
LOAD = "zone_load"  # a zone (or None: a blank one) to put in the editor on the next run
EXAMPLE = "0.1, 0.5\n0.5, 0.5\n0.5, 0.95\n0.1, 0.95"


def _edit_next_run(zone: Zone | None) -> None:
    """Widget values can only be set before the widgets are drawn: load them next run."""
    st.session_state[LOAD] = zone
    st.rerun()


def _load_editor(zone: Zone | None) -> None:
    st.session_state[EDITING] = zone.id if zone else None
    st.session_state[NAME] = zone.name if zone else ""
    st.session_state[POINTS] = format_points(zone.polygon) if zone else ""
    st.session_state[INTRUSION] = zone.intrusion_enabled if zone else True
    st.session_state[DWELL] = zone.min_dwell_seconds if zone else 1.0
    forms.clear(FORM)


@st.dialog("Delete zone")
def _delete(camera: Camera, zone: Zone) -> None:
    st.write(f"Delete the zone **{md(zone.name)}** of {md(camera.name)}?")
    if st.button("Delete zone", type="primary", icon=":material/delete:"):
        try:
            session.client().delete_zone(camera.id, zone.id)
        except ApiError as exc:
            session.handle(exc, "Deleting the zone")
            return
        session.flash("success", f"Zone “{zone.name}” deleted.")
        if st.session_state.get(EDITING) == zone.id:
            _edit_next_run(None)
        st.rerun()


def _zone_list(camera: Camera, zones: list[Zone]) -> None:
    if not zones:
        st.info("No zones yet: draw the first one below. Until then, motion anywhere counts.")
        return
    for index, zone in enumerate(zones):
        with st.container(border=True, key=f"zone_{zone.id}"):
            alerts = "intrusion alerts on" if zone.intrusion_enabled else "alerts off"
            st.markdown(f"{SQUARES[index % len(SQUARES)]} **{md(zone.name)}**")
            st.caption(f"{alerts} · after {zone.min_dwell_seconds:g} s inside")
            with st.container(horizontal=True):
                if st.button("Edit", key=f"zone_edit_{zone.id}", icon=":material/edit:"):
                    _edit_next_run(zone)
                if st.button("Delete", key=f"zone_delete_{zone.id}", icon=":material/delete:"):
                    _delete(camera, zone)


def _save(camera: Camera, body: dict[str, Any]) -> None:
    editing = st.session_state.get(EDITING)
    api = session.client()
    try:
        if editing is None:
            api.create_zone(camera.id, body)
        else:
            api.update_zone(camera.id, editing, body)
    except ApiError as exc:
        if exc.status == 401:
            session.handle(exc, "Saving the zone")
        forms.set_errors(FORM, exc)
        st.rerun()
    session.flash("success", f"Zone “{body['name']}” saved.")
    _edit_next_run(None)


def _editor(camera: Camera) -> list[tuple[float, float]]:
    """The zone form; returns the points typed so far, for the preview."""
    editing = st.session_state.get(EDITING)
    errors = forms.errors_of(FORM)
    st.subheader("New zone" if editing is None else "Edit zone")
    forms.form_error(errors, shown=("name", "polygon", "intrusion_enabled", "min_dwell_seconds"))
    name = st.text_input("Zone name", key=NAME, max_chars=100, placeholder="Driveway")
    forms.field_error(errors, "name")
    text = st.text_area(
        "Points, one “x, y” per line",
        key=POINTS,
        height=150,
        placeholder=EXAMPLE,
        help="Fractions of the frame from its top-left corner: 0, 0 is top-left and 1, 1 "
        "bottom-right. At least 3 points; the last joins the first. On the picture the grid "
        "is in steps of 0.1 and the points are numbered from 0.",
    )
    points: list[tuple[float, float]] = []
    try:
        points = parse_points(text)
    except PointsError as exc:
        st.error(str(exc), icon=":material/error:")
    forms.field_error(errors, "polygon")
    intrusion = st.toggle("Intrusion alerts", key=INTRUSION)
    dwell = st.number_input(
        "Seconds inside before it counts",
        0.0,
        3600.0,
        step=0.5,
        key=DWELL,
        help="Ignore people who only cross the zone for less than this.",
    )
    forms.field_error(errors, "min_dwell_seconds")
    with st.container(horizontal=True):
        if st.button("Save zone", type="primary", icon=":material/save:"):
            if len(points) < 3:
                forms.set_errors(FORM, {"polygon": "a zone needs at least 3 points"})
                st.rerun()
            body = {
                "name": name.strip(),
                "polygon": [list(p) for p in points],
                "intrusion_enabled": intrusion,
                "min_dwell_seconds": dwell,
            }
            _save(camera, body)
        if editing is not None and st.button("Cancel"):
            _edit_next_run(None)
    return points


def render() -> None:
    st.title("Zones")
    session.show_flash()
    cameras = session.load("Loading your cameras", session.client().all_cameras)
    if not cameras:
        ui.no_cameras("No cameras yet — add one, then draw its zones here.")
        return
    names = {c.id: c.name for c in cameras}
    camera_id = st.selectbox("Camera", list(names), format_func=names.__getitem__)
    camera = next(c for c in cameras if c.id == camera_id)
    if LOAD in st.session_state:
        _load_editor(st.session_state.pop(LOAD))
    elif st.session_state.get(CAMERA) != camera.id or EDITING not in st.session_state:
        st.session_state[CAMERA] = camera.id
        _load_editor(None)
    api = session.client()
    zones = session.load("Loading zones", lambda: api.zones(camera.id))
    snapshot = session.load("Loading the snapshot", lambda: api.camera_snapshot(camera.id))
    preview, side = st.columns([3, 2])
    with side:
        _zone_list(camera, zones)
        draft = _editor(camera)
    editing = st.session_state.get(EDITING)
    # The zone being edited is drawn from the editor; its slot stays so colours match the list.
    shown = [(z.name, [] if z.id == editing else z.polygon) for z in zones]
    with preview:
        caption = "Latest picture" if snapshot else "No picture from this camera yet"
        st.image(
            render_preview(snapshot, shown, draft, st.session_state.get(NAME, "")),
            caption=f"{caption}; the zone being edited is yellow.",
            width="stretch",
        )
