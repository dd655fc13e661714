"""Events: filter, page through with "load more", watch each event's clip."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

import streamlit as st

from dashboard import session, ui
from dashboard.client import ApiError, EventFilter
from dashboard.formatting import ago, browser_tz, duration, local_time, md, now
from dashboard.media import event_media_html
from dashboard.models import Camera, Event

PAGE_SIZE = 21
COLUMNS = 3  # cards per row: a page of events fits on a screen or two
RANGES = {
    "Last hour": timedelta(hours=1),
    "Last 24 hours": timedelta(days=1),
    "Last 7 days": timedelta(days=7),
    "Last 30 days": timedelta(days=30),
    "All time": None,
    "Pick dates": None,
}
CLIP_CHOICES = {"Any": None, "With a clip": True, "Without a clip": False}
_STATE = "events_loaded"


@dataclass
class Loaded:
    """Events shown so far; `filters` are those of the first page, so that later pages of the
    cursor continue the same query even when "last hour" has moved on since."""

    key: tuple[object, ...]
    filters: EventFilter
    items: list[Event] = field(default_factory=list)
    cursor: str | None = None


def _filters(cameras: list[Camera], tz: tzinfo) -> tuple[tuple[object, ...], EventFilter]:
    names = {c.id: c.name for c in cameras}
    row = st.columns([2, 1.2, 1.5, 1.5, 1.2])
    camera_id = row[0].selectbox(
        "Camera", [None, *names], format_func=lambda i: "All cameras" if i is None else names[i]
    )
    kind = row[1].selectbox(
        "Type",
        [None, "intrusion", "motion", "face"],
        format_func=lambda t: (t or "all types").capitalize(),
    )
    period = row[2].selectbox("When", list(RANGES), index=1)
    confidence = row[3].slider("Minimum confidence", 0.0, 1.0, 0.0, 0.05, format="%.2f")
    clip = row[4].selectbox("Clip", list(CLIP_CHOICES))
    since: datetime | None = None
    until: datetime | None = None
    if period == "Pick dates":
        today = now().astimezone(tz).date()
        picked = st.date_input("Between", (today - timedelta(days=7), today), max_value=today)
        if isinstance(picked, tuple) and len(picked) == 2:
            since = datetime.combine(picked[0], time.min, tz)
            until = datetime.combine(picked[1] + timedelta(days=1), time.min, tz)
    elif (span := RANGES[period]) is not None:
        since = now() - span
    key = (camera_id, kind, period, since if period == "Pick dates" else None, confidence, clip)
    filters = EventFilter(
        camera_id=camera_id,
        type=kind,
        since=since,
        until=until,
        min_confidence=confidence or None,
        has_clip=CLIP_CHOICES[clip],
    )
    return key, filters


def _first_page(key: tuple[object, ...], filters: EventFilter) -> Loaded:
    page = session.load("Loading events", lambda: session.client().events(filters, None, PAGE_SIZE))
    return Loaded(key, filters, list(page.items), page.next_cursor)


def _more(loaded: Loaded) -> None:
    page = session.load(
        "Loading more events",
        lambda: session.client().events(loaded.filters, loaded.cursor, PAGE_SIZE),
    )
    loaded.items.extend(page.items)
    loaded.cursor = page.next_cursor


KINDS = {
    "intrusion": ("Intrusion", "red"),
    "motion": ("Motion", "blue"),
    "face": ("Face", "violet"),
}


def _event(event: Event, camera: str, tz: tzinfo, key: str = "event") -> None:
    """A card: the clip (its snapshot as poster) above what happened, when, for how long."""
    title, colour = KINDS.get(event.type, (event.type.capitalize(), "gray"))
    when = local_time(event.start, tz)
    with st.container(border=True, key=f"{key}_{event.id}"):
        st.html(event_media_html(event, session.token(), f"{title} on {camera} at {when}"))
        st.markdown(f"**{title}** :{colour}-badge[{md(camera)}]")
        lasted = (
            duration((event.end - event.start).total_seconds())
            if event.end
            else ":orange[still going on]"
        )
        people = len(event.track_ids)
        who = f" · {people} {'people' if people > 1 else 'person'}" if people else ""
        st.caption(
            f"{when} ({ago(event.start, now())}) · {lasted} · "
            f"confidence {event.confidence:.0%}{who}"
        )
        if event.type == "face":
            st.caption("A face appeared: its visits and clips are on the Faces page.")
        elif not event.clip_url:
            st.caption("No clip." if event.end else "The clip is cut once the event ends.")


def _grid(events: list[Event], names: dict[int, str], tz: tzinfo) -> None:
    for start in range(0, len(events), COLUMNS):
        for column, event in zip(
            st.columns(COLUMNS), events[start : start + COLUMNS], strict=False
        ):
            with column:
                _event(event, names.get(event.camera_id, f"camera {event.camera_id}"), tz)


def _linked(event_id: str, names: dict[int, str], tz: tzinfo) -> None:
    """The event an alert email links to (`?event=<id>`), above the list."""
    try:
        event = session.client().event(event_id)
    except ApiError as exc:
        if exc.status == 401:
            session.handle(exc, "Loading the event")
        st.warning("That event is not one of your cameras' (or no longer exists).")
        return
    st.subheader("From your alert")
    with st.columns(COLUMNS)[0]:
        _event(event, names.get(event.camera_id, f"camera {event.camera_id}"), tz, "linked")


def render() -> None:
    st.title("Events")
    cameras = session.load("Loading your cameras", session.client().all_cameras)
    if not cameras:
        ui.no_cameras("No cameras yet — add one, and its events will show up here.")
        return
    tz = browser_tz()
    if linked := st.query_params.get("event"):
        _linked(linked, {c.id: c.name for c in cameras}, tz)
    key, filters = _filters(cameras, tz)
    refresh = st.button("Refresh", icon=":material/refresh:", help="Load the newest events")
    loaded: Loaded | None = st.session_state.get(_STATE)
    if loaded is None or loaded.key != key or refresh:
        loaded = st.session_state[_STATE] = _first_page(key, filters)
    if not loaded.items:
        st.info("No events match these filters. Try a longer time range or another camera.")
        return
    count = len(loaded.items)
    st.caption(f"Showing {count} event{'s' if count != 1 else ''}, newest first")
    _grid(loaded.items, {c.id: c.name for c in cameras}, tz)
    if loaded.cursor and st.button("Load more events", icon=":material/expand_more:"):
        _more(loaded)
        st.rerun()
