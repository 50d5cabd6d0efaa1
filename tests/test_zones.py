"""Each friend's timezone, guessed from their number when they join, and the places and hours
TIME understands (advent.people.zones)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlmodel import select

from advent.people.subscriptions import join, stop_subscriber
from advent.people.zones import MorningRefused, find_zone, guess_zone, read_hour, read_request
from advent.store.tables import Subscriber

JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "zone"),
    [
        ("+447911123456", "Europe/London"),  # the UK: London among the Channel Islands
        ("+14165550199", "America/Toronto"),
        ("+2348031234567", "Africa/Lagos"),
        ("+447700900123", "Europe/London"),  # the drama range: phonenumbers says Etc/Unknown
    ],
)
def test_a_number_suggests_where_its_friend_lives(schedule, number: str, zone: str) -> None:
    assert guess_zone(number, schedule) == zone


def test_an_australian_mobile_could_be_anywhere_there_so_the_first_zone_is_taken(schedule) -> None:
    assert schedule.timezone == "Europe/London"
    assert guess_zone("+61412345678", schedule) == "Australia/Adelaide"


def test_an_australian_mobile_gets_the_schedules_zone_when_it_is_one_of_them(schedule) -> None:
    in_sydney = schedule.model_copy(update={"timezone": "Australia/Sydney"})
    assert guess_zone("+61412345678", in_sydney) == "Australia/Sydney"


def test_a_number_nothing_is_known_of_gets_the_schedules_zone(schedule) -> None:
    in_lagos = schedule.model_copy(update={"timezone": "Africa/Lagos"})
    assert guess_zone("+447700900123", in_lagos) == "Africa/Lagos"


def stored(runtime, phone: str) -> Subscriber:
    with runtime.session() as session:
        return session.exec(select(Subscriber).where(Subscriber.phone == phone)).one()


@pytest.mark.parametrize("timing", ["schedule", "friend"])
def test_joining_stores_the_guessed_zone_whatever_the_schedule_sends_by(runtime, timing: str) -> None:
    from tests.helpers import send_at

    schedule = send_at(runtime, timing)
    with runtime.session() as session:
        join(session, schedule, phone="+14165550199", channel="sms", method="keyword", now=JOINED)
        session.commit()
    friend = stored(runtime, "+14165550199")
    assert (friend.timezone, friend.send_time, friend.morning_set_at) == ("America/Toronto", None, None)


def test_a_friend_who_rejoins_keeps_the_zone_they_set_themselves(runtime, schedule) -> None:
    with runtime.session() as session:
        friend = join(session, schedule, phone="+447911123456", channel="sms", method="keyword", now=JOINED)
        friend.subscriber.timezone = "Asia/Tokyo"  # as TIME Tokyo would have set it
        stop_subscriber(session, friend.subscriber, method="keyword", now=JOINED)
        session.commit()
        again = join(session, schedule, phone="+447911123456", channel="sms", method="keyword", now=JOINED)
        session.commit()
    assert again.outcome == "rejoined"
    assert stored(runtime, "+447911123456").timezone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        ("Toronto", "America/Toronto"),
        ("new york", "America/New_York"),
        ("NEW YORK", "America/New_York"),
        ("sydney", "Australia/Sydney"),
        ("lagos", "Africa/Lagos"),
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("port-au-prince", "America/Port-au-Prince"),
        ("UTC", "UTC"),
    ],
)
def test_a_place_is_a_zone_by_its_full_name_or_its_city(place: str, zone: str) -> None:
    assert find_zone(place) == zone


@pytest.mark.parametrize("place", ["Atlantis", "US/Eastern", "Etc/GMT+5", "", "Europe"])
def test_a_place_that_is_no_city_or_an_old_alias_is_not_understood(place: str) -> None:
    assert find_zone(place) is None


@pytest.mark.parametrize(
    ("text", "hour"),
    [
        ("7:30", time(7, 30)),
        ("07:30", time(7, 30)),
        ("7.30", time(7, 30)),
        ("7", time(7, 0)),
        ("7pm", time(19, 0)),
        ("12am", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_an_hour_is_read_as_people_write_it(text: str, hour: time) -> None:
    assert read_hour(text) == hour


@pytest.mark.parametrize("text", ["25:00", "7:75", "13pm", "7:3", "seven", "-1"])
def test_something_that_is_no_time_of_day_is_not_an_hour(text: str) -> None:
    assert read_hour(text) is None


@pytest.mark.parametrize(
    ("words", "zone", "hour"),
    [
        ("7:30 Toronto", "America/Toronto", time(7, 30)),
        ("Toronto 7:30", "America/Toronto", time(7, 30)),
        ("new york", "America/New_York", None),
        ("7 pm", None, time(19, 0)),
        ("", None, None),
    ],
)
def test_time_takes_a_place_an_hour_or_both(words: str, zone: str | None, hour: time | None) -> None:
    request = read_request(words.split())
    assert (request.zone, request.hour) == (zone, hour)


def test_what_was_not_understood_is_named() -> None:
    with pytest.raises(MorningRefused, match='we don\'t know the place "Atlantis"'):
        read_request(["Atlantis"])
    with pytest.raises(MorningRefused, match='"25:00" is not a time of day'):
        read_request(["25:00", "Toronto"])
