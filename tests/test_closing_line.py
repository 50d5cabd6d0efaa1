"""A campaign that ends well: the last day's post ends with the closing line from replies.toml
(that was the last one, thank you, nothing more will come), in the same message, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from advent.content.posts import load_post
from advent.content.replies import RepliesError, load_replies
from advent.content.replies_check import check_replies
from advent.people.subscriptions import join
from advent.sending.days import send_day
from advent.sending.templates import create_templates, refresh_templates, submit_templates
from tests.test_whatsapp_variables import check, write_post

LAST_DAY = date(2026, 12, 24)
CLOSING = (
    "That was the last one of Advent of Kindness: nothing more will come from us. Thank you for reading."
)
FRIEND = "+447911123456"


def replies_file(project: Path) -> Path:
    return project / "messages" / "advent-2026" / "replies.toml"


def set_closing(project: Path, words: str) -> None:
    path = replies_file(project)
    lines = [
        f"closing = {words!r}" if line.startswith("closing =") else line
        for line in path.read_text().splitlines()
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def last_morning(clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)


def test_the_last_post_ends_with_the_closing_line_in_the_same_message_once(
    runtime, schedule, sender, simulator, friends, last_morning, one_moment_for_everyone
) -> None:
    post = load_post(runtime.settings.messages_dir, schedule, LAST_DAY)
    send_day(sender, schedule, LAST_DAY, post)
    send_day(sender, schedule, LAST_DAY, post)  # by hand again: nothing more goes
    (received,) = simulator.received_by(FRIEND)
    assert received["body"].startswith("Day 24, the last door.")
    assert received["body"].endswith("\n\n" + CLOSING)


def test_no_other_day_says_it_was_the_last(runtime, schedule) -> None:
    for day in schedule.days()[:-1]:
        post = load_post(runtime.settings.messages_dir, schedule, day)
        assert post.closing is None and "nothing more will come" not in post.text


def test_outside_the_whatsapp_window_the_closing_line_rides_in_the_approved_template(
    runtime, schedule, sender, simulator, clock, last_morning
) -> None:
    session = sender.session
    posts = [load_post(runtime.settings.messages_dir, schedule, day) for day in schedule.days()]
    create_templates(
        session,
        simulator,
        schedule,
        posts,
        organiser="Sam",
        language="en",
        category="utility",
        per_post=False,
        now=clock(),
    )
    submit_templates(session, simulator, schedule.campaign, clock())
    clock.advance(3600)
    refresh_templates(session, simulator, schedule.campaign, clock())
    friend = join(
        session,
        schedule,
        phone=FRIEND,
        channel="whatsapp",
        method="keyword",
        now=clock() - timedelta(days=20),
    ).subscriber
    friend.last_inbound_at = clock() - timedelta(days=20)  # their window closed long ago
    session.add(friend)
    session.commit()
    send_day(sender, schedule, LAST_DAY, posts[-1])
    (received,) = simulator.received_by(FRIEND)
    assert received["template_sid"] is not None
    assert "glad you did. Keep the small kindnesses going. " + CLOSING in received["body"]


def test_a_last_post_too_long_to_carry_the_closing_line_in_a_template_goes_without_it_and_the_check_says_so(
    project, runtime, schedule
) -> None:
    long_post = "Day 24, the last door. " + "You matter, every day of the year. " * 6
    write_post(project, 24, long_post.strip())
    result = check(project)
    assert "day 24: with the closing line it is" in result.output
    assert (
        "so friends outside the 24-hour window would get the post without the closing line" in result.output
    )
    post = load_post(runtime.settings.messages_dir, schedule, LAST_DAY)
    from advent.sending.templates import ApprovedTemplate

    assert ApprovedTemplate("HX" + "0" * 32, "daily").variables(post) == {"1": long_post.strip()}


def test_the_last_door_shows_the_closing_line_and_counts_it_in_the_cost(organiser, friends) -> None:
    page = organiser.get("/days/advent-2026/2026-12-24").get_data(as_text=True)
    assert "Keep the small kindnesses going.\n\nThat was the last one of Advent of Kindness" in page
    assert "<dt>Characters</dt><dd>252</dd>" in page


def test_a_closing_line_that_asks_or_forgets_to_say_it_was_the_last_is_warned_of(
    project, runtime, schedule
) -> None:
    set_closing(project, "Did you enjoy {title}? Thank you!")
    (report,) = [r for r in check_replies(runtime.settings.messages_dir, schedule) if r.reply == "closing"]
    assert "closing: lacks LAST, which this reply must include" in report.warnings
    assert "closing: lacks NOTHING MORE, which this reply must include" in report.warnings
    assert any(w.startswith("closing: asks a question") for w in report.warnings)


def test_a_closing_line_with_the_organisers_name_is_refused_naming_the_file(
    project, runtime, schedule
) -> None:
    set_closing(project, "That was the last one from {organiser}: nothing more will come. Thank you.")
    with pytest.raises(RepliesError, match=r"replies.toml: closing: \{organiser\} cannot fill in there"):
        load_replies(runtime.settings.messages_dir, schedule)


def test_a_replies_file_without_a_closing_line_ends_the_last_post_with_the_built_in_words(
    project, runtime, schedule
) -> None:
    path = replies_file(project)
    path.write_text(
        "\n".join(line for line in path.read_text().splitlines() if not line.startswith("closing ="))
    )
    post = load_post(runtime.settings.messages_dir, schedule, LAST_DAY)
    assert post.text.endswith(
        "That was the last one: Advent of Kindness has ended and nothing more will come from us. "
        "Thank you for reading along."
    )
