"""RTSP stream URLs: validation and credential masking.

A camera URL may carry credentials (`rtsp://user:pass@host/path`, or in the query as many cameras
take them: `?user=admin&password=...`). They are stored so ingest can connect, but every value
shown to a user or written to a log goes through `mask_url` first.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"rtsp", "rtsps"})
MASK = "***"

# RFC 3986 host: a registered name (letters, digits, -, ., _ and %-escapes), IPv4, or [IPv6].
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9\-_.%]{0,251}[A-Za-z0-9])?$")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# Anything that looks like `scheme://user:password@` inside free text (ffmpeg stderr, exceptions).
_CREDENTIALS_IN_TEXT = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s]+)@")
# A query parameter whose name says it holds a secret (password, pwd, passwd, pw, token, api_key,
# auth, signature, secret, credential, *key); the user name, like in user:password@, stays visible.
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;](?:[\w.\-]*(?:pass|pwd|secret|token|auth|sig|credential)[\w.\-]*"
    r"|[\w.\-]*key|pw)=)"
    r"(?P<value>[^&;#\s]*)",
    re.IGNORECASE,
)


class InvalidStreamURL(ValueError):
    """The URL is not a usable RTSP stream address; the message says why."""


def validate_rtsp_url(value: str) -> str:
    """Return the URL unchanged if it is a well-formed rtsp/rtsps address, else raise."""
    if not isinstance(value, str) or not value:
        raise InvalidStreamURL("must be a non-empty rtsp:// or rtsps:// URL")
    if len(value) > MAX_URL_LENGTH:
        raise InvalidStreamURL(f"must be at most {MAX_URL_LENGTH} characters")
    if _CONTROL_OR_SPACE.search(value):
        raise InvalidStreamURL("must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidStreamURL(f"is malformed: {exc}") from None
    try:
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        raise InvalidStreamURL("port must be a number between 1 and 65535") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise InvalidStreamURL("must use the rtsp:// or rtsps:// scheme")
    if not parts.netloc or not parts.hostname:
        raise InvalidStreamURL("must include a host")
    if port == 0:
        raise InvalidStreamURL("port must be between 1 and 65535")
    if not _valid_host(parts):
        raise InvalidStreamURL(f"host {parts.hostname!r} is not a valid host name or address")
    if parts.fragment:
        raise InvalidStreamURL("must not contain a #fragment")
    return value


def _valid_host(parts: SplitResult) -> bool:
    host = parts.hostname or ""
    if "[" in parts.netloc:  # bracketed IPv6 literal; urlsplit already checked the brackets
        return ":" in host
    return bool(_HOSTNAME.match(host)) and ".." not in host


def mask_url(url: str) -> str:
    """The URL with its password and secret query values (if any) replaced by `***`; the user
    name stays visible."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask_credentials_in_text(url)
    if parts.query:
        parts = parts._replace(query=_mask_query("?" + parts.query)[1:])
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}")
    return urlunsplit(parts)


def url_secrets(url: str) -> set[str]:
    """The secrets a URL carries (its password, secret query values), as written and decoded,
    to mask wherever else they may appear (FFmpeg prints them on their own too)."""
    try:
        parts = urlsplit(url)
        found = {parts.password} if parts.password else set()
    except ValueError:
        return set()
    found |= {m["value"] for m in _SECRET_PARAM.finditer("?" + parts.query) if m["value"]}
    return found | {unquote(secret) for secret in found}


def _mask_query(text: str) -> str:
    return _SECRET_PARAM.sub(lambda m: m["name"] + MASK if m["value"] else m[0], text)


def mask_credentials_in_text(text: str) -> str:
    """Mask `user:password@` and secret query values in any URL inside free text such as an
    FFmpeg error message."""

    def _mask(match: re.Match[str]) -> str:
        user = match.group("userinfo").split(":", 1)[0]
        return f"{match.group('scheme')}{user}:{MASK}@"

    return _mask_query(_CREDENTIALS_IN_TEXT.sub(_mask, text))
