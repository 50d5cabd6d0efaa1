"""The canary and holding a day (issue 12, point 2): the evening before, the organiser's own
phone gets tomorrow's post as friends will; HOLD (or `advent hold`, or the day page's button)
holds it; nothing of a held day goes out, the organiser is told when its moment comes, and the
day is recorded as held, never missed; RELEASE lets it go."""

from __future__ import annotations

from datetime import UTC, date, datetime

from click.testing import CliRunner
from sqlmodel import select

from advent.cli import main
from advent.content.posts import load_post
from advent.people.rehearsal import text_as_friend
from advent.sending.dispatch import Sender
from advent.store.tables import DayRun, OrganiserAlert
from tests.dashboard_helpers import csrf_token
from tests.helpers import ORGANISER_PHONE, sweep_at
from tests.test_each_friends_morning import drive

DEC_4 = date(2026, 12, 4)


def organiser_texts(simulator) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.body for m in simulator.phone.messages_to(ORGANISER_PHONE)]


def day_state(runtime, day: date) -> str | None:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        run = session.exec(select(DayRun).where(DayRun.day == day)).first()
        return run.status if run else None


def text_from_organiser(runtime, body: str, now: datetime) -> str | None:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        sender = Sender(session, runtime.provider, runtime.settings, clock=lambda: now)
        texted = text_as_friend(
            sender,
            runtime.provider.phone,
            ORGANISER_PHONE,
            body,
            whatsapp=False,
            schedules=runtime.schedules,
            settings=runtime.settings,
        )
    return texted.answer.text


def test_the_evening_before_the_organiser_gets_tomorrows_post_as_friends_will(
    with_phone, schedule, simulator
):
    sweep_at(with_phone, datetime(2026, 12, 3, 17, 59, tzinfo=UTC))
    assert organiser_texts(simulator) == []  # not before 18:00 London

    sweep_at(with_phone, datetime(2026, 12, 3, 18, 0, 30, tzinfo=UTC))
    sweep_at(with_phone, datetime(2026, 12, 3, 19, 0, tzinfo=UTC))  # once, however often it looks
    (preview,) = organiser_texts(simulator)
    post = load_post(with_phone.settings.messages_dir, schedule, DEC_4)
    assert preview.startswith("Preview of tomorrow's Advent of Kindness, day 4 (Fri 4 Dec)")
    assert post.text in preview and preview.endswith("Reply HOLD to hold it.")


def test_a_post_that_cannot_be_sent_is_caught_by_the_preview(with_phone, schedule, simulator):
    (with_phone.settings.messages_dir / "advent-2026" / "04.md").unlink()
    sweep_at(with_phone, datetime(2026, 12, 3, 18, 0, 30, tzinfo=UTC))
    (preview,) = organiser_texts(simulator)
    assert "day 4: it cannot be sent" in preview and "Fix it before 08:00" in preview


def test_hold_in_answer_to_the_preview_holds_the_day_and_release_lets_it_go(
    with_phone, schedule, friends, simulator, clock
):
    sweep_at(with_phone, datetime(2026, 12, 3, 18, 0, 30, tzinfo=UTC))
    said = text_from_organiser(with_phone, "HOLD", datetime(2026, 12, 3, 18, 5, tzinfo=UTC))
    assert said is not None and said.startswith("Advent of Kindness: Held: day 4 (Fri 4 Dec) will not go out")
    assert day_state(with_phone, DEC_4) == "held"

    # The 4th's morning comes: nothing goes to the friends; the organiser is told; held, not missed.
    clock.now = datetime(2026, 12, 4, 7, 59, tzinfo=UTC)
    drive(with_phone, clock, until=datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    sweep_at(with_phone, datetime(2026, 12, 4, 9, 0, 30, tzinfo=UTC))
    assert all(simulator.posts_received().get(friend, 0) == 0 for friend in friends)
    with with_phone.session() as session:
        from advent.store.tables import Delivery

        assert (
            session.exec(select(Delivery).where(Delivery.day == DEC_4, Delivery.kind == "post")).all() == []
        )
        (held,) = session.exec(select(OrganiserAlert).where(OrganiserAlert.kind == "held_day")).all()
    assert "day 4 (Fri 4 Dec) is held: nothing of it was sent" in held.message
    assert any("is held: nothing of it was sent" in text for text in organiser_texts(simulator))
    assert day_state(with_phone, DEC_4) == "held"

    said = text_from_organiser(with_phone, "release", datetime(2026, 12, 4, 9, 10, tzinfo=UTC))
    assert said is not None and "Released: day 4" in said
    clock.now = datetime(2026, 12, 4, 9, 10, tzinfo=UTC)
    drive(with_phone, clock, until=datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    with with_phone.session() as session:
        posts = session.exec(select(Delivery).where(Delivery.day == DEC_4, Delivery.kind == "post")).all()
        alert = session.exec(select(OrganiserAlert).where(OrganiserAlert.kind == "held_day")).one()
    # Within the grace window (08:00 + 180 minutes): sent now, each friend once.
    assert sorted(p.status for p in posts) == ["queued", "queued"]
    assert alert.resolved_at is not None
    assert day_state(with_phone, DEC_4) == "sent"


def test_hold_from_anyone_else_is_just_a_reply(with_phone, friends, simulator):
    with with_phone.session() as session:
        sender = Sender(
            session,
            with_phone.provider,
            with_phone.settings,
            clock=lambda: datetime(2026, 12, 3, 18, 5, tzinfo=UTC),
        )
        texted = text_as_friend(
            sender,
            with_phone.provider.phone,
            friends[0],
            "HOLD",
            whatsapp=False,
            schedules=with_phone.schedules,
            settings=with_phone.settings,
        )
    assert texted.answer.text is not None and "will read this" in texted.answer.text
    assert day_state(with_phone, DEC_4) is None


def test_advent_hold_and_release_and_a_send_by_hand_of_a_held_day_is_refused(runtime, schedule):
    def advent(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), obj=runtime)

    held = advent("hold", "--date", "2026-12-05")
    assert held.exit_code == 0 and "Held: day 5 (Sat 5 Dec)" in held.output
    again = advent("hold", "--date", "2026-12-05")
    assert "is held already" in again.output
    refused = advent("send", "--date", "2026-12-05")
    assert (
        refused.exit_code == 1
        and "is held" in refused.output
        and "advent release --date 2026-12-05" in refused.output
    )
    released = advent("release", "--date", "2026-12-05")
    assert released.exit_code == 0 and "Released: day 5" in released.output
    not_held = advent("release", "--date", "2026-12-05")
    assert not_held.exit_code == 1 and "is not held" in not_held.output
    outside = advent("hold", "--date", "2027-01-05")
    assert outside.exit_code == 1 and "not a day of advent-2026" in outside.output


def test_the_day_pages_button_holds_and_releases(organiser, runtime):
    page = organiser.get("/days/advent-2026/2026-12-06").get_data(as_text=True)
    assert "Hold this day" in page
    response = organiser.post("/days/advent-2026/2026-12-06/hold", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    page = organiser.get("/days/advent-2026/2026-12-06").get_data(as_text=True)
    assert (
        "Held: day 6" in page
        and "Release this day" in page
        and day_state(runtime, date(2026, 12, 6)) == "held"
    )
    assert organiser.post("/days/advent-2026/2026-12-06/release", data={}).status_code == 400  # no CSRF token
    organiser.post("/days/advent-2026/2026-12-06/release", data={"csrf_token": csrf_token(page)})
    assert day_state(runtime, date(2026, 12, 6)) == "due"


def test_a_held_day_shows_on_its_calendar_door(organiser, runtime):
    from tests.test_calendar import door

    CliRunner().invoke(main, ["hold", "--date", "2026-12-06"], obj=runtime)
    page = organiser.get("/").get_data(as_text=True)
    assert "held" in door(page, 6) and "release it there" in door(page, 6)
    assert "held" not in door(page, 7) and "to hold it" in door(page, 7)


def test_on_whatsapp_outside_the_organisers_window_the_preview_is_the_approved_template(
    runtime, simulator, clock
):
    """As a friend outside their 24-hour window gets the post, so does the organiser's preview:
    a template nobody approved, or one that is broken, is caught the evening before."""
    from tests.helpers import approved_whatsapp_template

    runtime.settings = runtime.settings.model_copy(
        update={"organiser_phone": ORGANISER_PHONE, "organiser_channel": "whatsapp"}
    )
    sid = approved_whatsapp_template(runtime, clock)
    sweep_at(runtime, datetime(2026, 12, 3, 18, 0, 30, tzinfo=UTC))
    (preview,) = simulator.phone.messages_to(ORGANISER_PHONE)
    # The template's own words, with its variables, as friends outside their window get it.
    assert preview.channel == "whatsapp" and preview.body.startswith("Today's kind thought from Sam:")
    assert "Reply HOLD" not in preview.body
    with runtime.session() as session:
        from advent.organiser.own_phone import texts_sent

        (row,) = texts_sent(session)
    assert row.used_template and row.ref == "canary" and sid
