"""Consent is per campaign: next year's calendar never reaches this year's list until a friend
says yes to it, by answering an invite (double opt-in), and nobody who said STOP is asked."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from advent.cli import main
from advent.content.posts import load_post
from advent.providers.simulator import Simulator
from advent.sending.days import send_day
from advent.sending.sweep import sweep
from tests.conftest import Clock

ANNA, BEN, CLEO = "+447911123456", "+447911123457", "+447911123458"
FIRST_2027 = date(2027, 12, 1)


@pytest.fixture
def project(project: Path) -> Path:
    """The shipped advent-2026 and, beside it, next year's advent-2027 with its own keyword."""
    shutil.copytree(project / "messages" / "advent-2026", project / "messages" / "advent-2027")
    text = (project / "schedules" / "advent-2026.toml").read_text(encoding="utf-8")
    for old, new in [
        ('campaign = "advent-2026"', 'campaign = "advent-2027"'),
        ('content = "advent-2026"', 'content = "advent-2027"'),
        ("2026-12-01", "2027-12-01"),
        ("2026-12-24", "2027-12-24"),
        ('join_keyword = "HAPPY"', 'join_keyword = "KIND"'),
    ]:
        assert old in text
        text = text.replace(old, new)
    (project / "schedules" / "advent-2027.toml").write_text(text, encoding="utf-8")
    return project


def run(runtime, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), obj=runtime, catch_exceptions=False)


def text_in(runtime, clock: Clock, when: datetime, phone: str, words: str) -> str:  # type: ignore[no-untyped-def]
    clock.now = when
    done = run(runtime, "phone", phone, words)
    assert done.exit_code == 0, done.output
    return done.output


def kinds_to(simulator: Simulator, phone: str) -> list[str]:
    return [m.kind for m in simulator.phone.messages_to(phone)]


@pytest.fixture
def friends_of_2026(runtime, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    """Anna and Ben joined advent-2026 and stayed; Cleo joined and said STOP."""
    november = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for phone in (ANNA, BEN, CLEO):
        assert "you're in" in text_in(runtime, clock, november, phone, "HAPPY")
    text_in(runtime, clock, november, CLEO, "STOP")


def the_first_morning_of_2027(runtime, sender, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    """The clock's pass at 09:00 London on 1 December 2027, after each friend's 08:00."""
    clock.now = datetime(2027, 12, 1, 9, 0, tzinfo=UTC)
    sweep(sender, runtime.schedules, runtime.settings.messages_dir)


def test_no_message_to_a_previous_campaigns_list_at_each_friends_morning(
    runtime, sender, simulator, clock, friends_of_2026
) -> None:
    the_first_morning_of_2027(runtime, sender, clock)
    for phone in (ANNA, BEN, CLEO):
        assert "post" not in kinds_to(simulator, phone)


def test_no_message_to_a_previous_campaigns_list_when_the_day_is_sent_by_hand(
    runtime, sender, simulator, clock, friends_of_2026
) -> None:
    runtime.schedules = [s.model_copy(update={"timing": "schedule"}) for s in runtime.schedules]
    clock.now = datetime(2027, 12, 1, 9, 0, tzinfo=UTC)
    schedule = runtime.schedule("advent-2027")
    result = send_day(
        sender, schedule, FIRST_2027, load_post(runtime.settings.messages_dir, schedule, FIRST_2027)
    )
    assert result.planned == 0
    for phone in (ANNA, BEN, CLEO):
        assert "post" not in kinds_to(simulator, phone)


def test_last_years_friends_are_invited_back_and_only_those_who_answer_get_next_years_posts(
    runtime, sender, simulator, clock, friends_of_2026
) -> None:
    clock.now = datetime(2027, 11, 20, 10, 0, tzinfo=UTC)
    done = run(
        runtime, "subscribers", "invite", "--from-campaign", "advent-2026", "--campaign", "advent-2027"
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "Invited 2 of advent-2026's friends to advent-2027.",
        "Not invited: 1 said STOP; never invited again.",
        "Nobody is on advent-2027's list until they reply KIND.",
    ]
    assert kinds_to(simulator, CLEO) == ["reply", "reply"]  # her welcome and her STOP's answer
    (invite,) = [m for m in simulator.phone.messages_to(ANNA) if m.kind == "invite"]
    assert "reply KIND" in invite.body
    # Anna says yes; Ben lets it be.
    assert "you're in" in text_in(runtime, clock, datetime(2027, 11, 21, 10, 0, tzinfo=UTC), ANNA, "KIND")
    the_first_morning_of_2027(runtime, sender, clock)
    assert kinds_to(simulator, ANNA).count("post") == 1
    assert "post" not in kinds_to(simulator, BEN)
    assert "post" not in kinds_to(simulator, CLEO)


def test_a_plain_yes_answers_the_invite_it_was_sent_with(runtime, simulator, clock, friends_of_2026) -> None:
    clock.now = datetime(2027, 11, 20, 10, 0, tzinfo=UTC)
    run(runtime, "subscribers", "invite", "--from-campaign", "advent-2026", "--campaign", "advent-2027")
    answer = text_in(runtime, clock, datetime(2027, 11, 21, 10, 0, tzinfo=UTC), BEN, "YES")
    assert "Advent of Kindness from Sam: you're in" in answer and "1 Dec to 24 Dec" in answer
    people = json.loads(run(runtime, "subscribers", "list", "--campaign", "advent-2027", "--json").output)
    assert {(p["status"], p["history"][-1]["method"]) for p in people if p["status"] == "active"} == {
        ("active", "invite_reply")
    }


def test_asking_back_twice_within_the_cooldown_invites_nobody_again(
    runtime, simulator, clock, friends_of_2026
) -> None:
    clock.now = datetime(2027, 11, 20, 10, 0, tzinfo=UTC)
    args = ("subscribers", "invite", "--from-campaign", "advent-2026", "--campaign", "advent-2027")
    run(runtime, *args)
    clock.now = datetime(2027, 11, 22, 10, 0, tzinfo=UTC)
    again = run(runtime, *args).output
    assert "Invited 0 of advent-2026's friends to advent-2027." in again
    assert "Not invited: 2 already invited recently (ADVENT_INVITE_COOLDOWN_DAYS)." in again
    assert kinds_to(simulator, ANNA).count("invite") == 1


def test_inviting_back_from_an_unknown_campaign_says_nobody_was_on_it(runtime, clock) -> None:
    clock.now = datetime(2027, 11, 20, 10, 0, tzinfo=UTC)
    done = CliRunner().invoke(
        main,
        ["subscribers", "invite", "--from-campaign", "advent-1999", "--campaign", "advent-2027"],
        obj=runtime,
    )
    assert done.exit_code == 1
    assert "Nobody invited: nobody was ever on advent-1999's list." in done.output
