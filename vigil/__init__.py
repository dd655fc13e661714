"""Vigil: self-hosted AI video surveillance built as a data platform."""

__version__ = "0.1.0"
