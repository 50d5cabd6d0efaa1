"""The daily digest (issue 12, point 5): yesterday in one text to the organiser's own phone, at
ADVENT_DIGEST_TIME on their own clock.

Yesterday's posts (delivered, read, failed, of how many), the replies, joins and stops, and
what is waiting for the organiser (open alerts, unread replies), counted by the same code as
the calendar and the Stats page, so the text and the dashboard never disagree. Planned by the
sweep once its time has come on the organiser's clock, once a day (the text's key is the date);
sent like every text to them, so a time in their night waits for their morning. Sent on the
mornings after a campaign day only: before and after the campaign there is nothing to count.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from advent.content.schedules import Schedule
from advent.organiser.calendar import DayCounts, counts_by_day
from advent.organiser.own_phone import KIND, LONGEST, plan_text
from advent.organiser.replies import unread_count
from advent.organiser.report import people_by_date, replies_by_date
from advent.sending.mornings import known_zone, parse_hour
from advent.store.tables import Delivery, OrganiserAlert, Subscriber

REF = "digest"


def plan_digest(
    session: Session, organiser: Subscriber, digest_time: str, schedules: list[Schedule], now: datetime
) -> bool:
    """Once the digest's time (ADVENT_DIGEST_TIME) has come today on the organiser's clock,
    write today's digest (about yesterday) for the sweep to send. Commits; True when written."""
    when = parse_hour(digest_time)
    if when is None or not schedules:
        return False
    local = now.astimezone(ZoneInfo(known_zone(organiser.timezone) or schedules[0].timezone))
    today = local.date()
    yesterday = today - timedelta(days=1)
    ran = [s for s in schedules if s.runs_on(yesterday)]
    # Looked up first: the sweep asks every 30 seconds, the counting is done once a day.
    if local.time() < when or not ran or _written(session, organiser, schedules[0].campaign, today):
        return False
    added = plan_text(
        session, organiser, schedules[0].campaign, today, REF, digest_text(session, ran, yesterday), now
    )
    session.commit()
    return added


def _written(session: Session, organiser: Subscriber, campaign: str, today: date) -> bool:
    return (
        session.exec(
            select(Delivery.id).where(
                Delivery.subscriber_id == organiser.id,
                Delivery.campaign == campaign,
                Delivery.day == today,
                Delivery.kind == KIND,
                Delivery.ref == REF,
            )
        ).first()
        is not None
    )


def digest_text(session: Session, schedules: list[Schedule], yesterday: date) -> str:
    """ "Advent of Kindness, yesterday (day 3): 38 of 40 delivered, 12 read, 2 failed; 3 replies;
    1 joined, 0 stopped. For you: 2 open alerts, 5 unread replies." Within two SMS segments."""
    parts = [_campaign_line(session, schedule, yesterday) for schedule in schedules]
    open_alerts = session.exec(
        select(func.count()).select_from(OrganiserAlert).where(OrganiserAlert.resolved_at.is_(None))
    ).one()
    unread = unread_count(session)
    text = (
        " ".join(parts)
        + f" For you: {_n(open_alerts, 'open alert')}, {_n(unread, 'unread reply', 'unread replies')}."
    )
    if len(text) > LONGEST:
        text = text[: LONGEST - 30].rstrip() + "... (more on the Stats page)"
    return text


def _campaign_line(session: Session, schedule: Schedule, yesterday: date) -> str:
    posts = counts_by_day(session, schedule.campaign, yesterday).get(yesterday, DayCounts())
    # Joins, stops and replies by their date in UTC, as the Stats page counts them.
    people = next((p for p in people_by_date(session, schedule.campaign) if p.day == yesterday), None)
    replies = next((r.replies for r in replies_by_date(session, schedule.campaign) if r.day == yesterday), 0)
    sent = posts.planned - posts.not_sent
    return (
        f"{schedule.title}, yesterday (day {schedule.day_number(yesterday)}): {posts.delivered} of "
        f"{sent} delivered, {posts.read} read, {posts.failed} failed; {_n(replies, 'reply', 'replies')}; "
        f"{people.joins if people else 0} joined, {people.stops if people else 0} stopped."
    )


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"
