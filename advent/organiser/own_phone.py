"""The organiser's own phone (ADVENT_ORGANISER_PHONE): what needs them now is texted there.

The organiser is a subscriber row of their own, in the campaign "organiser" (which no schedule
may use), so a text to them is a delivery like any post: written before it is sent, claimed
once, paced with the posts, its receipts tracked. It is never counted with the friends' posts,
which are kind "post" of a schedule's campaign; and nothing a schedule plans ever reaches that
row. A changed number retires the old row.

What is texted: each new alert of a kind that needs the organiser now (a reply that may signal
distress, a day that failed or was missed, the watchdog's), once, found by the clock's sweep, so a web worker
raising the alert never calls the network itself. Like everything the service starts, it waits
for the organiser's morning if it comes in their night: the friend who wrote has had the
support line at once, and the organiser is not a crisis service.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from advent.config import Settings
from advent.content.schedules import Schedule
from advent.people.phones import address
from advent.people.zones import guess_zone
from advent.states import deliveries, subscribers
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, OrganiserAlert, Subscriber

ORGANISER = "organiser"
KIND = "organiser"
# Alerts that need the organiser now, not the next time they open the dashboard.
# The watchdog's two (a send that stalled, posts not arriving) are among them, and a held day
# whose moment came.
TEXTED_ALERTS = frozenset({"distress", "day_failed", "missed_day", "held_day", "send_late", "few_delivered"})
# An alert older than this when first seen (raised before the phone was set) is not texted.
FRESH = timedelta(hours=24)
# Two SMS segments of plain text: enough for who, what and what to do; the rest is on the page.
LONGEST = 300


def organiser_row(
    session: Session, settings: Settings, schedules: list[Schedule], now: datetime
) -> Subscriber | None:
    """The organiser's row for the phone and channel in settings, made on first use; None when
    no phone is set. A row for an earlier number is retired. The caller commits."""
    wanted = (settings.organiser_phone, settings.organiser_channel)
    found = None
    for row in session.exec(select(Subscriber).where(Subscriber.campaign == ORGANISER)).all():
        if (row.phone, row.channel) == wanted and row.status == SubscriberStatus.ACTIVE:
            found = row
        elif row.status == SubscriberStatus.ACTIVE:
            subscribers.retire_organiser(session, row, now)
    if found is not None or not settings.organiser_phone:
        return found
    made = session.exec(
        select(Subscriber).where(
            Subscriber.campaign == ORGANISER,
            Subscriber.phone == settings.organiser_phone,
            Subscriber.channel == settings.organiser_channel,
        )
    ).first() or Subscriber(
        phone=settings.organiser_phone, channel=settings.organiser_channel, campaign=ORGANISER, created_at=now
    )
    if schedules:
        made.timezone = guess_zone(made.phone, schedules[0])
    subscribers.appoint_organiser(session, made, now)
    return made


def _text_of(schedules: list[Schedule], found: OrganiserAlert) -> str:
    title = next((s.title for s in schedules if s.campaign == found.campaign), "advent")
    text = f"{title}, for you: {found.message}"
    if len(text) > LONGEST:
        text = text[: LONGEST - 40].rstrip() + "... (the rest on the Alerts page)"
    return text


def plan_text(
    session: Session,
    organiser: Subscriber,
    campaign: str,
    day: date,
    ref: str,
    body: str,
    now: datetime,
) -> bool:
    """A text to the organiser, written down before it is sent; once per (campaign, day, ref),
    whoever asks again. The sweep sends it. The caller commits; True if it is new."""
    row = {
        "subscriber_id": organiser.id,
        "campaign": campaign,
        "day": day,
        "kind": KIND,
        "ref": ref,
        "body": body,
        "channel": organiser.channel,
        "address": address(organiser.phone, organiser.channel),
        "used_template": False,
        "template_only": False,
        "due_at": now,
        "created_at": now,
        "updated_at": now,
    }
    return deliveries.insert_pending(session, [row]) == 1


def text_new_alerts(session: Session, organiser: Subscriber, schedules: list[Schedule], now: datetime) -> int:
    """Plan a text to the organiser for each open alert that needs them now and has none yet.
    Commits; returns how many were planned (the sweep sends them)."""
    if not schedules:
        return 0
    by_campaign = {s.campaign: s for s in schedules}
    fresh = session.exec(
        select(OrganiserAlert).where(
            col(OrganiserAlert.kind).in_(TEXTED_ALERTS),
            col(OrganiserAlert.resolved_at).is_(None),
            OrganiserAlert.created_at >= now - FRESH,
        )
    ).all()
    added = 0
    for found in fresh:
        schedule = by_campaign.get(found.campaign or "", schedules[0])
        day = _day(schedule, found, now)
        added += plan_text(
            session, organiser, schedule.campaign, day, f"alert {found.id}", _text_of(schedules, found), now
        )
    session.commit()
    return added


def _day(schedule: Schedule, found: OrganiserAlert, now: datetime) -> date:
    # The day a text is filed under: the alert's own day, or the organiser's date when raised.
    return found.day or schedule.local_date(found.created_at or now)


def texts_sent(session: Session, campaign: str | None = None) -> list[Delivery]:
    """The texts to the organiser, newest first (for the doctor and tests)."""
    query = select(Delivery).where(Delivery.kind == KIND).order_by(col(Delivery.id).desc())
    if campaign:
        query = query.where(Delivery.campaign == campaign)
    return list(session.exec(query).all())
