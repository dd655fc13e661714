"""Alerts: per camera, when to email (and call a webhook), a test message, and the log."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import forms, session, ui
from dashboard.client import ApiError
from dashboard.formatting import browser_tz, local_time, md
from dashboard.models import AlertSettings, Camera, Delivery, Zone

FORM = "alerts"
KIND_LABELS = {"intrusion": "Intrusion", "motion": "Motion", "face": "Faces"}
FIELDS = (
    "kinds",
    "email_enabled",
    "recipients",
    "quiet_hours",
    "min_confidence",
    "zone_ids",
    "webhook_url",
    "time_zone",
)
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*$")
TEST_RESULT = "alerts_test_result"
LOG_SIZE = 50


def parse_quiet_hours(text: str) -> list[dict[str, str]]:
    """ "22:00-07:00, 12:30-13:00" → ranges; ValueError with a message for the field."""
    ranges = []
    for part in filter(None, (p.strip() for p in re.split(r"[,\n;]", text))):
        found = _RANGE.match(part)
        if not found:
            raise ValueError(f"“{part}” is not a range like 22:00-07:00")
        start, end = (v.zfill(5) for v in found.groups())
        ranges.append({"start": start, "end": end})
    return ranges


def parse_recipients(text: str) -> list[str]:
    return [r for r in (p.strip() for p in re.split(r"[,\s;]+", text)) if r]


def _kinds(current: AlertSettings, key: str, errors: dict[str, str]) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    for kind, label in KIND_LABELS.items():
        setting = current.kinds[kind]
        left, right = st.columns([1, 1])
        enabled = left.toggle(f"{label} alerts", value=setting.enabled, key=f"{key}_{kind}")
        cooldown = right.number_input(
            f"{label} cooldown, seconds",
            min_value=0,
            max_value=86400,
            value=setting.cooldown_seconds,
            step=30,
            key=f"{key}_{kind}_cooldown",
            help="Events within this time of the last alert are summed up in the next one.",
        )
        kinds[kind] = {"enabled": enabled, "cooldown_seconds": int(cooldown)}
    forms.field_error(errors, "kinds")
    return kinds


def _settings_form(camera: Camera, current: AlertSettings, zones: list[Zone]) -> None:
    errors = forms.errors_of(FORM)
    key = f"alerts_{camera.id}"
    with st.form(f"{key}_form"):
        forms.form_error(errors, shown=FIELDS)
        kinds = _kinds(current, key, errors)
        email = st.toggle("Email", value=current.email_enabled, key=f"{key}_email")
        recipients = st.text_area(
            "Recipients",
            value="\n".join(current.recipients),
            key=f"{key}_recipients",
            placeholder=current.effective_recipients[0],
            help="One address per line; empty: your own address.",
        )
        forms.field_error(errors, "recipients")
        quiet = st.text_input(
            "Quiet hours",
            value=", ".join(f"{q.start}-{q.end}" for q in current.quiet_hours),
            key=f"{key}_quiet",
            placeholder="22:00-07:00",
            help="Local times in your time zone; no alerts inside these ranges.",
        )
        forms.field_error(errors, "quiet_hours")
        time_zone = st.text_input(
            "Time zone", value=current.time_zone, key=f"{key}_tz", help="e.g. Europe/Paris"
        )
        forms.field_error(errors, "time_zone")
        confidence = st.slider(
            "Minimum confidence (0: any)",
            0.0,
            1.0,
            current.min_confidence or 0.0,
            0.05,
            key=f"{key}_confidence",
        )
        forms.field_error(errors, "min_confidence")
        names = {z.id: z.name for z in zones}
        chosen = st.multiselect(
            "Only these zones (none selected: any)",
            list(names),
            default=[z for z in current.zone_ids or [] if z in names],
            format_func=names.__getitem__,
            key=f"{key}_zones",
        )
        forms.field_error(errors, "zone_ids")
        webhook = st.text_input(
            "Webhook URL",
            value=current.webhook_url or "",
            key=f"{key}_webhook",
            placeholder="https://ntfy.example.com/vigil",
            help="Each alert is POSTed there as JSON, signed in X-Vigil-Signature.",
        )
        forms.field_error(errors, "webhook_url")
        if current.webhook_secret:
            st.caption(f"Webhook signing key: `{current.webhook_secret}`")
        if st.form_submit_button("Save alerts", type="primary", icon=":material/save:"):
            try:
                quiet_hours = parse_quiet_hours(quiet)
            except ValueError as exc:
                forms.set_errors(FORM, {"quiet_hours": str(exc)})
                st.rerun()
            body = {
                "kinds": kinds,
                "email_enabled": email,
                "recipients": parse_recipients(recipients),
                "quiet_hours": quiet_hours,
                "min_confidence": confidence or None,
                "zone_ids": chosen or None,
                "webhook_url": webhook.strip() or None,
                "time_zone": time_zone.strip() or None,
            }
            _save(camera, body)


def _save(camera: Camera, body: dict[str, Any]) -> None:
    try:
        session.client().save_alert_settings(camera.id, body)
    except ApiError as exc:
        if exc.status == 401:
            session.handle(exc, "Saving the alerts")
        forms.set_errors(FORM, exc)
        st.rerun()
    forms.clear(FORM)
    session.flash("success", f"Alerts of “{camera.name}” saved.")
    st.rerun()


def _send_test(camera: Camera, current: AlertSettings) -> None:
    if not current.smtp_configured:
        st.caption("No SMTP server is configured: emails are logged as skipped (VIGIL_SMTP_HOST).")
    if st.button("Send test", icon=":material/send:"):
        try:
            result = session.client().send_test_alert(camera.id)
        except ApiError as exc:
            session.handle(exc, "Sending a test")
            return
        st.session_state[TEST_RESULT] = result.deliveries
    for delivery in st.session_state.get(TEST_RESULT, []):
        text = f"Test to {md(delivery.recipient)}: **{delivery.status}**"
        if delivery.error:
            text += f" — {md(delivery.error)}"
        if delivery.status == "sent":
            st.success(text, icon=":material/check_circle:")
        elif delivery.status == "skipped":
            st.warning(text, icon=":material/warning:")
        else:
            st.error(text, icon=":material/error:")


def _log(camera: Camera) -> None:
    st.subheader("Delivery log")
    page = session.load(
        "Loading deliveries", lambda: session.client().deliveries(camera.id, limit=LOG_SIZE)
    )
    if not page.items:
        st.info("No alerts sent for this camera yet.")
        return
    tz = browser_tz()
    st.table(pd.DataFrame([_row(d, tz) for d in page.items]).set_index("When"))


def _row(delivery: Delivery, tz: Any) -> dict[str, Any]:
    merged = f" (+{delivery.merged_count} more)" if delivery.merged_count else ""
    return {
        "When": local_time(delivery.created_at, tz),
        "Kind": delivery.kind + merged,
        "Channel": delivery.channel,
        "To": delivery.recipient,
        "Status": delivery.status,
        "Tries": delivery.attempts,
        "Error": delivery.error or "",
    }


def render() -> None:
    st.title("Alerts")
    session.show_flash()
    cameras = session.load("Loading your cameras", session.client().all_cameras)
    if not cameras:
        ui.no_cameras("No cameras yet — add one, then choose its alerts here.")
        return
    names = {c.id: c.name for c in cameras}
    camera_id = st.selectbox("Camera", list(names), format_func=names.__getitem__)
    camera = next(c for c in cameras if c.id == camera_id)
    api = session.client()
    current = session.load("Loading alert settings", lambda: api.alert_settings(camera.id))
    zones = session.load("Loading zones", lambda: api.zones(camera.id))
    left, right = st.columns([3, 2])
    with left:
        _settings_form(camera, current, zones)
    with right:
        _send_test(camera, current)
        _log(camera)
