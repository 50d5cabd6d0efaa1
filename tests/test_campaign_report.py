"""A campaign's report, the organiser's learnings: each day's post and what it drew, the posts
with the most replies, joins over time; as a page and as a CSV. After real sends on the
simulator (tests/stats_helpers.py: five friends, two days sent, a STOP, two replies)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.stats_helpers import table_rows, two_days_sent

pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")


@pytest.fixture
def sent(runtime, clock):  # type: ignore[no-untyped-def]
    two_days_sent(runtime, clock)


def test_the_report_names_the_posts_with_the_most_replies(organiser, sent) -> None:
    page = organiser.get("/report/advent-2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>What Advent of Kindness taught us</h1>" in html
    # Both replies came after day 2 had gone: they answer it.
    assert table_rows(html, "most-replied") == [["Day 2", "An old friend", "2"]]
    assert "<caption>The posts that drew the most replies, most first</caption>" in html


def test_the_report_gives_each_day_sent_delivered_read_rate_replies_and_stops(organiser, sent) -> None:
    html = organiser.get("/report/advent-2026").get_data(as_text=True)
    rows = table_rows(html, "report-days")
    assert len(rows) == 24
    # Every WhatsApp post delivered was read; the STOP came on 3 December, before its post.
    assert rows[:4] == [
        ["Day 1 2026-12-01", "Welcome", "5", "5", "100%", "0", "0"],
        ["Day 2 2026-12-02", "An old friend", "4", "4", "100%", "2", "0"],
        ["Day 3 2026-12-03", "Ten minutes outside", "0", "0", "–", "0", "1"],
        ["Day 4 2026-12-04", rows[3][1], "0", "0", "–", "0", "0"],
    ]
    assert "9 posts sent, 9 delivered; 2 replies to the posts; 1 stops." in html


def test_the_report_shows_joins_over_time(organiser, sent) -> None:
    html = organiser.get("/report/advent-2026").get_data(as_text=True)
    assert table_rows(html, "report-joins") == [
        ["2026-11-30", "5", "0"],
        ["2026-12-01", "0", "0"],
        ["2026-12-02", "0", "0"],
        ["2026-12-03", "0", "1"],
    ]


def test_the_report_downloads_as_a_spreadsheet_one_row_a_date(organiser, sent) -> None:
    answer = organiser.get("/report/advent-2026.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="advent-report-advent-2026.csv"' in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == [
        "date", "day", "title", "sent", "delivered", "read_rate_percent", "replies", "joins", "stops",
    ]  # fmt: skip
    assert rows[1] == ["2026-11-30", "", "", "", "", "", "", "5", "0"]
    assert rows[2] == ["2026-12-01", "1", "Welcome", "5", "5", "100", "0", "0", "0"]
    assert rows[3] == ["2026-12-02", "2", "An old friend", "4", "4", "100", "2", "0", "0"]
    assert rows[4] == ["2026-12-03", "3", "Ten minutes outside", "0", "0", "", "0", "0", "1"]
    assert len(rows) == 1 + 1 + 24
    assert "+44" not in text  # counts only


def test_a_title_a_spreadsheet_would_run_is_defused_in_the_csv(organiser, project: Path) -> None:
    path = project / "messages" / "advent-2026" / "01.md"
    path.write_text(path.read_text().replace('title: "Welcome"', 'title: "=1+1"'))
    text = organiser.get("/report/advent-2026.csv").get_data(as_text=True)
    assert ",'=1+1," in text


def test_the_stats_page_links_to_each_campaigns_report(organiser) -> None:
    html = organiser.get("/stats").get_data(as_text=True)
    assert '<a href="/report/advent-2026">The advent-2026 report</a>' in html


def test_an_unknown_campaign_has_no_report(organiser) -> None:
    assert organiser.get("/report/advent-1999").status_code == 404
    assert organiser.get("/report/advent-1999.csv").status_code == 404


def test_the_report_needs_sign_in(client) -> None:
    assert client.get("/report/advent-2026").headers["Location"].startswith("/login")
    assert client.get("/report/advent-2026.csv").headers["Location"].startswith("/login")
