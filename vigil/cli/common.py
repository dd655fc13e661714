from __future__ import annotations

from vigil.logs import configure_logging
from vigil.settings import Settings, get_settings


def bootstrap(service: str) -> Settings:
    """Settings plus logging for a command; every command starts here."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json, service=service)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings
