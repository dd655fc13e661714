"""What an alert says: the email (plain text and HTML with the snapshot inline) and the
webhook's JSON body."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape
from typing import Any

from vigil.alerts.rules import zone_info

SIGNATURE_HEADER = "X-Vigil-Signature"


@dataclass(frozen=True)
class AlertContent:
    camera_id: int
    camera_name: str
    kind: str  # intrusion | motion | face | test
    when: datetime
    time_zone: str
    event_id: str | None = None
    confidence: float | None = None
    zone_name: str | None = None
    people: int | None = None
    link: str | None = None
    merged_count: int = 0  # events inside the previous cooldown, not alerted one by one
    label: str | None = None  # face: the identity's name (None: an unknown identity)
    face_id: int | None = None  # face: the identity

    @property
    def local_time(self) -> str:
        return self.when.astimezone(zone_info(self.time_zone)).strftime("%Y-%m-%d %H:%M:%S %Z")

    @property
    def title(self) -> str:
        if self.kind == "test":
            return f"Test alert from {self.camera_name}"
        if self.kind == "face":
            who = self.label or f"New unknown face (identity #{self.face_id})"
            return f"{who} at {self.camera_name}"
        what = {"intrusion": "Intrusion", "motion": "Motion", "face": "Face"}.get(
            self.kind, self.kind.capitalize()
        )
        return f"{what} at {self.camera_name}"

    @property
    def subject(self) -> str:
        return f"[Vigil] {self.title}, {self.local_time}"

    def facts(self) -> list[tuple[str, str]]:
        rows = [("Camera", self.camera_name), ("Time", self.local_time)]
        if self.label:
            rows.append(("Person", self.label))
        elif self.face_id is not None:
            rows.append(("Person", f"unknown, identity #{self.face_id}"))
        if self.zone_name:
            rows.append(("Zone", self.zone_name))
        if self.confidence is not None:
            rows.append(("Confidence", f"{self.confidence:.0%}"))
        if self.people is not None:
            rows.append(("People", str(self.people)))
        return rows

    @property
    def merged_line(self) -> str | None:
        if not self.merged_count:
            return None
        plural = "s" if self.merged_count > 1 else ""
        return f"and {self.merged_count} more event{plural} since the previous alert"


def message_id(delivery_id: int, domain: str) -> str:
    """Stable per delivery: a retry after a crash carries the same id (clients dedupe)."""
    return f"<vigil-delivery-{delivery_id}@{domain}>"


def build_email(
    content: AlertContent,
    *,
    sender: str,
    recipient: str,
    snapshot: bytes | None,
    delivery_id: int | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = content.subject
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(content.when)
    domain = sender.rpartition("@")[2] or "vigil.local"
    msg["Message-ID"] = (
        message_id(delivery_id, domain) if delivery_id is not None else make_msgid(domain=domain)
    )
    if content.event_id:
        msg["X-Vigil-Event-Id"] = content.event_id
    msg["X-Vigil-Camera-Id"] = str(content.camera_id)

    lines = [content.title, ""]
    lines += [f"{name}: {value}" for name, value in content.facts()]
    if content.merged_line:
        lines += ["", content.merged_line.capitalize() + "."]
    if content.link:
        lines += ["", f"Open the event: {content.link}"]
    msg.set_content("\n".join(lines) + "\n")

    cid = make_msgid(domain=domain)
    rows = "".join(
        f"<tr><th align='left'>{escape(n)}</th><td>{escape(v)}</td></tr>"
        for n, v in content.facts()
    )
    parts = [f"<h2>{escape(content.title)}</h2>"]
    if snapshot is not None:
        parts.append(f"<p><img src='cid:{cid[1:-1]}' alt='snapshot' style='max-width:640px'></p>")
    parts.append(f"<table>{rows}</table>")
    if content.merged_line:
        parts.append(f"<p>{escape(content.merged_line.capitalize())}.</p>")
    if content.link:
        parts.append(f"<p><a href='{escape(content.link, quote=True)}'>Open the event</a></p>")
    msg.add_alternative(f"<html><body>{''.join(parts)}</body></html>", subtype="html")
    if snapshot is not None:
        html = msg.get_payload()[1]  # type: ignore[index]
        assert isinstance(html, EmailMessage)
        html.add_related(
            snapshot, "image", "jpeg", cid=cid, filename="snapshot.jpg", disposition="inline"
        )
    return msg


def webhook_body(content: AlertContent, delivery_id: int | None) -> bytes:
    payload: dict[str, Any] = {
        "delivery_id": delivery_id,
        "event_id": content.event_id,
        "camera_id": content.camera_id,
        "camera": content.camera_name,
        "kind": content.kind,
        "time": content.when.isoformat(),
        "local_time": content.local_time,
        "title": content.title,
        "confidence": content.confidence,
        "zone": content.zone_name,
        "people": content.people,
        "label": content.label,
        "face_id": content.face_id,
        "merged_count": content.merged_count,
        "link": content.link,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: HMAC-SHA256 of the exact body, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
