"""Pure rules (quiet hours over midnight, cooldown edges), message masking, and the delivery
rows' life with their event in the real databases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import delete

from tests.alerts.conftest import T0, World
from vigil.alerts.config import AlertConfig, QuietRange
from vigil.alerts.rules import AlertEvent, filtered_out, in_quiet_hours, within_cooldown
from vigil.alerts.senders import mask, safe_url
from vigil.alerts.store import plan_deliveries, retry_delay
from vigil.db.models import AlertDelivery, Event
from vigil.db.session import session_scope


@pytest.mark.parametrize(
    ("local", "quiet"),
    [("21:59", False), ("22:00", True), ("23:59", True), ("00:00", True), ("06:59", True),
     ("07:00", False), ("12:00", False)],
)  # fmt: skip
def test_quiet_hours_span_midnight(local: str, quiet: bool) -> None:
    night = (QuietRange(time(22), time(7)),)
    when = datetime.combine(T0.date(), time.fromisoformat(local), UTC)
    assert in_quiet_hours(night, when, "UTC") is quiet


def test_quiet_hours_follow_daylight_saving() -> None:
    lunch = (QuietRange(time(12), time(13)),)
    summer = datetime(2026, 7, 1, 10, 30, tzinfo=UTC)  # 12:30 in Paris (CEST)
    winter = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)  # 12:30 in Paris (CET)
    assert in_quiet_hours(lunch, summer, "Europe/Paris")
    assert in_quiet_hours(lunch, winter, "Europe/Paris")
    assert not in_quiet_hours(lunch, summer, "UTC")


def test_cooldown_edges() -> None:
    assert not within_cooldown(None, T0, 60)
    assert within_cooldown(T0, T0 + timedelta(seconds=59.9), 60)
    assert not within_cooldown(T0, T0 + timedelta(seconds=60), 60)
    assert not within_cooldown(T0, T0 + timedelta(seconds=1), 0)


def test_filters_in_order() -> None:
    event = AlertEvent("e", 1, "motion", T0, T0, 0.4, 3, 1)
    config = AlertConfig(1, "o@example.com")
    assert filtered_out(config, event) == "kind off"
    config = AlertConfig(1, "o@example.com", kinds=frozenset({"motion"}), min_confidence=0.5)
    assert filtered_out(config, event) == "below minimum confidence"
    config = AlertConfig(1, "o@example.com", kinds=frozenset({"motion"}), zone_ids=frozenset({4}))
    assert filtered_out(config, event) == "zone not selected"
    config = AlertConfig(1, "o@example.com", kinds=frozenset({"motion"}))
    assert filtered_out(config, event) is None


def test_only_opens_are_alerts() -> None:
    base = {"event_id": "e", "camera_id": 1, "type": "intrusion", "at": T0.isoformat()}
    assert AlertEvent.from_record(base | {"change": "open"}) is not None
    assert AlertEvent.from_record(base | {"change": "close"}) is None
    assert AlertEvent.from_record({"change": "open", "camera_id": "x"}) is None


def test_secrets_are_masked() -> None:
    text = "535 auth failed for pw=hunter2 at https://bob:tok3n@hooks.example.com/x"
    assert (
        mask(text, ["hunter2"]) == "535 auth failed for pw=*** at https://***@hooks.example.com/x"
    )
    assert safe_url("https://bob:tok3n@hooks.example.com:8443/x?token=t") == (
        "https://hooks.example.com:8443/x"
    )


def test_retry_delays_double_up_to_the_maximum() -> None:
    assert [retry_delay(n, 2.0, 10.0) for n in range(1, 6)] == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_planning_twice_writes_once_and_rows_go_with_their_event(world: World) -> None:
    camera = world.camera(world.user("owner@example.com"))
    event_id = world.open_event(camera, T0)
    event = AlertEvent(event_id, camera, "intrusion", T0, T0, 0.9, None, 1)
    config = AlertConfig(camera, "owner@example.com", recipients=("a@example.com", "b@example.com"))
    with session_scope(world.url) as session:
        assert plan_deliveries(session, event, config, smtp_configured=True).planned == 2
    with session_scope(world.url) as session:
        assert plan_deliveries(session, event, config, smtp_configured=True).planned == 0
    assert len(world.deliveries(event_id=event_id)) == 2
    with session_scope(world.url) as session:  # as retention deletes an event
        session.execute(delete(Event).where(Event.id == event_id))
    assert world.deliveries() == []
    with session_scope(world.url) as session:
        assert session.query(AlertDelivery).count() == 0
