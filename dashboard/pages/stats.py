"""Stats: when and where things happen, as charts."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import session, ui
from dashboard.client import ApiError
from dashboard.formatting import browser_tz, local_time, now
from dashboard.stats import EVENT_CAP, Activity, fetch_activity, hour_of, to_frame

PERIODS = {
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
}


@st.cache_data(ttl=60, show_spinner="Counting events…")
def _activity(token: str, since: datetime, until: datetime) -> Activity:
    # Cached a minute per user and period: charts redraw on every click otherwise.
    return fetch_activity(session.client().with_token(token), since, until)


def _time_chart(frame: pd.DataFrame, field: str, title: str, unit: str) -> alt.Chart:
    x = alt.X(f"{unit}(time):T", title=None)
    y = alt.Y(f"sum({field}):Q", title=title, axis=alt.Axis(format="d", tickMinStep=1))
    colour = alt.Color("camera:N", title="Camera")
    tooltip = [
        alt.Tooltip(f"{unit}(time):T", title="When"),
        alt.Tooltip("camera:N", title="Camera"),
        alt.Tooltip(f"sum({field}):Q", title=title),
    ]
    base = alt.Chart(frame, title=title)
    if field == "events":
        return base.mark_bar().encode(x=x, y=y, color=colour, tooltip=tooltip)
    return base.mark_line().encode(x=x, y=y, color=colour, tooltip=tooltip)


def _hours_heatmap(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(frame, title="Busiest hours of the day")
        .mark_rect()
        .encode(
            x=alt.X("hour_of_day:O", title="Hour of the day"),
            y=alt.Y("camera:N", title=None),
            color=alt.Color("sum(events):Q", title="Events", scale=alt.Scale(scheme="oranges")),
            tooltip=[
                alt.Tooltip("camera:N", title="Camera"),
                alt.Tooltip("hour_of_day:O", title="Hour"),
                alt.Tooltip("sum(events):Q", title="Events"),
            ],
        )
    )


def _metrics(frame: pd.DataFrame) -> None:
    by_camera = frame.groupby("camera")["events"].sum()
    by_hour = frame.groupby("hour_of_day")["events"].sum()
    cols = st.columns(4)
    cols[0].metric("Events", int(frame["events"].sum()))
    cols[1].metric("Intrusions", int(frame["intrusion"].sum()))
    cols[2].metric("Busiest camera", str(by_camera.idxmax()) if by_camera.any() else "—")
    cols[3].metric("Busiest hour", f"{int(by_hour.idxmax()):02d}:00" if by_hour.any() else "—")


def _source_note(activity: Activity, since: datetime, tz: tzinfo) -> None:
    if activity.counted_since is None:
        return
    estimate = "detections there are the frames with a person inside events"
    if not activity.has_endpoint:
        note = f"Counted from events (this API has no hourly statistics); {estimate}."
    elif activity.counted_since <= since:
        note = f"Counted from events: no hourly statistics computed yet; {estimate}."
    else:
        start = local_time(activity.counted_since, tz)
        note = (
            f"Counted from events since {start} (hourly statistics are computed after each "
            f"hour ends); {estimate}."
        )
    if activity.capped:
        note += f" Only the newest {EVENT_CAP:,} events were counted."
    st.caption(note)


def render() -> None:
    st.title("Stats")
    cameras = session.load("Loading your cameras", session.client().all_cameras)
    if not cameras:
        ui.no_cameras("No cameras yet — add one, and its activity will be charted here.")
        return
    names = {c.id: c.name for c in cameras}
    left, right = st.columns([1, 3])
    period = left.selectbox("Period", list(PERIODS))
    chosen = right.multiselect(
        "Cameras", list(names), default=list(names), format_func=names.__getitem__
    )
    if not chosen:
        st.info("Pick at least one camera above.")
        return
    span = PERIODS[period]
    until = hour_of(now()) + timedelta(hours=1)
    since = until - span
    try:
        activity = _activity(session.token(), since, until)
    except ApiError as exc:
        session.handle(exc, "Loading the statistics")
        return
    tz = browser_tz()
    hourly = span <= timedelta(days=2)  # longer periods are charted per day
    unit, per = ("yearmonthdatehours", "hour") if hourly else ("yearmonthdate", "day")
    frame = to_frame(activity.stats, {i: names[i] for i in chosen}, tz, since, until)
    _source_note(activity, since, tz)
    if not frame["events"].any() and not frame["detections"].any():
        st.info("Nothing happened in this period on these cameras. Quiet is good.")
        return
    _metrics(frame)
    st.altair_chart(_time_chart(frame, "events", f"Events per {per}", unit), width="stretch")
    detections = _time_chart(frame, "detections", f"Detections per {per}", unit)
    st.altair_chart(detections, width="stretch")
    st.altair_chart(_hours_heatmap(frame), width="stretch")
