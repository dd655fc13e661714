"""Senders: SMTP (stdlib smtplib) and a signed JSON webhook. Each raises `DeliveryError`,
which says whether trying again can help, with credentials masked out of its message."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit, urlunsplit

import httpx

from vigil.alerts.message import SIGNATURE_HEADER, sign
from vigil.settings import Settings

NO_SMTP = "no SMTP server configured"
_USERINFO = re.compile(r"//[^/@\s]+@")


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def mask(text: str, secrets: Iterable[str | None]) -> str:
    """`text` without the given secrets or any user:password@ of a URL."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _USERINFO.sub("//***@", text)


def safe_url(url: str) -> str:
    """A URL fit for a log or a delivery row: no credentials, no query (tokens live there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    use_ssl: bool = False
    starttls: bool = True
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender | None:
        """None when no SMTP server is configured (the embedded default)."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            use_ssl=settings.smtp_ssl,
            starttls=settings.smtp_starttls and not settings.smtp_ssl,
            timeout=settings.smtp_timeout_seconds,
        )

    def send(self, message: EmailMessage) -> None:
        try:
            self._send(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{rcpt}: {code} {text.decode(errors='replace')}"
                for rcpt, (code, text) in exc.recipients.items()
            )
            raise self._error(f"recipient refused: {detail}", all(c >= 500 for c in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
            raise self._error(f"SMTP {exc.smtp_code} {text}", exc.smtp_code >= 500) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. no STARTTLS: a setting to fix
            raise self._error(f"{type(exc).__name__}: {exc}", True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise self._error(f"{type(exc).__name__}: {exc}", False) from exc

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)

    def _error(self, message: str, permanent: bool) -> DeliveryError:
        return DeliveryError(mask(message, [self.password]), permanent=permanent)


@dataclass(frozen=True)
class WebhookSender:
    timeout: float = 5.0

    def send(self, url: str, body: bytes, secret: str | None, delivery_id: int | None) -> None:
        headers = {"Content-Type": "application/json", "User-Agent": "vigil-alerts"}
        if secret:
            headers[SIGNATURE_HEADER] = sign(body, secret)
        if delivery_id is not None:
            headers["X-Vigil-Delivery"] = str(delivery_id)
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise DeliveryError(mask(message, [url, secret]), permanent=False) from exc
        if response.is_success:
            return
        code = response.status_code
        permanent = 400 <= code < 500 and code not in (408, 425, 429)
        raise DeliveryError(f"webhook answered HTTP {code}", permanent=permanent)
