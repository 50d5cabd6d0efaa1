"""A campaign's report, the organiser's learnings once it is over (or while it runs): each
day's post, how far it got and what it drew back (replies, stops); the posts that drew the
most replies; and when people joined.

Built from the numbers the calendar and the Stats page already count (counts_by_day, and
report.py's joins, stops and replies), each one grouped query, so it costs the same for
ten friends or ten thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session

from advent.content.posts import post_path, read_post_file
from advent.content.schedules import Schedule
from advent.organiser.calendar import DayCounts, counts_by_day
from advent.organiser.report import PeopleDay, people_by_date, replies_by_post

# The posts worth rereading: those that drew the most replies, at most this many.
MOST_REPLIED = 5


@dataclass(frozen=True)
class ReportDay:
    number: int
    day: date
    title: str | None
    sent: int
    delivered: int
    read_rate: int | None  # percent of WhatsApp posts delivered that were read; None: none
    replies: int  # replies answering this day's post
    stops: int  # STOPs (and carriers' opt-outs) that came on this date, UTC


@dataclass(frozen=True)
class CampaignReport:
    schedule: Schedule
    days: list[ReportDay]
    most_replied: list[ReportDay]
    joins: list[PeopleDay]  # joins and stops by date, from the first to the last

    @property
    def totals(self) -> ReportDay:
        days = self.days
        return ReportDay(
            0,
            self.schedule.last_day,
            None,
            sum(d.sent for d in days),
            sum(d.delivered for d in days),
            None,
            sum(d.replies for d in days),
            sum(p.stops for p in self.joins),
        )


def _title(messages_dir: Path, schedule: Schedule, number: int) -> str | None:
    path = post_path(messages_dir, schedule, number)
    post = read_post_file(path, schedule.campaign).post if path.is_file() else None
    return post.title if post else None


def campaign_report(session: Session, schedule: Schedule, messages_dir: Path) -> CampaignReport:
    """The report on one campaign, every day of it (a day not sent yet counts zero)."""
    counts = counts_by_day(session, schedule.campaign)
    replies = replies_by_post(session, schedule.campaign)
    people = people_by_date(session, schedule.campaign)
    stops = {p.day: p.stops for p in people}
    days = []
    for number, day in enumerate(schedule.days(), start=1):
        got = counts.get(day, DayCounts())
        days.append(
            ReportDay(
                number,
                day,
                _title(messages_dir, schedule, number),
                got.sent,
                got.delivered,
                got.read_rate,
                replies.get(day, 0),
                stops.get(day, 0),
            )
        )
    # Most replies first; on a tie, the earlier day (it had longer to draw them).
    ranked = sorted((d for d in days if d.replies), key=lambda d: (-d.replies, d.number))
    return CampaignReport(schedule, days, ranked[:MOST_REPLIED], people)
