"""What the organiser texts from their own phone (ADVENT_ORGANISER_PHONE): HOLD, in answer to
the evening preview, holds tomorrow's post; RELEASE lets it go. From anyone else, these words
are an ordinary reply.

The day meant is the one the last preview was about; without a preview, the next day of the
campaign still to come (tomorrow's, or today's before it went).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlmodel import col, select

from advent.content.schedules import Schedule
from advent.people.keywords import classify
from advent.sending.holds import HoldRefused, hold_day, release_day
from advent.store.tables import Delivery, Subscriber

if TYPE_CHECKING:
    from advent.people.conversations import Conversation

COMMANDS = {"HOLD": "hold", "RELEASE": "release"}


def organiser_command(body: str) -> str | None:
    """ "hold" or "release" when the text is that word (with a word or two after it), else None."""
    words = (body or "").split()
    first = words[0].strip(".,!?").upper() if words else ""
    return COMMANDS.get(first) if len(words) <= 3 and classify(body).kind == "reply" else None


def _previewed_day(chat: Conversation, schedule: Schedule) -> date:
    last = chat.session.exec(
        select(Delivery.day)
        .join(Subscriber, col(Subscriber.id) == col(Delivery.subscriber_id))
        .where(
            Subscriber.phone == chat.phone,
            Delivery.kind == "organiser",
            Delivery.ref == "canary",
            Delivery.campaign == schedule.campaign,
        )
        .order_by(col(Delivery.day).desc())
    ).first()
    today = schedule.local_date(chat.now)
    if last is not None and last >= today:
        return last
    upcoming = [d for d in schedule.days() if d > today or (d == today and chat.now < schedule.send_at(d))]
    return upcoming[0] if upcoming else today + timedelta(days=1)


def answer_organiser(chat: Conversation, command: str) -> str:
    """Hold or release the previewed day; the answer says what happened or why not."""
    schedule = chat.default_schedule() or (chat.schedules[0] if chat.schedules else None)
    if schedule is None:
        return "No campaign is set up, so there is nothing to hold."
    day = _previewed_day(chat, schedule)
    act = hold_day if command == "hold" else release_day
    try:
        return f"{schedule.title}: " + act(
            chat.session, schedule, day, chat.now, f"{command.upper()} by text"
        )
    except HoldRefused as refused:
        return f"{schedule.title}: {refused}."
