"""Never in a friend's night (issue 11): a send by hand, a late joiner, an invite and a friend
who moves zone, on the shipped schedule (08:00 each friend's time, quiet 21:00 to 08:00).

The clock is driven as the scheduler drives it (tests/test_each_friends_morning.drive), with
every moment passed in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import select

from advent.content.posts import load_post
from advent.people.invites import prepare_invite
from advent.people.subscriptions import join
from advent.people.zones import MorningRequest, set_morning
from advent.sending.days import send_day
from advent.sending.dispatch import Sender
from advent.sending.invites import send_invites
from advent.store.tables import Delivery, Subscriber
from tests.test_each_friends_morning import drive

LONDON, TORONTO, SYDNEY = "+447911123456", "+14165550123", "+61412345678"
DEC_5 = date(2026, 12, 5)


def join_at(runtime, phone: str, at: datetime, zone: str | None = None) -> None:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        joined = join(session, runtime.schedule(), phone=phone, channel="sms", method="keyword", now=at)
        if zone:  # as if they had texted TIME with their city
            set_morning(runtime.schedule(), joined.subscriber, MorningRequest(zone=zone), at)
            session.add(joined.subscriber)
        session.commit()


def handed_over(runtime, phone: str) -> dict[date, datetime]:  # type: ignore[no-untyped-def]
    """Each day's post to this friend and the minute it was handed to the network."""
    with runtime.session() as session:
        rows = session.exec(
            select(Delivery.day, Delivery.handed_over_at)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.phone == phone, Delivery.kind == "post", Delivery.handed_over_at.is_not(None))
        ).all()
    days = [day for day, _ in rows]
    assert len(days) == len(set(days)), f"{phone} got a day twice"
    # A pass's clock runs on from its moment while it sends: to the minute is what a friend sees.
    return {day: at.replace(second=0, microsecond=0) for day, at in rows}


def sender_at(runtime, now: datetime) -> Sender:  # type: ignore[no-untyped-def]
    return Sender(runtime.session(), runtime.provider, runtime.settings, clock=lambda: now)


def test_a_send_by_hand_in_the_night_waits_for_each_friends_morning(runtime, clock):
    before = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    join_at(runtime, LONDON, before)
    join_at(runtime, TORONTO, before)
    join_at(runtime, SYDNEY, before, zone="Australia/Sydney")
    schedule = runtime.schedule()
    # 03:00 UTC on 5 December: 03:00 in London, 22:00 on the 4th in Toronto, 14:00 in Sydney.
    clock.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    send_day(
        sender_at(runtime, clock.now),
        schedule,
        DEC_5,
        load_post(runtime.settings.messages_dir, schedule, DEC_5),
    )

    assert handed_over(runtime, SYDNEY) == {DEC_5: clock.now}
    assert handed_over(runtime, LONDON) == {} and handed_over(runtime, TORONTO) == {}

    drive(runtime, clock, until=datetime(2026, 12, 5, 14, 0, tzinfo=UTC))
    # Each in their own morning, once: London at 08:00 GMT, Toronto at 08:00 EST (13:00 UTC).
    assert handed_over(runtime, LONDON)[DEC_5] == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert handed_over(runtime, TORONTO)[DEC_5] == datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    assert handed_over(runtime, SYDNEY) == {DEC_5: datetime(2026, 12, 5, 3, 0, tzinfo=UTC)}


def test_a_late_joiner_in_their_night_starts_with_the_next_post_in_their_morning(runtime, clock):
    # The shipped schedule gives late joiners today's post at once, but not at 22:30.
    join_at(runtime, LONDON, datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
    clock.now = datetime(2026, 12, 5, 22, 30, tzinfo=UTC)
    drive(runtime, clock, until=datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    assert handed_over(runtime, LONDON) == {date(2026, 12, 6): datetime(2026, 12, 6, 8, 0, tzinfo=UTC)}


def test_a_late_joiner_in_their_day_gets_todays_post_at_once(runtime, clock):
    join_at(runtime, TORONTO, datetime(2026, 12, 5, 18, 0, tzinfo=UTC))  # 13:00 in Toronto
    clock.now = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    drive(runtime, clock, until=datetime(2026, 12, 5, 23, 0, tzinfo=UTC))
    assert handed_over(runtime, TORONTO) == {DEC_5: datetime(2026, 12, 5, 18, 0, tzinfo=UTC)}


def test_an_invite_made_in_the_invitees_night_goes_in_their_morning(runtime, clock, simulator):
    night = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 22:00 on the 4th in Toronto
    with runtime.session() as session:
        prepare_invite(
            session,
            runtime.schedule(),
            phone=TORONTO,
            channel="sms",
            name="Jo",
            text="Sam invites you to Advent of Kindness. Reply HAPPY to join.",
            now=night,
            cooldown_days=30,
        )
    send_invites(sender_at(runtime, night), runtime.schedule())
    assert simulator.phone.messages_to(TORONTO) == []

    clock.now = night
    drive(runtime, clock, until=datetime(2026, 12, 5, 14, 0, tzinfo=UTC))
    received = simulator.phone.messages_to(TORONTO)
    assert [m.kind for m in received] == ["invite"]
    with runtime.session() as session:
        invite = session.exec(select(Delivery).where(Delivery.kind == "invite")).one()
    assert invite.handed_over_at is not None
    assert invite.handed_over_at.replace(second=0, microsecond=0) == datetime(2026, 12, 5, 13, 0, tzinfo=UTC)


def test_a_friend_who_moves_zone_mid_campaign_gets_every_day_once_and_none_in_their_night(runtime, clock):
    join_at(runtime, TORONTO, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    schedule = runtime.schedule()
    clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def move(to: str, at: datetime) -> None:
        drive(runtime, clock, until=at)
        clock.now = at
        with runtime.session() as session:
            friend = session.exec(select(Subscriber).where(Subscriber.phone == TORONTO)).one()
            assert set_morning(schedule, friend, MorningRequest(zone=to), at)
            session.add(friend)
            session.commit()
        zones.append((at, ZoneInfo(to)))

    zones = [(datetime(2026, 11, 30, tzinfo=UTC), ZoneInfo("America/Toronto"))]
    # East, after the day's post came: the 5th was had in Toronto, the 6th comes in Paris.
    move("Europe/Paris", datetime(2026, 12, 5, 14, 0, tzinfo=UTC))
    # West, after the day's post came in Paris: the 8th comes in Toronto.
    move("America/Toronto", datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    # East before Toronto's morning, after Paris' had passed: the 9th goes at once, not lost.
    move("Europe/Paris", datetime(2026, 12, 9, 11, 0, tzinfo=UTC))
    drive(runtime, clock, until=datetime(2026, 12, 26, tzinfo=UTC))

    got = handed_over(runtime, TORONTO)
    assert sorted(got) == schedule.days()
    assert got[date(2026, 12, 6)] == datetime(2026, 12, 6, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    assert got[date(2026, 12, 8)] == datetime(2026, 12, 8, 13, 0, tzinfo=UTC)  # 08:00 in Toronto
    assert got[date(2026, 12, 9)] == datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # the move itself
    for day, at in got.items():
        zone = [z for since, z in zones if since <= at][-1]
        local = at.astimezone(zone)
        assert not schedule.is_quiet(local.time()), f"day {day} at {local:%H:%M} in {zone}"
        assert local.date() == day or at == datetime(2026, 12, 9, 11, 0, tzinfo=UTC)


def test_a_post_due_in_a_friends_night_is_never_handed_over_there(runtime, clock):
    """A friend's own hour that ends their night early (TIME 6:30) is theirs; what a retry or
    catch-up would start in the night waits, and past the grace is recorded missed."""
    join_at(runtime, LONDON, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    with runtime.session() as session:
        friend = session.exec(select(Subscriber).where(Subscriber.phone == LONDON)).one()
        asked = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
        set_morning(runtime.schedule(), friend, MorningRequest(hour=time(6, 30)), asked)
        session.add(friend)
        session.commit()
    clock.now = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    drive(runtime, clock, until=datetime(2026, 12, 4, 0, 0, tzinfo=UTC))
    got = handed_over(runtime, LONDON)
    assert got == {
        date(2026, 12, 2): datetime(2026, 12, 2, 6, 30, tzinfo=UTC),
        date(2026, 12, 3): datetime(2026, 12, 3, 6, 30, tzinfo=UTC),
    }
    # 1 December passed before the clock started, more than the grace ago: missed, with why.
    with runtime.session() as session:
        missed = session.exec(select(Delivery).where(Delivery.day == date(2026, 12, 1))).one()
    assert missed.status == "missed" and "grace window" in (missed.error_reason or "")


def test_on_the_shipped_schedule_sydney_and_toronto_each_get_every_post_once_in_their_morning(runtime, clock):
    """The issue's own words: the shipped calendar, 1 to 24 December, at 08:00 their time."""
    join_at(runtime, SYDNEY, datetime(2026, 11, 29, 12, 0, tzinfo=UTC), zone="Australia/Sydney")
    join_at(runtime, TORONTO, datetime(2026, 11, 29, 12, 0, tzinfo=UTC))  # America/Toronto, from +1 416
    clock.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    drive(runtime, clock, until=datetime(2026, 12, 26, tzinfo=UTC))
    for phone, zone in ((SYDNEY, "Australia/Sydney"), (TORONTO, "America/Toronto")):
        got = handed_over(runtime, phone)
        assert sorted(got) == runtime.schedule().days(), phone
        for day, at in got.items():
            local = at.astimezone(ZoneInfo(zone))
            assert (local.date(), f"{local:%H:%M}") == (day, "08:00"), (phone, day, local)
