"""Hourly activity per camera: the API's hourly statistics, topped up from events.

`GET /stats/hourly` has the hours its batch job has computed, which lags: it runs after an hour
ends. The hours after the newest computed one (all of them, on an API without the endpoint)
are counted from events, so the charts reach the present. For those hours "detections" are the
frames with a person inside events, a lower bound, and the page says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import pandas as pd

from dashboard.client import EventFilter, VigilClient
from dashboard.models import Event, HourlyStat

EVENT_CAP = 10_000  # enough for a month of a busy shop; beyond it the page says it is partial


@dataclass(frozen=True)
class Activity:
    stats: list[HourlyStat]
    counted_since: datetime | None  # from here on, counted from events; None: not at all
    has_endpoint: bool  # False: this API has no hourly statistics
    capped: bool = False  # more events than EVENT_CAP: the newest were counted


def hour_of(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hourly_from_events(events: Iterable[Event]) -> list[HourlyStat]:
    counts: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0, 0])
    for event in events:
        row = counts[(event.camera_id, hour_of(event.start))]
        if event.type not in ("intrusion", "motion"):
            continue  # face events are counted on the Faces page
        row[0] += event.frames
        row[1 if event.type == "intrusion" else 2] += 1
    return [
        HourlyStat(
            camera_id=camera_id, hour=hour, detections=d, intrusion_events=i, motion_events=m
        )
        for (camera_id, hour), (d, i, m) in sorted(counts.items(), key=lambda kv: kv[0][1])
    ]


def fetch_activity(api: VigilClient, since: datetime, until: datetime) -> Activity:
    computed = api.hourly_stats(since, until)
    stats = list(computed or [])
    tail = max((hour_of(s.hour) + timedelta(hours=1) for s in stats), default=since)
    if tail >= until:
        return Activity(stats, counted_since=None, has_endpoint=True)
    events = list(api.iter_events(EventFilter(since=tail, until=until), cap=EVENT_CAP))
    return Activity(
        stats + hourly_from_events(events),
        counted_since=tail,
        has_endpoint=computed is not None,
        capped=len(events) >= EVENT_CAP,
    )


def to_frame(
    stats: Iterable[HourlyStat],
    names: dict[int, str],
    tz: tzinfo,
    since: datetime,
    until: datetime,
) -> pd.DataFrame:
    """One row per camera in `names` and hour of [since, until), quiet hours included as zeros
    (so that lines drop to 0 instead of bridging gaps), in local time made naive so the charts
    show it as is."""
    counts = {(s.camera_id, hour_of(s.hour)): s for s in stats}
    rows = []
    hour = hour_of(since)
    while hour < until:
        local = hour.astimezone(tz)
        for camera_id, name in names.items():
            stat = counts.get((camera_id, hour))
            rows.append(
                {
                    "camera": name,
                    "time": local.replace(tzinfo=None),
                    "hour_of_day": local.hour,
                    "detections": stat.detections if stat else 0,
                    "intrusion": stat.intrusion_events if stat else 0,
                    "motion": stat.motion_events if stat else 0,
                }
            )
        hour += timedelta(hours=1)
    columns = ["camera", "time", "hour_of_day", "detections", "intrusion", "motion"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["events"] = frame["intrusion"] + frame["motion"]
    return frame
