"""Late joiners: someone who joins after today's post went out, under the schedule's policy.

`today`: they get today's post right after their confirmation (a pending delivery that the
scheduler's sweep sends within a minute, never from inside the webhook). `tomorrow`: nothing
now; the next day's plan includes them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from advent.content.schedules import Schedule
from advent.sending.plan import add_deliveries
from advent.states import deliveries
from advent.states.deliveries import DeliveryStatus
from advent.store.tables import Delivery, Subscriber


def first_post_date(schedule: Schedule, now: datetime) -> date:
    """The date of the first post someone joining `now` will get, under the schedule's policy."""
    today = schedule.local_date(now)
    if today < schedule.first_day:
        return schedule.first_day
    if schedule.late_joiners == "tomorrow" and now >= schedule.send_at(today):
        return today + timedelta(days=1)
    return today


def catch_up_late_joiner(session: Session, schedule: Schedule, subscriber: Subscriber, now: datetime) -> bool:
    """Queue today's post for a new subscriber if the policy says so; True when queued."""
    today = schedule.local_date(now)
    if schedule.for_each_friend:
        # Their own morning decides (advent.sending.mornings); the clock's next pass, within
        # half a minute, writes their row if today's post is theirs to get.
        return False
    if schedule.late_joiners != "today" or not schedule.runs_on(today):
        return False
    if now < schedule.send_at(today):
        return False  # today's plan, still to come, will include them
    add_deliveries(session, [subscriber], schedule.campaign, today, now)
    delivery = session.exec(
        select(Delivery).where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.campaign == schedule.campaign,
            Delivery.day == today,
            Delivery.kind == "post",
        )
    ).one()
    if delivery.status == DeliveryStatus.CANCELLED and delivery.provider_sid is None:
        # They said STOP before today's post reached them and have come back: send it after all.
        # (One the provider cancelled after taking it keeps its record.)
        deliveries.uncancel(session, delivery, now)
    return delivery.status == DeliveryStatus.PENDING
