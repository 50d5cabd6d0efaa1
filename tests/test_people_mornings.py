"""The People page shows each friend's morning where the schedule sends at each friend's own
time, and the organiser can move it, checked as TIME checks it (signed in, with a CSRF token)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from advent.store.tables import InboundMessage, Subscriber
from tests.dashboard_helpers import post_form
from tests.helpers import send_at
from tests.webhook_helpers import text_from

ANNA = "+447911123456"
TORONTO = "+14165550199"


def joined(organiser, runtime, clock, timing: str = "friend") -> dict[str, int]:
    send_at(runtime, timing)
    clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    text_from(organiser, ANNA, "HAPPY", sid="SM1")
    text_from(organiser, TORONTO, "HAPPY", sid="SM2")
    with runtime.session() as session:
        return {s.phone: s.id for s in session.exec(select(Subscriber)).all()}  # type: ignore[misc]


def html(organiser, path: str) -> str:
    page = organiser.get(path)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_list_shows_each_friends_morning_and_keeps_numbers_masked(organiser, runtime, clock) -> None:
    joined(organiser, runtime, clock)
    page = html(organiser, "/people")
    assert "Morning" in page
    assert "08:00 Europe/London" in page and "08:00 America/Toronto" in page
    assert ANNA not in page and TORONTO not in page and "+44•••••••456" in page


def test_no_morning_column_where_everyone_shares_the_schedules(organiser, runtime, clock) -> None:
    ids = joined(organiser, runtime, clock, "schedule")
    assert "Morning" not in html(organiser, "/people")
    assert "Change their morning" not in html(organiser, f"/people/{ids[ANNA]}")


def test_the_organiser_moves_a_friends_morning(organiser, runtime, clock) -> None:
    ids = joined(organiser, runtime, clock)
    person = f"/people/{ids[ANNA]}"
    assert "Change their morning" in html(organiser, person)
    clock.now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

    answer = post_form(organiser, person, f"{person}/morning", {"place": "sydney", "hour": "6:45"})

    assert answer.status_code == 302
    page = html(organiser, person)
    assert "Now: their message comes at 06:45 Australia/Sydney." in page
    assert "06:45 Australia/Sydney" in page and ANNA not in page
    with runtime.session() as session:
        anna = session.get_one(Subscriber, ids[ANNA])
    assert (anna.timezone, anna.send_time, anna.morning_set_at) == ("Australia/Sydney", "06:45", clock.now)


def test_the_organiser_is_refused_what_time_would_refuse(organiser, runtime, clock) -> None:
    ids = joined(organiser, runtime, clock)
    person = f"/people/{ids[ANNA]}"
    post_form(organiser, person, f"{person}/morning", {"place": "", "hour": "22:30"})
    assert "Not changed: 22:30 is in the quiet hours (21:00 to 08:00), when nothing is sent." in html(
        organiser, person
    )
    post_form(organiser, person, f"{person}/morning", {"place": "Atlantis", "hour": ""})
    assert "Not changed: we don&#39;t know the place &#34;Atlantis&#34;." in html(organiser, person)
    with runtime.session() as session:
        anna = session.get_one(Subscriber, ids[ANNA])
    assert (anna.timezone, anna.send_time, anna.morning_set_at) == ("Europe/London", None, None)


def test_moving_a_morning_needs_the_csrf_token(organiser, runtime, clock) -> None:
    ids = joined(organiser, runtime, clock)
    answer = organiser.post(f"/people/{ids[ANNA]}/morning", data={"place": "Toronto"})
    assert answer.status_code == 400
    with runtime.session() as session:
        assert session.get_one(Subscriber, ids[ANNA]).timezone == "Europe/London"


def test_moving_a_morning_needs_the_organiser_signed_in(app, runtime, clock) -> None:
    client = app.test_client()
    ids = joined(client, runtime, clock)
    app.config["WTF_CSRF_ENABLED"] = False  # refused for want of sign-in, not of the token
    answer = client.post(f"/people/{ids[ANNA]}/morning", data={"place": "Toronto"})
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    with runtime.session() as session:
        assert session.get_one(Subscriber, ids[ANNA]).timezone == "Europe/London"


def test_erasing_a_friend_forgets_where_they_live_and_what_time_answered(organiser, runtime, clock) -> None:
    ids = joined(organiser, runtime, clock)
    text_from(organiser, ANNA, "TIME 7:30 Toronto", sid="SMtime")
    person = f"/people/{ids[ANNA]}"
    post_form(organiser, f"{person}/erase", f"{person}/erase")
    with runtime.session() as session:
        anna = session.get_one(Subscriber, ids[ANNA])
        asked = session.exec(select(InboundMessage).where(InboundMessage.provider_sid == "SMtime")).one()
    assert (anna.timezone, anna.send_time, anna.morning_set_at) == (None, None, None)
    assert (asked.kind, asked.body, asked.reply_text) == ("time", "", None)
