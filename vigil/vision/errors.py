"""Errors raised by the vision layer; callers (dataflow, API) map them to their own responses."""

from __future__ import annotations


class VisionError(Exception):
    """Base class for every error the vision layer raises on purpose."""


class ModelNotFoundError(VisionError, FileNotFoundError):
    """A model file or directory is missing; the message names the setting to fix."""


class BackendUnavailableError(VisionError, ImportError):
    """An optional backend (ultralytics, insightface) is not installed."""


class InvalidFrameError(VisionError, ValueError):
    """A frame is not a non-empty HxWx3 uint8 BGR image (or a timestamp is naive)."""
