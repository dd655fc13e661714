"""RTSP camera simulator for tests, benchmarks and demos (GStreamer RTSP server on loopback).

Importable from the venv; the server script (`rtsp_server.py`) runs under /usr/bin/python3.
"""

from vigil.simulator.manager import DEFAULT_FOOTAGE, RtspSimulator, SimulatorError, rtsp_describe
from vigil.simulator.stamp import read_stamp
from vigil.simulator.transcode import transcode_for_simulator

__all__ = [
    "DEFAULT_FOOTAGE",
    "RtspSimulator",
    "SimulatorError",
    "read_stamp",
    "rtsp_describe",
    "transcode_for_simulator",
]
