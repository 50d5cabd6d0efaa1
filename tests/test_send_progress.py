"""`advent send` shows a progress bar with an ETA on a terminal, and plain lines otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner

from advent.cli import main
from advent.cli.common import ProgressBar, progress_line
from tests.helpers import add_people

JOINED = datetime(2026, 11, 30, tzinfo=UTC)


def test_the_bar_shows_how_far_and_the_time_left_at_the_pace_so_far():
    # 30 people in the first minute: the other 90 take three more at that pace.
    assert progress_line(30, 120, 60.0) == (
        "[######..................]  30 of 120 handed over, about 3 min 00 s left"
    )
    assert progress_line(1, 3, 2.0) == "[########................]  1 of 3 handed over, about 4 s left"
    assert progress_line(100, 1000, 360.0).endswith("about 54 min 00 s left")
    assert progress_line(10, 7200, 10.0).endswith("about 1 h 59 min left")


def test_before_the_first_hand_over_the_pace_is_not_guessed():
    assert (
        progress_line(0, 50, 0.0) == "[........................]  0 of 50 handed over, working out the pace"
    )


def test_a_finished_send_says_how_long_it_took():
    assert progress_line(24, 24, 75.0) == "[########################]  24 of 24 handed over in 1 min 15 s"


def test_the_bar_redraws_one_line_and_ends_it_when_done(capsys):
    seconds = iter([0.0, 2.0, 4.0])  # started, then each hand-over two seconds apart
    bar = ProgressBar(clock=lambda: next(seconds))
    bar(1, 2)
    bar(2, 2)
    shown = capsys.readouterr().err
    assert shown.endswith("\n") and shown.count("\n") == 1  # one line, ended when done
    frames = shown.rstrip("\n").split("\r")[1:]
    assert [frame.rstrip() for frame in frames] == [
        "[############............]  1 of 2 handed over, about 2 s left",
        "[########################]  2 of 2 handed over in 4 s",
    ]
    # The shorter last frame is padded over the longer first one: nothing stale is left.
    assert len(frames[1]) == len(frames[0])


def test_not_on_a_terminal_it_prints_plain_lines(runtime, schedule):
    # A CliRunner's stderr is not a terminal, like a log file or cron's mail.
    add_people(runtime.session(), schedule, 30, JOINED)
    result = CliRunner().invoke(main, ["send", "--date", "2026-12-05"], obj=runtime, catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == ["  handed over 25 of 30", "  handed over 30 of 30"]
    assert "[" not in result.stderr and "\r" not in result.stderr
    assert "30 newly planned, 30 people handed over now" in result.stdout
