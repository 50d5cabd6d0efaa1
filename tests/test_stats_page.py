"""The Stats page: the funnel, joins and stops, replies, each chart with its numbers as text;
and the CSV exports a spreadsheet opens safely. After real sends on the simulator."""

from __future__ import annotations

import csv
import io
import re

import pytest

from advent.organiser.exports import safe_cell
from tests.stats_helpers import FORMULA, table_rows, two_days_sent

# Day 3 is "not sent yet" at 09:00 on 3 December here: the clock is not running, and at
# each friend's own morning a rehearsal text would send that friend's day 3 as the clock would.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")


@pytest.fixture
def sent(runtime, clock):
    two_days_sent(runtime, clock)


def chart_values(html: str, chart_id: str) -> dict[str, list[int]]:
    """What each series of one inline pygal chart draws: legend name -> its bars' values."""
    figure = re.search(rf'<figure class="chart" id="{chart_id}">(.*?)</figure>', html, re.S)
    assert figure, f"no chart {chart_id}"
    svg = figure.group(1)
    assert svg.startswith("<svg") and "<script" not in svg  # inline, nothing fetched
    names = re.findall(r'<g id="activate-serie-\d+"[^>]*>.*?<text[^>]*>([^<]+)</text>', svg, re.S)
    parts = re.split(r'<g class="series serie-\d+ color-\d+">', svg)[1:]
    values = [[int(v) for v in re.findall(r'<desc class="value">(\d+)</desc>', part)] for part in parts]
    return dict(zip(names, values, strict=True))


def test_the_funnel_chart_and_its_table_show_each_days_counts(organiser, sent):
    page = organiser.get("/stats")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # 1 December: five friends, all delivered, the two on WhatsApp read it (SMS has no read
    # receipts). One said STOP before 2 December, so four were planned that day.
    assert chart_values(html, "funnel-chart") == {
        "planned": [5, 4],
        "sent": [5, 4],
        "delivered": [5, 4],
        "read": [2, 2],
    }
    assert table_rows(html, "funnel-numbers") == [
        ["2026-12-01", "5", "5", "5", "2", "0"],
        ["2026-12-02", "4", "4", "4", "2", "0"],
    ]
    assert 'href="/days/advent-2026/2026-12-01"' in html


def test_joins_stops_and_replies_are_charted_by_date_with_their_numbers(organiser, sent):
    html = organiser.get("/stats").get_data(as_text=True)
    assert chart_values(html, "people-chart") == {"joined": [5, 0, 0, 0], "stopped": [0, 0, 0, 1]}
    assert table_rows(html, "people-numbers") == [
        ["2026-11-30", "5", "0"],
        ["2026-12-01", "0", "0"],
        ["2026-12-02", "0", "0"],
        ["2026-12-03", "0", "1"],
    ]
    assert chart_values(html, "replies-chart") == {"replies": [2]}
    assert table_rows(html, "replies-numbers") == [["2026-12-03", "2"]]


def test_charts_are_named_for_screen_readers_and_their_numbers_are_in_a_details(organiser, sent):
    html = organiser.get("/stats").get_data(as_text=True)
    assert 'role="img" aria-label="Each day&#39;s post: planned, sent, delivered and read"' in html
    assert html.count("<details>") == 3 and html.count('<th scope="col">') >= 11


def test_before_anything_is_sent_the_page_says_so_plainly(organiser):
    html = organiser.get("/stats").get_data(as_text=True)
    assert "No day has been sent yet." in html and "Nobody has joined yet." in html
    assert "<svg" not in html


def test_an_unknown_campaign_is_a_404_not_an_error(organiser):
    assert organiser.get("/stats?campaign=nope").status_code == 404
    assert organiser.get("/stats/passwords.csv").status_code == 404


def read_csv(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff"), "a spreadsheet needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_deliveries_csv_downloads_with_masked_numbers(organiser, sent):
    response = organiser.get("/stats/deliveries.csv")
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="advent-deliveries-2026-12-03.csv"'
    )
    rows = read_csv(response)
    assert len(rows) == 9  # five on 1 December, four on the 2nd
    assert list(rows[0])[:7] == ["campaign", "day", "kind", "name", "number", "channel", "status"]
    assert {r["number"] for r in rows} == {"'+44•••••••000", "'+44•••••••001", "'+44•••••••002"}
    read = [r for r in rows if r["status"] == "read"]
    assert len(read) == 4 and all(r["channel"] == "whatsapp" and r["read_at"] for r in read)
    assert "7911100000" not in response.data.decode()


def test_the_people_csv_lists_everyone_with_their_status(organiser, sent):
    rows = read_csv(organiser.get("/stats/people.csv"))
    assert sorted(r["status"] for r in rows) == ["active"] * 4 + ["stopped"]
    stopped = next(r for r in rows if r["status"] == "stopped")
    assert stopped["stopped_at"] == "2026-12-03T09:00:00+00:00"
    assert all("•••" in r["number"] for r in rows)


def test_the_replies_csv_defuses_a_reply_that_a_spreadsheet_would_run(organiser, sent):
    response = organiser.get("/stats/replies.csv")
    rows = read_csv(response)
    texts = sorted(r["text"] for r in rows)
    assert texts == ["'" + FORMULA, "Thank you, lovely"]
    assert all(r["answers_day"] == "2026-12-02" for r in rows)
    assert "7911200000" not in response.data.decode()


@pytest.mark.parametrize("text", ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


def test_ordinary_text_and_counts_are_left_alone():
    assert safe_cell("Thank you = lovely") == "Thank you = lovely"
    assert safe_cell(3) == 3
    assert safe_cell(None) == ""
