"""The sweep: every 30 seconds, send what became due without waiting for a day's send time.

Late joiners, retries whose backoff has passed, WhatsApp posts to re-send as the template, the
rest of a day whose sender stopped, invites left waiting, texts to the organiser's own phone
(the daily digest among them);
and, for a schedule sending at each friend's own morning, one pass of it (joins and TIME
changes come from the web workers).
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from advent.content.posts import ContentError, load_post
from advent.content.schedules import Schedule
from advent.organiser.canary import plan_canaries
from advent.organiser.digest import plan_digest
from advent.organiser.own_phone import organiser_row, text_new_alerts
from advent.sending.days import send_day
from advent.sending.dispatch import Sender, dispatch_day
from advent.sending.each_morning import send_due_posts
from advent.sending.invites import send_invites, send_texts
from advent.states.day_runs import DayRunStatus
from advent.store.tables import DayRun


def sweep(
    sender: Sender,
    schedules: list[Schedule],
    messages_dir: Path,
    busy: frozenset[str] = frozenset(),
    friends: frozenset[int] | None = None,
) -> list[str]:
    """Send what is due now: at each friend's own morning, one pass (advent.sending.each_morning);
    otherwise, on today's post: late joiners, retries whose backoff has passed,
    WhatsApp posts to re-send as the template, and the rest of a day whose sender stopped; and
    invites left waiting. Never waits. `busy`: campaigns a job of this process is sending right
    now. `friends`: at friends' mornings, plan only these friends' posts (a rehearsal text).
    Returns one line per day that sent something."""
    lines = []
    # What needs the organiser now (advent.organiser.own_phone), tomorrow's preview and, once a
    # day at its time, the digest of yesterday: planned here, sent below.
    now, settings = sender.clock(), sender.settings
    organiser = organiser_row(sender.session, settings, schedules, now)
    sender.session.commit()
    if organiser is not None:
        text_new_alerts(sender.session, organiser, schedules, now)
        plan_canaries(sender.session, organiser, schedules, settings.messages_dir, now)
        plan_digest(sender.session, organiser, settings.digest_time, schedules, now)
    for schedule in schedules:
        # Invites a retry or a crash left waiting, whatever the day (often before the calendar).
        if invited := send_invites(sender, schedule, wait_for_retries=False):
            lines.append(f"{schedule.campaign} invites: {invited}")
        if texted := send_texts(sender, schedule, "organiser", wait_for_retries=False):
            lines.append(f"{schedule.campaign} texts to the organiser: {texted}")
        if schedule.for_each_friend:
            if schedule.campaign not in busy:
                done = send_due_posts(sender, schedule, messages_dir, only=friends)
                lines += [line for line in done.lines() if done.handed_over]
            continue
        day = schedule.local_date(sender.clock())
        if not schedule.runs_on(day):
            continue
        run = sender.session.exec(
            select(DayRun).where(DayRun.campaign == schedule.campaign, DayRun.day == day)
        ).first()
        sender.session.commit()
        # A day this process is sending has its dispatcher already (a second one here would
        # double the rate per sender); a day left "sending" by a process that stopped is
        # finished here, once its claims are old enough to settle.
        if (
            run is None
            or run.status not in (DayRunStatus.SENT, DayRunStatus.SENDING)
            or schedule.campaign in busy
        ):
            continue
        try:
            post = load_post(messages_dir, schedule, day)
        except ContentError:
            continue  # recorded as failed when the day was sent
        if run.status == DayRunStatus.SENDING:
            handled = send_day(sender, schedule, day, post, wait_for_retries=False).handled
        else:
            handled = dispatch_day(sender, schedule, day, post, wait_for_retries=False)
        if handled:
            lines.append(f"{schedule.campaign} {day}: {handled}")
    return lines
