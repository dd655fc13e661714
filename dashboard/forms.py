"""Forms whose API errors appear next to the field they are about.

A submit calls the API; on a refusal the field messages are stored under the form's key and the
script reruns, so each message renders right below its input on the next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from dashboard.client import ApiError
from dashboard.models import Camera

MASKED_PASSWORD = ":***@"  # noqa: S105 (how the API masks it, not a secret)
RETYPE_URL = "type the whole URL again, password included: it is never shown back"


def errors_of(form: str) -> dict[str, str]:
    errors: dict[str, str] = st.session_state.get(f"{form}__errors", {})
    return errors


def set_errors(form: str, exc: ApiError | dict[str, str]) -> None:
    if isinstance(exc, dict):
        fields = exc
    elif exc.fields:
        fields = exc.fields
    elif exc.status == 409 and "name" in exc.message:
        fields = {"name": exc.message}  # "a camera with this name exists": it is about the name
    else:
        fields = {"": exc.message}
    st.session_state[f"{form}__errors"] = fields


def clear(form: str) -> None:
    st.session_state.pop(f"{form}__errors", None)


def field_error(errors: dict[str, str], field: str) -> None:
    if field in errors:
        st.error(errors[field], icon=":material/error:")


def form_error(errors: dict[str, str], shown: Iterable[str] = ()) -> None:
    """Messages about the request as a whole, or about fields the form does not show."""
    other = [f"{k}: {v}" if k else v for k, v in errors.items() if k not in set(shown)]
    if other:
        st.error("; ".join(other), icon=":material/error:")


CAMERA_FIELDS = (
    "name",
    "stream_url",
    "detect_stream_url",
    "enabled",
    "detect_fps",
    "detect_width",
    "face_mode",
    "face_recognition",
    "record_retention_days",
    "clip_retention_days",
    "snapshot_retention_days",
)


def camera_fields(form: str, camera: Camera | None) -> dict[str, Any]:
    """The camera's inputs (inside an `st.form`), prefilled from `camera` when editing."""
    errors = errors_of(form)
    form_error(errors, shown=CAMERA_FIELDS)
    values: dict[str, Any] = {}
    values["name"] = st.text_input(
        "Name",
        value=camera.name if camera else "",
        key=f"{form}_name",
        max_chars=100,
        placeholder="Front door",
    )
    field_error(errors, "name")
    values["stream_url"] = st.text_input(
        "Stream URL",
        value=camera.stream_url if camera else "",
        key=f"{form}_stream_url",
        placeholder="rtsp://user:password@192.168.1.20:554/stream1",
        help="The camera's main RTSP stream (rtsp:// or rtsps://), recorded and shown live. "
        "Its password is kept but never shown again.",
    )
    field_error(errors, "stream_url")
    values["detect_stream_url"] = st.text_input(
        "Detection stream URL (optional)",
        value=(camera.detect_stream_url or "") if camera else "",
        key=f"{form}_detect_stream_url",
        placeholder="rtsp://user:password@192.168.1.20:554/stream2",
        help="A low-resolution sub-stream, if the camera has one: detection costs less CPU.",
    )
    field_error(errors, "detect_stream_url")
    values["enabled"] = st.checkbox(
        "Enabled (record and analyse this camera)",
        value=camera.enabled if camera else True,
        key=f"{form}_enabled",
    )
    with st.expander("Detection and retention"):
        left, right = st.columns(2)
        values["detect_fps"] = left.number_input(
            "Frames analysed per second",
            0.5,
            30.0,
            camera.detect_fps if camera else 5.0,
            0.5,
            key=f"{form}_detect_fps",
        )
        field_error(errors, "detect_fps")
        values["detect_width"] = right.number_input(
            "Detection width (px)",
            160,
            1920,
            camera.detect_width if camera else 640,
            32,
            key=f"{form}_detect_width",
        )
        field_error(errors, "detect_width")
        values["face_mode"] = st.toggle(
            "Recognise faces", value=camera.face_mode if camera else False, key=f"{form}_face"
        )
        values["face_recognition"] = st.toggle(
            "Group faces into identities",
            value=camera.face_recognition if camera else False,
            key=f"{form}_face_recognition",
            help="Biometric data: faces seen by this camera get temporary identities on the "
            "Faces page (unlabelled ones expire with its snapshots).",
        )
        days = st.columns(3)
        for column, field, label, default in (
            (days[0], "record_retention_days", "Keep recordings (days)", 7),
            (days[1], "clip_retention_days", "Keep event clips (days)", 30),
            (days[2], "snapshot_retention_days", "Keep snapshots (days)", 7),
        ):
            with column:
                values[field] = st.number_input(
                    label,
                    1,
                    3650,
                    getattr(camera, field) if camera else default,
                    1,
                    key=f"{form}_{field}",
                )
                field_error(errors, field)
    return values


def camera_payload(values: dict[str, Any], camera: Camera | None) -> dict[str, Any]:
    """The JSON body: everything for a new camera; only what changed for an edit.

    A URL still showing the masked password is refused here: sending it would replace the real
    password with `***`. Left untouched, it is not sent at all.
    """
    body = dict(values)
    body["name"] = str(body["name"]).strip()
    for field in ("stream_url", "detect_stream_url"):
        body[field] = str(body[field]).strip() or None
    if camera is not None:
        body = {k: v for k, v in body.items() if v != getattr(camera, k)}
    elif body["detect_stream_url"] is None:
        del body["detect_stream_url"]
    for field in ("stream_url", "detect_stream_url"):
        if MASKED_PASSWORD in str(body.get(field) or ""):
            raise ApiError(422, RETYPE_URL, {field: RETYPE_URL})
    return body
