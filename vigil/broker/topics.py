"""Every Kafka topic Vigil uses, named in one place.

Names are `<prefix><kind>`, e.g. `vigil.detections`; the prefix (VIGIL_KAFKA_TOPIC_PREFIX) lets
several Vigil installations share one Kafka cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from vigil.settings import Settings

_LEGAL = re.compile(r"[A-Za-z0-9._-]*")  # Kafka's topic name alphabet


class TopicKind(StrEnum):
    DETECTIONS = "detections"  # every detection from the dataflow (also written to the lake)
    FACES = "faces"  # face detections with embeddings
    MOTION = "motion"  # motion gate results per camera
    EVENTS = "events"  # live events (intrusion, motion); the alerts consumer reads these
    CAMERA_HEALTH = "camera_health"  # ingest / dataflow health per camera


@dataclass(frozen=True)
class Topics:
    prefix: str = "vigil."

    def __post_init__(self) -> None:
        if not _LEGAL.fullmatch(self.prefix) or len(self.prefix) > 200:
            raise ValueError(f"invalid Kafka topic prefix {self.prefix!r}: use [A-Za-z0-9._-]")

    @classmethod
    def from_settings(cls, settings: Settings) -> Topics:
        return cls(settings.kafka_topic_prefix)

    def name(self, kind: TopicKind) -> str:
        return f"{self.prefix}{kind.value}"

    @property
    def detections(self) -> str:
        return self.name(TopicKind.DETECTIONS)

    @property
    def faces(self) -> str:
        return self.name(TopicKind.FACES)

    @property
    def motion(self) -> str:
        return self.name(TopicKind.MOTION)

    @property
    def events(self) -> str:
        return self.name(TopicKind.EVENTS)

    @property
    def camera_health(self) -> str:
        return self.name(TopicKind.CAMERA_HEALTH)

    def all(self) -> list[str]:
        return [self.name(kind) for kind in TopicKind]
