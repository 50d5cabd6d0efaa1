"""The canary: the evening before each day, the organiser's own phone gets the day's post as
friends will get it, marked as a preview, so a typo, a broken link or a post that cannot be
sent is caught by one person before the whole list sees it. Replying HOLD holds the day
(advent.people.organiser_commands).

Once per day (the text's ref is "canary"), at the schedule's `canary_time` (18:00 by default,
in the schedule's timezone), planned by the clock's sweep and sent like any text to the
organiser: paced, receipted, never in their night. A preview whose evening has gone (after
midnight, or in the organiser's night: the clock was not running at its time) is not sent: it
would arrive with the post itself.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session

from advent.content.posts import ContentError, Post, load_post
from advent.content.schedules import Schedule
from advent.organiser.own_phone import plan_text
from advent.sending.mornings import is_night, morning_of
from advent.store.tables import Subscriber

REF = "canary"


def preview_text(schedule: Schedule, post: Post, day: date) -> str:
    """The post as friends get it, between a line that says it is a preview and the HOLD hint."""
    when = (
        f"{schedule.send_time:%H:%M} each friend's own time"
        if schedule.for_each_friend
        else f"{schedule.send_time:%H:%M} {schedule.timezone}"
    )
    media = f"\n{post.media_url}" if post.media_url else ""
    return (
        f"Preview of tomorrow's {schedule.title}, day {schedule.day_number(day)} "
        f"({day:%a} {day.day} {day:%b}), as friends get it at {when}:\n\n"
        f"{post.text}{media}\n\nReply HOLD to hold it."
    )


def _broken_text(schedule: Schedule, day: date, error: ContentError) -> str:
    first = (str(error).splitlines() or [""])[0][:160]
    return (
        f"Preview of tomorrow's {schedule.title}, day {schedule.day_number(day)}: it cannot "
        f"be sent ({first}). Fix it before {schedule.send_time:%H:%M}, or `advent content check`."
    )


def plan_canaries(
    session: Session, organiser: Subscriber, schedules: list[Schedule], messages_dir: Path, now: datetime
) -> int:
    """Plan tomorrow's preview to the organiser's phone for each schedule whose evening has
    come; commits. Returns how many were planned."""
    planned = 0
    for schedule in schedules:
        tomorrow = schedule.local_date(now) + timedelta(days=1)
        evening = datetime.combine(tomorrow - timedelta(days=1), schedule.canary_time, tzinfo=schedule.tz)
        if not schedule.runs_on(tomorrow) or now < evening:
            continue
        if now >= datetime.combine(tomorrow, time(0, 0), tzinfo=schedule.tz) or is_night(
            schedule, morning_of(schedule, organiser, own=True), now, always=True
        ):
            continue  # held for the organiser's morning, it would come with the post itself
        try:
            body = preview_text(schedule, load_post(messages_dir, schedule, tomorrow), tomorrow)
        except ContentError as error:
            body = _broken_text(schedule, tomorrow, error)
        planned += plan_text(session, organiser, schedule.campaign, tomorrow, REF, body, now)
    session.commit()
    return planned
