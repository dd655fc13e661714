"""The Alerts page's parsing of what people type, before it reaches the API."""

from __future__ import annotations

import pytest

from dashboard.pages.alerts import parse_quiet_hours, parse_recipients


def test_quiet_hours_accept_lists_and_short_hours() -> None:
    assert parse_quiet_hours("22:00-7:00, 12:30 \u2013 13:00\n") == [
        {"start": "22:00", "end": "07:00"},
        {"start": "12:30", "end": "13:00"},
    ]
    assert parse_quiet_hours("  ") == []


@pytest.mark.parametrize("text", ["22:00", "night", "22:00-07", "10-12"])
def test_quiet_hours_refuse_what_is_not_a_range(text: str) -> None:
    with pytest.raises(ValueError, match="is not a range like 22:00-07:00"):
        parse_quiet_hours(text)


def test_recipients_split_on_lines_commas_and_spaces() -> None:
    assert parse_recipients("a@example.com, b@example.org\n\nc@example.net d@x.io") == [
        "a@example.com",
        "b@example.org",
        "c@example.net",
        "d@x.io",
    ]
