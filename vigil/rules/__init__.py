"""Event rules (intrusion, motion): one pure, deterministic module for live and batch.

The live stream steps a CameraRules over each analysed frame and publishes the EventChanges;
Dagster calls replay() over the Parquet lake after a zone edit and gets the same events, ids
included. No I/O and no clock here: time comes only from the observations.
"""

from vigil.rules.config import RulesConfig
from vigil.rules.engine import CameraRules
from vigil.rules.frames import frames_from_observations, observation_sort_key, sort_observations
from vigil.rules.geometry import Point, PreparedPolygon, point_in_polygon
from vigil.rules.intrusion import intrusion_confidence
from vigil.rules.motion import motion_confidence
from vigil.rules.replay import ReplayResult, read_window, replay, replay_with_report
from vigil.rules.state import CameraState
from vigil.rules.types import (
    BBox,
    Event,
    EventChange,
    Frame,
    FrameTick,
    MotionObservation,
    Observation,
    PersonObservation,
    event_id_for,
)
from vigil.rules.zones import (
    MAX_POINTS,
    MIN_AREA,
    RULES_VERSION,
    ZoneRule,
    ZoneValidationError,
    fingerprint,
    validate_polygon,
    zone_fingerprint,
)

__all__ = [
    "MAX_POINTS",
    "MIN_AREA",
    "RULES_VERSION",
    "BBox",
    "CameraRules",
    "CameraState",
    "Event",
    "EventChange",
    "Frame",
    "FrameTick",
    "MotionObservation",
    "Observation",
    "PersonObservation",
    "Point",
    "PreparedPolygon",
    "ReplayResult",
    "RulesConfig",
    "ZoneRule",
    "ZoneValidationError",
    "event_id_for",
    "fingerprint",
    "frames_from_observations",
    "intrusion_confidence",
    "motion_confidence",
    "observation_sort_key",
    "point_in_polygon",
    "read_window",
    "replay",
    "replay_with_report",
    "sort_observations",
    "validate_polygon",
    "zone_fingerprint",
]
