"""TIME: a friend moves their own morning ("TIME Toronto", "TIME 7:30", "TIME 7:30 Toronto"), or
asks when it is ("TIME"). Answered at once, like every answer, whatever the hour.

Only a friend on the list can move it, and only where the schedule sends at each friend's own
time; elsewhere everyone's message comes at the schedule's moment, and TIME says so. The text
is stored as an InboundMessage of kind "time" with the answer, which is the record of the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from advent.content.schedules import Schedule
from advent.people.zones import MorningRefused, read_request, set_morning
from advent.sending.friend_days import next_post
from advent.sending.mornings import morning_of
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Subscriber

if TYPE_CHECKING:
    from advent.people.conversations import Conversation


def answer_time(chat: Conversation, words: tuple[str, ...]) -> str:
    """The answer to TIME and the words after it; changes the friend's morning if it can."""
    on_list = [
        (subscriber, schedule)
        for subscriber in chat.subscriptions
        if subscriber.status == SubscriberStatus.ACTIVE
        for schedule in chat.schedules
        if schedule.campaign == subscriber.campaign
    ]
    if not on_list:
        known = chat.subscriptions[0].campaign if chat.subscriptions else None
        return chat.say("not_subscribed", chat.schedule_for(known) or chat.schedules[0])
    own = [(s, schedule) for s, schedule in on_list if schedule.for_each_friend]
    subscriber, schedule = (own or on_list)[0]
    chat.record.subscriber_id, chat.record.campaign = subscriber.id, subscriber.campaign
    if not own:
        return chat.say("time_fixed", schedule, subscriber)
    try:
        request = read_request(words)
        if not request.empty:
            set_morning(schedule, subscriber, request, chat.now)
    except MorningRefused as why:
        return chat.say("time_quiet" if why.quiet else "time_unknown", schedule, subscriber, problem=str(why))
    if request.empty:
        said = next_post_sentence(chat.session, schedule, subscriber, chat.now)
        return chat.say("time_now", schedule, subscriber, next_post=said)
    # One number, one morning: their other campaigns on this channel move with it, where they can.
    for other, other_schedule in own[1:]:
        try:
            set_morning(other_schedule, other, request, chat.now)
        except MorningRefused:
            pass  # that campaign's quiet hours differ: it keeps the morning it had
        chat.session.add(other)
    chat.session.add(subscriber)
    said = next_post_sentence(chat.session, schedule, subscriber, chat.now)
    return chat.say("time_changed", schedule, subscriber, next_post=said)


def next_post_sentence(session: Session, schedule: Schedule, subscriber: Subscriber, now: datetime) -> str:
    """When the next post comes on the friend's own clock ("Next one: Thu 3 Dec, 07:30."), or
    that none is left."""
    moment = next_post(session, schedule, subscriber, now)
    if moment is None:
        return "There are no more to come."
    local = moment.astimezone(morning_of(schedule, subscriber).tz)
    return f"Next one: {local:%a} {local.day} {local:%b}, {local:%H:%M}."
