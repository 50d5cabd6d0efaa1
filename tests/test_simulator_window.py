"""The simulator keeps WhatsApp's 24-hour window as Meta does: free-form text only to a friend who
wrote in the last 24 hours; otherwise the day ends needs_template and the organiser is told."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from advent.content.posts import load_post
from advent.organiser.watch import watch
from advent.people.rehearsal import text_as_friend
from advent.receipts import collect_receipts
from advent.sending.days import send_day
from advent.store.tables import Delivery, OrganiserAlert, Subscriber

FRIEND = "+447700900123"
DEC_1, DEC_2 = date(2026, 12, 1), date(2026, 12, 2)
# The shipped schedule sends at 08:00 London, which in December is 08:00 UTC.
JOINS_AT = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def texts(runtime, sender, clock, words: str, at: datetime) -> None:
    """The friend's phone sends `words` over WhatsApp at `at`; the service answers it."""
    clock.now = at
    text_as_friend(
        sender,
        runtime.provider.phone,
        FRIEND,
        words,
        whatsapp=True,
        schedules=runtime.schedules,
        settings=runtime.settings,
    )


def send_and_collect(runtime, sender, clock, day: date) -> Delivery:
    """Send `day` at its send time, collect the receipts a minute later; the friend's delivery."""
    schedule = runtime.schedule()
    clock.now = schedule.send_at(day).astimezone(UTC)
    send_day(sender, schedule, day, load_post(runtime.settings.messages_dir, schedule, day))
    clock.advance(60)
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, clock())
        session.commit()
        return session.exec(select(Delivery).where(Delivery.day == day, Delivery.kind == "post")).one()


def posts_on_phone(runtime) -> list[str]:
    return [m.body for m in runtime.provider.phone.messages_to(FRIEND) if m.kind == "post"]


def post_text(runtime, day: date) -> str:
    return load_post(runtime.settings.messages_dir, runtime.schedule(), day).text


def test_a_friend_who_just_joined_gets_day_one_as_free_form_text(runtime, sender, clock):
    texts(runtime, sender, clock, "HAPPY", JOINS_AT)
    delivery = send_and_collect(runtime, sender, clock, DEC_1)
    assert (delivery.status, delivery.used_template) == ("read", False)
    assert posts_on_phone(runtime) == [post_text(runtime, DEC_1)]


def test_day_two_without_a_template_ends_needs_template_and_the_organiser_is_told(runtime, sender, clock):
    texts(runtime, sender, clock, "HAPPY", JOINS_AT)
    send_and_collect(runtime, sender, clock, DEC_1)
    day_two = send_and_collect(runtime, sender, clock, DEC_2)  # 25 hours after the friend wrote
    assert day_two.status == "needs_template"
    assert day_two.error_code == "63016"
    assert "outside the friend's 24-hour window" in (day_two.error_reason or "")
    assert posts_on_phone(runtime) == [post_text(runtime, DEC_1)]  # day 2 never arrived
    with runtime.session() as session:
        watch(session, runtime.schedules, clock())
        said = [a.message for a in session.exec(select(OrganiserAlert)).all()]
    assert any(
        "advent-2026 2026-12-02: the day finished with 0 of 1 handed over" in text
        and "needs_template" in text
        and "24-hour window" in text
        for text in said
    ), said


def test_a_friend_who_replied_within_24_hours_gets_free_form_text(runtime, sender, clock):
    texts(runtime, sender, clock, "HAPPY", JOINS_AT)
    send_and_collect(runtime, sender, clock, DEC_1)
    texts(runtime, sender, clock, "Thank you, that made my morning", datetime(2026, 12, 1, 20, 0, tzinfo=UTC))
    day_two = send_and_collect(runtime, sender, clock, DEC_2)
    assert (day_two.status, day_two.used_template) == ("read", False)
    assert posts_on_phone(runtime) == [post_text(runtime, DEC_1), post_text(runtime, DEC_2)]


def test_the_window_is_the_networks_own_even_when_the_service_thinks_it_open(runtime, sender, clock):
    """A friend the service believes wrote lately, but the network never heard from: refused."""
    texts(runtime, sender, clock, "HAPPY", JOINS_AT)
    with runtime.session() as session:
        friend = session.exec(select(Subscriber).where(Subscriber.phone == FRIEND)).one()
        friend.last_inbound_at = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # a text the network never saw
        session.add(friend)
        session.commit()
    send_and_collect(runtime, sender, clock, DEC_1)
    assert send_and_collect(runtime, sender, clock, DEC_2).status == "needs_template"


def test_sms_has_no_window(runtime, sender, clock):
    clock.now = JOINS_AT
    text_as_friend(
        sender,
        runtime.provider.phone,
        FRIEND,
        "HAPPY",
        whatsapp=False,
        schedules=runtime.schedules,
        settings=runtime.settings,
    )
    send_and_collect(runtime, sender, clock, DEC_1)
    assert send_and_collect(runtime, sender, clock, DEC_2).status == "delivered"
