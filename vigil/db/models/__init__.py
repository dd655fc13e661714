"""All tables; importing this package registers them on `Base.metadata`."""

from vigil.db.models.alerts import AlertDelivery, AlertSettings
from vigil.db.models.cameras import Camera, CameraHealthEvent, CameraStatus, Zone
from vigil.db.models.events import Clip, Event
from vigil.db.models.faces import Face, FaceChange, FaceDetection
from vigil.db.models.storage import CameraPurge, PendingDeletion
from vigil.db.models.users import User

__all__ = [
    "AlertDelivery",
    "AlertSettings",
    "Camera",
    "CameraHealthEvent",
    "CameraPurge",
    "CameraStatus",
    "Clip",
    "Event",
    "Face",
    "FaceChange",
    "FaceDetection",
    "PendingDeletion",
    "User",
    "Zone",
]
