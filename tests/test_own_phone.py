"""The organiser's own phone (issue 12, point 1): what needs them now is texted to
ADVENT_ORGANISER_PHONE through the same sender as the posts (paced, receipted), once, never
counted with the friends' posts, never listed among the friends, and never in their night."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from advent.cli import main
from advent.config import ConfigError, load_settings
from advent.organiser.alerts import alert
from advent.organiser.calendar import counts_by_day
from advent.organiser.doctor import organiser_phone_findings
from advent.organiser.own_phone import texts_sent
from advent.receipts import collect_receipts
from advent.sending.dispatch import Sender
from advent.store.tables import Subscriber
from tests.helpers import ORGANISER_PHONE, sweep_at

DEC_3 = date(2026, 12, 3)


def test_the_phone_is_read_in_full_and_a_bad_one_is_named_with_the_fix(project):
    settings = load_settings(
        _env_file=None, ADVENT_ORGANISER_PHONE="07911 900900", ADVENT_DEFAULT_REGION="GB"
    )
    assert settings.organiser_phone == ORGANISER_PHONE
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, ADVENT_ORGANISER_PHONE="my mobile")
    assert "ADVENT_ORGANISER_PHONE" in str(refused.value) and "+447911123456" in str(refused.value)


def test_doctor_says_whether_urgent_alerts_can_reach_the_organiser(runtime, with_phone):
    (unset,) = organiser_phone_findings(runtime.settings.model_copy(update={"organiser_phone": ""}), None)
    assert unset.level == "warn" and "ADVENT_ORGANISER_PHONE" in unset.text
    (set_,) = organiser_phone_findings(with_phone.settings, with_phone.provider)
    assert set_.level == "ok" and "+44•••••••900" in set_.text and ORGANISER_PHONE not in set_.text


def test_a_failed_day_is_texted_to_the_organiser_once_with_ticks_and_counted_nowhere(
    with_phone, schedule, simulator, clock
):
    runtime = with_phone
    with runtime.session() as session:
        alert(session, schedule.campaign, "day_failed", "day 3: 03.md is missing", clock(), day=DEC_3)
        session.commit()
    sweep_at(runtime, clock())
    sweep_at(runtime, clock() + timedelta(seconds=30))  # the next sweep texts nothing again

    received = simulator.phone.messages_to(ORGANISER_PHONE)
    assert [(m.channel, m.body) for m in received] == [
        ("sms", "Advent of Kindness, for you: day 3: 03.md is missing")
    ]
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, clock() + timedelta(minutes=5))
        (text,) = texts_sent(session)
        assert text.status == "delivered"  # receipted like any post
        # Not a post of the campaign: the day's door counts nothing for it.
        assert counts_by_day(session, schedule.campaign).get(DEC_3) is None
        organiser_row = session.exec(select(Subscriber).where(Subscriber.phone == ORGANISER_PHONE)).one()
        assert organiser_row.campaign == "organiser"


def test_the_organiser_is_not_listed_among_the_friends(with_phone, schedule, friends, clock, organiser):
    with with_phone.session() as session:
        alert(session, schedule.campaign, "day_failed", "day 3 failed", clock(), day=DEC_3)
        session.commit()
    sweep_at(with_phone, clock())
    with with_phone.session() as session:  # their row exists: they were texted
        assert session.exec(select(Subscriber).where(Subscriber.phone == ORGANISER_PHONE)).one()

    page = " ".join(organiser.get("/people").get_data(as_text=True).split())
    assert "+44•••••••900" not in page
    assert "+44•••••••456" in page and "+44•••••••123" in page
    assert "900900" not in organiser.get("/stats/people.csv").get_data(as_text=True)
    listed = CliRunner().invoke(main, ["subscribers", "list", "--full-numbers"], obj=with_phone)
    assert ORGANISER_PHONE not in listed.output and friends[0] in listed.output


def test_an_alert_in_the_organisers_night_waits_for_their_morning(with_phone, schedule, simulator):
    night = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    with with_phone.session() as session:
        alert(session, schedule.campaign, "day_failed", "day 4 failed", night, day=date(2026, 12, 4))
        session.commit()
    sweep_at(with_phone, night)
    assert simulator.phone.messages_to(ORGANISER_PHONE) == []
    sweep_at(with_phone, datetime(2026, 12, 4, 8, 0, 30, tzinfo=UTC))
    assert len(simulator.phone.messages_to(ORGANISER_PHONE)) == 1


def test_alerts_that_can_wait_are_not_texted(with_phone, schedule, simulator, clock):
    with with_phone.session() as session:
        alert(session, schedule.campaign, "list_full", "the list is full", clock())
        session.commit()
    sweep_at(with_phone, clock())
    assert simulator.phone.messages_to(ORGANISER_PHONE) == []


def test_a_new_number_in_settings_retires_the_old_one(with_phone, schedule, simulator, clock):
    with with_phone.session() as session:
        alert(session, schedule.campaign, "day_failed", "day 3 failed", clock(), day=DEC_3)
        session.commit()
    sweep_at(with_phone, clock())
    with_phone.settings = with_phone.settings.model_copy(update={"organiser_phone": "+447911900901"})
    with with_phone.session() as session:
        alert(session, schedule.campaign, "missed_day", "day 2 missed", clock(), day=date(2026, 12, 2))
        session.commit()
    sweep_at(with_phone, clock() + timedelta(minutes=1))
    # The old number gets nothing more; the new one is told what is open now.
    assert [m.body for m in simulator.phone.messages_to(ORGANISER_PHONE)] == [
        "Advent of Kindness, for you: day 3 failed"
    ]
    assert sorted(m.body for m in simulator.phone.messages_to("+447911900901")) == [
        "Advent of Kindness, for you: day 2 missed",
        "Advent of Kindness, for you: day 3 failed",
    ]


def test_a_reply_that_may_signal_distress_reaches_the_organisers_phone_at_once(
    with_phone, friends, simulator, clock
):
    from advent.people.rehearsal import text_as_friend

    with with_phone.session() as session:
        sender = Sender(session, with_phone.provider, with_phone.settings, clock=clock)
        texted = text_as_friend(
            sender,
            with_phone.provider.phone,
            friends[0],
            "honestly I can't go on",
            whatsapp=False,
            schedules=with_phone.schedules,
            settings=with_phone.settings,
        )
    assert texted.answer.text is not None and "Samaritans" in texted.answer.text
    (text,) = [m.body for m in simulator.phone.messages_to(ORGANISER_PHONE) if "go on" in m.body]
    # Who (masked) and what they wrote, never the whole number.
    assert "+44•••••••456" in text and "can't go on" in text and friends[0] not in text
