"""`advent replies`: the Replies page in the terminal, with the same filters and marking read."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from advent.cli import main
from tests.test_replies_page import ANNA, BEN, send
from tests.webhook_helpers import text_from


@pytest.fixture
def advent(runtime):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), obj=runtime, catch_exceptions=False)

    return run


@pytest.fixture
def two_days_of_replies(client, runtime, sender, schedule, friends, clock):
    send(runtime, sender, schedule, date(2026, 12, 2))
    text_from(client, ANNA, "The walk was lovely")
    send(runtime, sender, schedule, date(2026, 12, 3))
    clock.advance(60)
    text_from(client, BEN, "", NumMedia="1")
    text_from(client, BEN, "STOP")  # a keyword, never listed


def test_lists_replies_newest_first_with_day_and_masked_number(advent, two_days_of_replies):
    result = advent("replies")
    assert result.exit_code == 0
    out = result.output
    assert out.index("[photo or other attachment]") < out.index("The walk was lovely")
    assert "day of 2026-12-02" in out and "day of 2026-12-03" in out
    assert "+44•••••••456" in out and ANNA not in out and "STOP" not in out
    assert out.rstrip().endswith("2 unread.")


def test_filters_by_day_and_unread_and_marks_what_it_listed_as_read(advent, two_days_of_replies):
    rows = json.loads(advent("replies", "--day", "2026-12-02", "--json").output)
    assert [r["text"] for r in rows] == ["The walk was lovely"]
    assert rows[0]["number"] == "+44•••••••456" and rows[0]["read"] is False
    marked = advent("replies", "--day", "2026-12-02", "--mark-read")
    assert "Marked 1 as read." in marked.output and marked.output.rstrip().endswith("1 unread.")
    left = json.loads(advent("replies", "--unread", "--json").output)
    assert [r["day"] for r in left] == ["2026-12-03"]


def test_says_so_when_nothing_matches_and_names_the_date_format(advent, two_days_of_replies):
    assert "No replies match." in advent("replies", "--day", "2026-12-20").output
    bad = CliRunner().invoke(main, ["replies", "--day", "tomorrow"])
    assert bad.exit_code == 2 and "use YYYY-MM-DD" in bad.output


def test_an_empty_list_says_replies_will_come(advent, runtime):
    assert advent("replies").output.startswith("No replies yet.")
