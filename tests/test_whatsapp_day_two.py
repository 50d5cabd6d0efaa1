"""Issue 13's promise, end to end on the simulator: a friend who joined on day one and never
replied gets day two only once the organiser has made, submitted and had approved a WhatsApp
template with `advent templates`, exactly as on Twilio; before that, the calendar says who
would miss out and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from advent.cli import main
from advent.providers.simulator.templates import Approval
from tests.test_simulator_window import (
    DEC_1,
    DEC_2,
    JOINS_AT,
    post_text,
    posts_on_phone,
    send_and_collect,
    texts,
)

EVENING_BEFORE = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def advent(runtime, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), obj=runtime)
    assert result.exit_code == 0, result.output
    return result.output


def test_day_two_arrives_once_the_template_is_made_submitted_and_approved(runtime, sender, clock, organiser):
    texts(runtime, sender, clock, "HAPPY", JOINS_AT)
    send_and_collect(runtime, sender, clock, DEC_1)

    # The evening before, the calendar tells the organiser plainly who would get nothing.
    clock.now = EVENING_BEFORE
    banner = organiser.get("/").get_data(as_text=True)
    assert "Tomorrow 1 WhatsApp friend will get nothing" in banner
    assert "advent templates create --campaign advent-2026" in banner

    made = advent(runtime, "templates", "create", "--campaign", "advent-2026")
    assert "advent templates submit" in made  # it says what to run next
    advent(runtime, "templates", "submit", "--campaign", "advent-2026")
    clock.advance(timedelta(minutes=5).total_seconds())  # the simulated approval comes through
    status = advent(runtime, "templates", "status", "--campaign", "advent-2026")
    assert "approved" in status
    assert "will get nothing" not in organiser.get("/").get_data(as_text=True)

    day_two = send_and_collect(runtime, sender, clock, DEC_2)  # 25 hours after the friend wrote
    assert (day_two.status, day_two.used_template) == ("read", True)
    # The friend's phone shows the template with the day's post as its variable.
    [first, second] = posts_on_phone(runtime)
    assert first == post_text(runtime, DEC_1)
    assert " ".join(post_text(runtime, DEC_2).split()) in " ".join(second.split())
    assert second.startswith("Today's kind thought from Sam")


def test_a_rejected_template_leaves_day_two_undelivered_and_says_why(runtime, sender, clock):
    texts(runtime, sender, clock, "HAPPY", JOINS_AT)
    send_and_collect(runtime, sender, clock, DEC_1)
    # Rehearse Meta saying no (ADVENT_SIMULATOR_TEMPLATE_VERDICT=reject does the same).
    runtime.provider.templates.approval = Approval(verdict="reject", reason="too generic")
    clock.now = EVENING_BEFORE
    advent(runtime, "templates", "create", "--campaign", "advent-2026")
    advent(runtime, "templates", "submit", "--campaign", "advent-2026")
    clock.advance(timedelta(minutes=5).total_seconds())
    status = advent(runtime, "templates", "status", "--campaign", "advent-2026")
    assert "rejected" in status and "too generic" in status
    day_two = send_and_collect(runtime, sender, clock, DEC_2)
    assert day_two.status == "needs_template"
    assert posts_on_phone(runtime) == [post_text(runtime, DEC_1)]
