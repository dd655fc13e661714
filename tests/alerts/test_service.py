"""The alert service against a real broker, database and SMTP server: exactly one
well-formed email per opened event, and each rule that keeps one from going out."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from pydantic import SecretStr

from tests.alerts.conftest import SNAPSHOT, T0, World, drained, running
from tests.alerts.servers import Mailbox, smtp_server, webhook_server
from tests.fixtures.waiting import wait_for
from vigil.alerts.message import SIGNATURE_HEADER


def test_one_well_formed_email_per_opened_event(world: World, smtp: tuple[Mailbox, int]) -> None:
    mailbox, _ = smtp
    owner = world.user("owner@example.com", time_zone="Europe/Paris")
    camera = world.camera(owner, "Front door")
    zone = world.zone(camera, "Walkway")
    first = world.open_event(camera, T0, zone_id=zone, confidence=0.87, people=3)
    second = world.open_event(camera, T0 + timedelta(hours=1), zone_id=zone)
    with running(world.settings) as service:
        drained(service, 6)  # two events: open, update, close each
        rows = world.settled(2)
    assert [(r.event_id, r.status, r.recipient) for r in rows] == [
        (first, "sent", "owner@example.com"),
        (second, "sent", "owner@example.com"),
    ]
    messages = mailbox.messages()
    assert len(messages) == 2
    message = next(m for m in messages if m["X-Vigil-Event-Id"] == first)
    # 12:00 UTC is 13:00 in Paris in November
    assert message["Subject"] == "[Vigil] Intrusion at Front door, 2026-11-25 13:00:00 CET"
    assert message["To"] == "owner@example.com"
    assert message["From"] == "vigil@alerts.example.com"
    assert message["Message-ID"] == f"<vigil-delivery-{rows[0].id}@alerts.example.com>"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    link = f"https://vigil.example.com/events?event={first}"
    text = plain.get_content()
    for fact in ("Zone: Walkway", "Confidence: 87%", "People: 3", link):
        assert fact in text
    images = [p for p in message.walk() if p.get_content_type() == "image/jpeg"]
    assert len(images) == 1
    assert images[0].get_content() == SNAPSHOT
    cid = images[0]["Content-ID"].strip("<>")
    assert f"cid:{cid}" in html.get_content()
    assert link in html.get_content()


def test_kind_off_and_filters_send_nothing(world: World, smtp: tuple[Mailbox, int]) -> None:
    mailbox, _ = smtp
    owner = world.user("owner@example.com")
    camera = world.camera(owner)
    walkway, gate = world.zone(camera, "Walkway"), world.zone(camera, "Gate")
    world.configure(
        camera,
        event_types=["intrusion"],
        min_confidence=0.6,
        zone_ids=[walkway],
        cooldown_seconds=0,
    )
    world.open_event(camera, T0, kind="motion", zone_id=walkway)  # kind off
    world.open_event(camera, T0 + timedelta(minutes=1), zone_id=walkway, confidence=0.5)
    world.open_event(camera, T0 + timedelta(minutes=2), zone_id=gate)  # zone not selected
    wanted = world.open_event(camera, T0 + timedelta(minutes=3), zone_id=walkway, confidence=0.6)
    with running(world.settings) as service:
        drained(service, 12)
        rows = world.settled(1)
    assert [(r.event_id, r.status) for r in rows] == [(wanted, "sent")]
    assert [m["X-Vigil-Event-Id"] for m in mailbox.messages()] == [wanted]


def test_quiet_hours_in_the_users_time_zone(world: World, smtp: tuple[Mailbox, int]) -> None:
    mailbox, _ = smtp
    owner = world.user("owner@example.com", time_zone="America/New_York")
    camera = world.camera(owner)
    world.configure(camera, quiet_hours=[{"start": "22:00", "end": "07:00"}], cooldown_seconds=0)
    # 03:00 UTC is 22:00 in New York (quiet); 12:00 UTC is 07:00 there (quiet hours over).
    quiet = T0.replace(hour=3)
    world.open_event(camera, quiet)
    world.open_event(camera, quiet + timedelta(hours=8, minutes=59))  # 06:59 local
    awake = world.open_event(camera, T0)
    with running(world.settings) as service:
        drained(service, 9)
        rows = world.settled(1)
    assert [(r.event_id, r.status) for r in rows] == [(awake, "sent")]
    assert len(mailbox.messages()) == 1


def test_cooldown_merges_a_burst_and_says_so_next_time(
    world: World, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    owner = world.user("owner@example.com")
    camera = world.camera(owner)
    world.configure(camera, event_types=["intrusion", "motion"], cooldowns={"intrusion": 60})
    lead = world.open_event(camera, T0)
    burst = [world.open_event(camera, T0 + timedelta(seconds=s)) for s in (10, 20, 59)]
    motion = world.open_event(camera, T0 + timedelta(seconds=30), kind="motion")  # own cooldown
    after = world.open_event(camera, T0 + timedelta(seconds=61))
    with running(world.settings) as service:
        drained(service, 18)
        rows = world.settled(6)
    status = {r.event_id: (r.status, r.merged_count) for r in rows}
    assert status == {
        lead: ("sent", 0),
        **{b: ("merged", 0) for b in burst},
        motion: ("sent", 0),
        after: ("sent", 3),
    }
    messages = {m["X-Vigil-Event-Id"]: m for m in mailbox.messages()}
    assert set(messages) == {lead, motion, after}
    text = messages[after].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "And 3 more events since the previous alert." in text


def test_another_users_camera_never_alerts_this_user(
    world: World, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    alice = world.user("alice@example.com")
    bob = world.user("bob@example.com")
    world.camera(alice, "Alice's porch")
    bobs = world.camera(bob, "Bob's garage")
    event = world.open_event(bobs, T0)
    with running(world.settings) as service:
        drained(service, 3)
        rows = world.settled(1)
    assert [(r.event_id, r.recipient) for r in rows] == [(event, "bob@example.com")]
    accepted = mailbox.accepted
    assert [a.rcpt_tos for a in accepted] == [["bob@example.com"]]


def test_refused_then_accepted_is_retried_and_delivered(
    world: World, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    mailbox.refuse += ["451 try again later", "421 busy"]
    camera = world.camera(world.user("owner@example.com"))
    event = world.open_event(camera, T0)
    with running(world.settings) as service:
        drained(service, 3)
        (row,) = world.settled(1)
    assert (row.event_id, row.status, row.attempts, row.error) == (event, "sent", 3, None)
    assert len(mailbox.messages()) == 1


def test_permanent_refusal_fails_with_the_reason(world: World, smtp: tuple[Mailbox, int]) -> None:
    mailbox, _ = smtp
    mailbox.refuse += ["554 message rejected as spam"]
    camera = world.camera(world.user("owner@example.com"))
    world.open_event(camera, T0)
    with running(world.settings) as service:
        drained(service, 3)
        (row,) = world.settled(1)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error == "SMTP 554 message rejected as spam"
    assert mailbox.messages() == []


def test_smtp_down_fails_after_the_configured_tries(world: World) -> None:
    from vigil.embedded import free_port

    world.settings.smtp_port = free_port()  # nothing listens there
    camera = world.camera(world.user("owner@example.com"))
    world.open_event(camera, T0)
    with running(world.settings) as service:
        drained(service, 3)
        (row,) = world.settled(1)
    assert (row.status, row.attempts) == ("failed", world.settings.alerts_max_attempts)
    assert row.error is not None and "Connection refused" in row.error


def test_no_smtp_server_is_recorded_as_skipped(world: World) -> None:
    world.settings.smtp_host = None
    camera = world.camera(world.user("owner@example.com"))
    event = world.open_event(camera, T0)
    with running(world.settings) as service:
        drained(service, 3)
        rows = world.settled(1)
    assert [(r.event_id, r.status, r.error) for r in rows] == [
        (event, "skipped", "no SMTP server configured")
    ]


def test_webhook_is_signed_and_retried(world: World, smtp: tuple[Mailbox, int]) -> None:
    secret = "s3cret-for-the-webhook-test"
    camera = world.camera(world.user("owner@example.com"), "Gate")
    with webhook_server() as (hooks, url):
        hooks.answers.append(503)
        world.configure(camera, email_enabled=False, webhook_url=url, webhook_secret=secret)
        event = world.open_event(camera, T0, confidence=0.75)
        with running(world.settings) as service:
            drained(service, 3)
            (row,) = world.settled(1)
    assert (row.channel, row.status, row.attempts) == ("webhook", "sent", 2)
    assert len(hooks.received) == 2
    hook = hooks.received[-1]
    expected = "sha256=" + hmac.new(secret.encode(), hook.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(hook.headers[SIGNATURE_HEADER], expected)
    body = json.loads(hook.body)
    assert (body["event_id"], body["camera"], body["kind"]) == (event, "Gate", "intrusion")
    assert body["confidence"] == 0.75
    assert body["link"] == f"https://vigil.example.com/events?event={event}"
    assert hook.path == "/hooks/vigil?token=abc123"
    assert smtp[0].messages() == []


def test_an_event_row_the_dataflow_never_wrote_still_alerts(
    world: World, smtp: tuple[Mailbox, int]
) -> None:
    world.settings.alerts_event_wait_seconds = 0.2
    camera = world.camera(world.user("owner@example.com"))
    event = world.open_event(camera, T0, row=False)
    with running(world.settings) as service:
        drained(service, 3)
        (row,) = world.settled(1)
    assert (row.event_id, row.status) == (event, "sent")
    message = smtp[0].messages()[0]
    assert not [p for p in message.walk() if p.get_content_type() == "image/jpeg"]


def test_health_reports_polling(world: World) -> None:
    with running(world.settings) as service:
        health = wait_for(lambda: service.health()[0] and service.health())
        assert health, service.health()
        healthy, details = health
    assert healthy
    assert details["smtp_configured"] is True


def _authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"vigil",
        b"right-password-42",
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.mark.parametrize(
    ("password", "status"), [("right-password-42", "sent"), ("wr0ng-pw", "failed")]
)
def test_smtp_login_from_the_settings(world: World, password: str, status: str) -> None:
    options = {
        "authenticator": _authenticator,
        "auth_required": True,
        "auth_require_tls": False,
    }
    with smtp_server(**options) as (mailbox, port):
        world.settings.smtp_port = port
        world.settings.smtp_username = "vigil"
        world.settings.smtp_password = SecretStr(password)
        camera = world.camera(world.user("owner@example.com"))
        world.open_event(camera, T0)
        with running(world.settings) as service:
            drained(service, 3)
            (row,) = world.settled(1)
    assert row.status == status
    assert len(mailbox.messages()) == (status == "sent")
    if status == "failed":
        assert row.attempts == 1  # 535: retrying cannot help
        assert row.error is not None and row.error.startswith("SMTP 535")
        assert password not in row.error
