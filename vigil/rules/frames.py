"""From a flat stream of observations (a lake scan, a topic) to the Frames the engine steps on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from vigil.rules.types import Frame, FrameTick, MotionObservation, Observation, PersonObservation

_KIND_ORDER = {FrameTick: 0, MotionObservation: 1, PersonObservation: 2}


def observation_sort_key(obs: Observation) -> tuple[datetime, int, int, int]:
    """Frame order (ts, frame_id), then a fixed order inside the frame."""
    track = obs.track_id if isinstance(obs, PersonObservation) else -1
    return (obs.ts, obs.frame_id, _KIND_ORDER[type(obs)], track)


def sort_observations(observations: Iterable[Observation]) -> list[Observation]:
    return sorted(observations, key=observation_sort_key)


def _build(camera_id: str, ts: datetime, frame_id: int, group: list[Observation]) -> Frame:
    persons: list[PersonObservation] = []
    motion: MotionObservation | None = None
    track_ids: frozenset[int] | None = None
    for obs in group:
        if isinstance(obs, PersonObservation):
            persons.append(obs)
        elif isinstance(obs, MotionObservation):
            # An identical repeat (an at-least-once sink wrote the row twice) is harmless.
            if motion is not None and motion != obs:
                raise ValueError(
                    f"frame {frame_id} at {ts.isoformat()} has two different motion observations"
                )
            motion = obs
        else:
            track_ids = obs.track_ids if track_ids is None else track_ids | obs.track_ids
    return Frame(camera_id, ts, frame_id, tuple(persons), motion, track_ids)


def frames_from_observations(observations: Iterable[Observation]) -> Iterator[Frame]:
    """Group consecutive observations of the same (ts, frame_id) into Frames, lazily.

    The input must be in frame order (see sort_observations) and from one camera; inside a
    frame any order is fine, and rows repeated by an at-least-once writer change nothing.
    Out-of-order input raises ValueError rather than silently giving different events than
    the live stream.
    """
    key: tuple[datetime, int] | None = None
    camera_id = ""
    group: list[Observation] = []
    for obs in observations:
        camera_id = camera_id or obs.camera_id
        if obs.camera_id != camera_id:
            raise ValueError(f"observations of cameras {camera_id} and {obs.camera_id} are mixed")
        obs_key = (obs.ts, obs.frame_id)
        if obs_key != key:
            if key is not None:
                if obs_key < key:
                    raise ValueError(
                        f"observations out of order: frame {obs.frame_id} at "
                        f"{obs.ts.isoformat()} after frame {key[1]} at {key[0].isoformat()} "
                        "(use sort_observations)"
                    )
                yield _build(camera_id, key[0], key[1], group)
            key, group = obs_key, []
        group.append(obs)
    if key is not None:
        yield _build(camera_id, key[0], key[1], group)
