"""Reading FFmpeg: `-progress` blocks (are frames flowing?) and stderr (why did it stop?)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from vigil.cameras.urls import MASK, mask_credentials_in_text, url_secrets

Status = Literal["online", "offline", "error"]


@dataclass(frozen=True)
class Progress:
    """One `-progress` block; `frame` counts packets written to the first output (HLS)."""

    frame: int
    out_time_us: int
    speed: str
    ended: bool


class ProgressParser:
    """Feed it stdout lines of `-progress pipe:1`; it returns a Progress at each block's end."""

    def __init__(self) -> None:
        self._fields: dict[str, str] = {}

    def feed(self, line: str) -> Progress | None:
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None
        if key != "progress":
            self._fields[key] = value.strip()
            return None
        fields, self._fields = self._fields, {}
        return Progress(
            frame=_int(fields.get("frame")),
            out_time_us=_int(fields.get("out_time_us")),
            speed=fields.get("speed", ""),
            ended=value.strip() == "end",
        )


def _int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0  # "N/A" before the first packet


@dataclass(frozen=True)
class Failure:
    status: Status
    reason: str  # short, stable: auth | not_found | refused | timeout | unsupported | ...
    message: str  # what the camera's owner sees (last_error); see COARSE
    codec_unsupported: bool = False  # stream copy can't carry it: retry with re-encoding
    detail: str = ""  # the FFmpeg line that says why, credentials masked: for the logs only


# Connection failures are shown coarsely: the user learns what to fix, not the resolved
# addresses, ports and timings FFmpeg prints (which made camera URLs a port scanner).
COARSE = {
    "auth": "authentication failed (401 Unauthorized / 403 Forbidden): check the credentials",
    "not_found": "stream not found (404): check the path",
    "refused": "connection refused",
    "timeout": "connection timed out",
    "unreachable": "host unreachable or not found",
    "eof": "the camera closed the connection",
    "exited": "the stream ended unexpectedly",
}


# First match wins; order from specific to generic.
_RULES: list[tuple[re.Pattern[str], Status, str]] = [
    (re.compile(r"401 Unauthorized|403 Forbidden|authorization failed", re.I), "error", "auth"),
    (re.compile(r"404 Not Found|454 Session Not Found", re.I), "offline", "not_found"),
    (re.compile(r"Connection refused", re.I), "offline", "refused"),
    (re.compile(r"timed out", re.I), "offline", "timeout"),  # not "timeout": it's in tcp:// URLs
    (
        re.compile(r"No route to host|Network is unreachable|resolve|not known", re.I),
        "offline",
        "unreachable",
    ),
    (
        re.compile(
            r"not currently supported in container|Could not find tag for codec|"
            r"codec not supported|Unsupported codec|Decoder \S+ not found",
            re.I,
        ),
        "error",
        "unsupported",
    ),
    (re.compile(r"Invalid data found when processing input", re.I), "error", "invalid_data"),
    (
        re.compile(r"No space left on device|Permission denied|Read-only file system", re.I),
        "error",
        "storage",
    ),
    (
        re.compile(r"Connection reset|End of file|Broken pipe|Server returned 5", re.I),
        "offline",
        "eof",
    ),
]
_LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")


def classify_failure(stderr_lines: list[str], returncode: int | None, url: str) -> Failure:
    """Why an ingest process ended: connection-type failures are `offline` (retry quietly),
    configuration-type ones (bad credentials, unusable codec, garbage) are `error`."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in stderr_lines if line.strip()]
    for pattern, status, reason in _RULES:
        for line in lines:
            if pattern.search(line):
                detail = mask_secrets(line, url)
                return Failure(
                    status=status,
                    reason=reason,
                    message=COARSE.get(reason, detail),
                    codec_unsupported=reason == "unsupported",
                    detail=detail,
                )
    last = lines[-1] if lines else f"ffmpeg exited with code {returncode}"
    return Failure("offline", "exited", COARSE["exited"], detail=mask_secrets(last, url))


def mask_secrets(text: str, url: str) -> str:
    """Mask `user:pass@` and secret query values in any URL in `text`, and the URL's secrets
    wherever else they appear (FFmpeg may print them decoded or on their own)."""
    masked = mask_credentials_in_text(text)
    for secret in url_secrets(url):
        if len(secret) >= 3:  # shorter would mask innocent characters everywhere
            masked = masked.replace(secret, MASK)
    return masked
