"""Process managers for the services `vigil up` embeds: SeaweedFS (S3) and Tansu (Kafka)."""

from vigil.embedded.process import (
    ManagedProcess,
    PortInUseError,
    ProcessError,
    free_port,
    free_port_block,
)
from vigil.embedded.seaweedfs import SeaweedFS, SeaweedPorts
from vigil.embedded.tansu import TansuBroker

__all__ = [
    "ManagedProcess",
    "PortInUseError",
    "ProcessError",
    "SeaweedFS",
    "SeaweedPorts",
    "TansuBroker",
    "free_port",
    "free_port_block",
]
