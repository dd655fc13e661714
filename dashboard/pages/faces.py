"""Faces: per camera and time range, a timeline strip of visits grouped by identity; open an
identity to see its appearances and play the clips covering them; label, merge, split off
chosen faces into a new identity, delete."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta, tzinfo
from typing import Any

import streamlit as st

from dashboard import session, ui
from dashboard.client import ApiError
from dashboard.faces_view import clip_html, gallery_html, strip_html, thumb_html
from dashboard.formatting import ago, browser_tz, local_time, md, now
from dashboard.models import Camera, Face, Timeline, Visit

RANGES = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}
_SELECTED = "faces_selected"
# ("merge", into) | ("split", detection ids) | ("delete", None) awaiting confirmation
_CONFIRM = "faces_confirm"
GALLERY_SIZE = 48  # the faces shown (and offered for a split), newest first


def _title(face_id: int, label: str | None) -> str:
    return label or f"Unknown #{face_id}"


def _filters(cameras: list[Camera]) -> tuple[int | None, timedelta]:
    names = {c.id: c.name + ("" if c.face_recognition else " (recognition off)") for c in cameras}
    watching = [c.id for c in cameras if c.face_recognition]
    row = st.columns([2, 1.5, 1])
    default = [None, *names].index(watching[0]) if len(watching) == 1 else 0
    camera_id = row[0].selectbox(
        "Camera",
        [None, *names],
        index=default,
        format_func=lambda i: "All cameras" if i is None else names[i],
    )
    period = row[1].selectbox("When", list(RANGES), index=1)
    row[2].button("Refresh", icon=":material/refresh:", help="Load the newest faces")
    return camera_id, RANGES[period]


def _empty_states(cameras: list[Camera], camera_id: int | None) -> None:
    chosen = next((c for c in cameras if c.id == camera_id), None)
    if chosen is not None and not chosen.face_recognition:
        st.warning(
            f"Face recognition is off for {md(chosen.name)}: turn on *Group faces into "
            "identities* in its settings and faces it sees will show up here within seconds.",
            icon=":material/face_retouching_off:",
        )
        ui.cameras_link("Camera settings", ":material/videocam:")
    elif not any(c.face_recognition for c in cameras):
        st.info(
            "No camera groups faces yet. Turn on *Group faces into identities* for a camera "
            "(faces are biometric data, so it is off by default).",
            icon=":material/face:",
        )
        ui.cameras_link("Camera settings", ":material/videocam:")


def _identities(timeline: Timeline) -> list[tuple[int, str, list[Visit]]]:
    """(face id, title, visits) in order of first appearance."""
    by_face: dict[int, list[Visit]] = defaultdict(list)
    for visit in timeline.visits:
        by_face[visit.face_id].append(visit)
    return [(fid, _title(fid, visits[0].label), visits) for fid, visits in by_face.items()]


def _identity_list(rows: list[tuple[int, str, list[Visit]]], names: dict[int, str]) -> None:
    token = session.token()
    for face_id, title, visits in rows:
        faces = sum(len(v.appearances) for v in visits)
        cams = sorted({names.get(v.camera_id, f"camera {v.camera_id}") for v in visits})
        with st.container(border=True, key=f"identity_{face_id}"):
            cols = st.columns([1.3, 4, 1.4], vertical_alignment="center")
            with cols[0]:
                st.html(thumb_html(visits[0].thumbnail_url, token, title, 48))
            cols[1].markdown(f"**{md(title)}**")
            cols[1].caption(
                f"{len(visits)} visit{'s' if len(visits) != 1 else ''} · {faces} faces · "
                f"{', '.join(md(c) for c in cams)}"
            )
            if cols[2].button("Open", key=f"open_{face_id}", help=f"Appearances of {title}"):
                st.session_state[_SELECTED] = face_id
                st.session_state.pop(_CONFIRM, None)


def _detail(face_id: int, others: list[tuple[int, str]], names: dict[int, str], tz: tzinfo) -> None:
    client, token = session.client(), session.token()
    try:
        face = client.face(face_id)
    except ApiError as exc:
        if exc.status == 404:  # merged or deleted meanwhile
            st.session_state.pop(_SELECTED, None)
            return
        session.handle(exc, "Loading the identity")
        return
    st.subheader(face.title)
    seen = f"last seen {ago(face.last_seen, now())}" if face.last_seen else "not seen"
    st.caption(
        f"{face.detection_count} faces · {seen} · "
        f"{', '.join(md(names.get(c, f'camera {c}')) for c in face.cameras)}"
    )
    clips = [e for e in face.events if e.clip_url]
    if clips:
        for start in range(0, len(clips), 2):
            for column, event in zip(st.columns(2), clips[start : start + 2], strict=False):
                with column:
                    when = local_time(event.start, tz)
                    camera = names.get(event.camera_id, f"camera {event.camera_id}")
                    st.html(clip_html(event.clip_url or "", token, f"Clip: {camera} at {when}"))
                    st.caption(f"{event.type.capitalize()} on {md(camera)} at {when}")
    else:
        st.caption("No clip covers these faces yet: clips are cut once an event ends.")
    shown = face.detections[:GALLERY_SIZE]
    captions = {d.id: f"{n}. {local_time(d.ts, tz)}" for n, d in enumerate(shown, 1)}
    st.html(gallery_html([(d.thumbnail_url, captions[d.id]) for d in shown], token))
    _actions(face, others, captions)


def _split_choice(face: Face, captions: dict[str, str]) -> None:
    """Faces of this identity that are someone else: they become a new identity."""
    if len(captions) < 2:
        return
    chosen = st.multiselect(
        "Split off faces",
        list(captions),
        format_func=lambda i: captions[i],
        placeholder="Faces that are someone else (numbers as above)",
        key=f"split_{face.id}",
    )
    if st.button("Split…", icon=":material/call_split:", disabled=not chosen):
        st.session_state[_CONFIRM] = ("split", tuple(chosen))
        st.rerun()


def _confirmation(action: str, target: Any, face: Face, choices: dict[int, str]) -> bool:
    """Show what the pending action will do; False if it no longer applies."""
    if action == "merge" and target in choices:
        st.warning(f"Merge {face.title} into {choices[target]}? Its faces move there.")
    elif action == "split" and isinstance(target, tuple) and target:
        count = f"{len(target)} face{'s' if len(target) != 1 else ''}"
        st.warning(f"Split {count} off {face.title} into a new identity?")
    elif action == "delete":
        st.warning(f"Delete {face.title} with its {face.detection_count} faces and pictures?")
    else:
        return False
    return True


def _carry_out(action: str, target: Any, face: Face) -> None:
    client = session.client()
    if action == "merge":
        merged = client.merge_face(face.id, int(target))
        st.session_state[_SELECTED] = merged.id
        session.flash("success", f"Merged {face.title} into {merged.title}.")
    elif action == "split":
        new = client.split_face(face.id, [str(i) for i in target])
        st.session_state[_SELECTED] = new.id
        count = f"{len(target)} face{'s' if len(target) != 1 else ''}"
        session.flash("success", f"Split {count} off {face.title} into {new.title}.")
    else:
        client.delete_face(face.id)
        st.session_state.pop(_SELECTED, None)
        session.flash("success", f"Deleted {face.title}.")


def _actions(face: Face, others: list[tuple[int, str]], captions: dict[str, str]) -> None:
    client = session.client()
    _split_choice(face, captions)
    cols = st.columns(3)
    with cols[0].form(f"label_{face.id}", border=False):
        label = st.text_input("Label", value=face.label or "", max_chars=100)
        if st.form_submit_button("Save label", icon=":material/badge:"):
            try:
                client.label_face(face.id, label.strip() or None)
                session.flash("success", f"Saved the label of {face.title}.")
                st.rerun()
            except ApiError as exc:
                session.handle(exc, "Saving the label")
    choices = {fid: title for fid, title in others if fid != face.id}
    pending = st.session_state.get(_CONFIRM)
    with cols[1]:
        if choices:
            into = st.selectbox(
                "Merge into", list(choices), format_func=lambda i: choices[i], key="merge_into"
            )
            if st.button("Merge…", icon=":material/merge:"):
                st.session_state[_CONFIRM] = ("merge", into)
                st.rerun()
        else:
            st.caption("No other identity in this period to merge with.")
    with cols[2]:
        if st.button("Delete…", icon=":material/delete:"):
            st.session_state[_CONFIRM] = ("delete", None)
            st.rerun()
    if pending is None:
        return
    action, target = pending
    if not _confirmation(action, target, face, choices):
        st.session_state.pop(_CONFIRM, None)
        return
    yes, no = st.columns([1, 5])
    if yes.button(f"Yes, {action}", type="primary"):
        st.session_state.pop(_CONFIRM, None)
        try:
            _carry_out(action, target, face)
            st.rerun()
        except ApiError as exc:
            session.handle(exc, f"Trying to {action}")
    if no.button("Cancel"):
        st.session_state.pop(_CONFIRM, None)
        st.rerun()


def render() -> None:
    st.title("Faces")
    session.show_flash()
    cameras = session.load("Loading your cameras", session.client().all_cameras)
    if not cameras:
        ui.no_cameras("No cameras yet — add one and turn on face recognition to see faces here.")
        return
    tz = browser_tz()
    camera_id, span = _filters(cameras)
    _empty_states(cameras, camera_id)
    until = now()
    since = until - span
    timeline = session.load(
        "Loading the face timeline",
        lambda: session.client().face_timeline(since, until, camera_id),
    )
    names = {c.id: c.name for c in cameras}
    rows = _identities(timeline)
    if not rows:
        where = names[camera_id] if camera_id is not None else "your cameras"
        st.info(
            f"No faces seen on {md(where)} in this period. Try a longer range; faces appear "
            "here within seconds of a camera with face recognition seeing them.",
            icon=":material/face:",
        )
        return
    if timeline.truncated:
        st.caption("Only the first faces of this period are shown: pick a shorter range.")
    st.html(strip_html([(t, v) for _f, t, v in rows], since, until, session.token(), tz))
    selected = st.session_state.get(_SELECTED)
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{len(rows)} identit{'ies' if len(rows) != 1 else 'y'}**")
        _identity_list(rows, names)
    with right:
        selected = st.session_state.get(_SELECTED)
        if selected is None:
            st.caption("Open an identity to see its appearances and play their clips.")
        else:
            _detail(int(selected), [(f, t) for f, t, _v in rows], names, tz)
