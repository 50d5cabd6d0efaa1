"""What the service says to each kind of text: STOP, a join word, HELP, TIME (in
advent.people.time_keyword), or anything else (a reply to a post). Called by
advent.people.conversations once the text is stored; each answer
changes the subscription first, through the state machines, and returns the words to send back
(or None, with the reason kept on the conversation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import select

from advent.content.schedules import Schedule, ScheduleError
from advent.people.care import with_care
from advent.people.keywords import classify
from advent.people.organiser_commands import answer_organiser, organiser_command
from advent.people.subscriptions import join, stop_subscriber
from advent.people.time_keyword import answer_time
from advent.sending.friend_days import posts_left
from advent.sending.late_joiners import catch_up_late_joiner, first_post_date
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, InboundMessage, Subscriber

if TYPE_CHECKING:
    from advent.people.conversations import Conversation

# Why the service said nothing, in words for whoever holds the phone (`advent phone`).
PROVIDER_ANSWERED = "your provider answers this one itself"
THANKED_TODAY = "the service already thanked this friend today; the text is stored for the organiser"
NO_SCHEDULE = "no campaign is set up to answer from; add a schedule"
UNUSABLE_SENDER = "the sender is not a usable phone number; the text is stored for the organiser"
REPEATED = "the same message arrived again and was already handled"


def answer_text(chat: Conversation, body: str) -> str | None:
    if chat.settings.organiser_phone and chat.phone == chat.settings.organiser_phone:
        command = organiser_command(body)
        if command is not None:  # HOLD or RELEASE, from the organiser's own phone only
            chat.record.kind = command
            return answer_organiser(chat, command)
    keywords = {s.join_keyword for s in chat.schedules}
    meaning = classify(body, keywords)
    kind = meaning.kind
    if chat.inbound.provider_kind in ("stop", "join", "help"):
        # The provider's own opt-out handling has already decided what this text is.
        kind = chat.inbound.provider_kind
    chat.record.kind = kind
    # The keyword does its work first; a text that may signal distress is then answered with
    # care as well, whatever it was (advent.people.care).
    return with_care(chat, kind, _answer_kind(chat, kind, meaning.campaign_keyword, meaning.rest))


def _answer_kind(
    chat: Conversation, kind: str, campaign_keyword: str | None, rest: tuple[str, ...]
) -> str | None:
    if kind == "stop":
        return _stop(chat)
    if kind == "join":
        return _join(chat, campaign_keyword)
    if kind == "help":
        return _help(chat)
    if kind == "time":
        return answer_time(chat, rest) if chat.schedules else chat.silent(NO_SCHEDULE)
    return _reply(chat)


def _provider_answers(chat: Conversation) -> bool:
    """The provider's own opt-out handling has already replied to this very text."""
    if chat.provider.answers_itself(chat.inbound):
        chat.silent(PROVIDER_ANSWERED)
        return True
    return False


def _stop(chat: Conversation) -> str | None:
    known = chat.subscriptions
    subscriptions = [s for s in known if s.status != SubscriberStatus.STOPPED]
    schedule = chat.schedule_for(known[0].campaign if known else None)
    if schedule is None and chat.schedules:
        schedule = chat.schedules[0]
    reply = None
    if schedule is None:
        chat.silent(NO_SCHEDULE)
    elif not _provider_answers(chat):
        # Someone who already stopped is told so again (kindly); only strangers hear "not on
        # our list".
        reply = chat.say("stopped" if known else "not_subscribed", schedule)
    for subscriber in subscriptions:
        stop_subscriber(
            chat.session,
            subscriber,
            method="keyword",
            now=chat.now,
            text=chat.record.body,
            message_sid=chat.inbound.message_sid,
            confirmation=reply,
        )
    if subscriptions:
        chat.record.subscriber_id = subscriptions[0].id
        chat.record.campaign = subscriptions[0].campaign
    return reply


def _join(chat: Conversation, campaign_keyword: str | None) -> str | None:
    schedule = None
    if campaign_keyword:
        schedule = next(s for s in chat.schedules if s.join_keyword == campaign_keyword)
    else:
        # A plain YES or START answering an invite joins the campaign it invited them to.
        schedule = _invited_to(chat)
        try:
            schedule = schedule or chat.default_schedule()
        except ScheduleError:  # a default named that no schedule has: ask, as with none
            schedule = None
        if schedule is None:  # several schedules and no default: ask which
            words = " or ".join(s.join_keyword for s in chat.schedules)
            return f"Which one would you like to join? Reply {words}. Reply STOP to stop."
    chat.record.campaign = schedule.campaign
    today = schedule.local_date(chat.now)
    if today > schedule.last_day or first_post_date(schedule, chat.now) > schedule.last_day:
        return chat.say("ended", schedule)  # nothing left to send them, so no sign-up
    if chat.channel not in schedule.channels:
        return (
            f"{schedule.title} runs on {' and '.join(schedule.channels)} only, "
            "so we can't send it here. Reply STOP to stop."
        )
    previous = _subscriptions_for(chat, schedule)
    invited = previous is not None and previous.status == SubscriberStatus.INVITED
    method = "invite_reply" if invited else "keyword"
    result = join(
        chat.session,
        schedule,
        phone=chat.phone,
        channel=chat.channel,
        method=method,
        now=chat.now,
        text=chat.record.body,
        message_sid=chat.inbound.message_sid,
    )
    chat.record.subscriber_id = result.subscriber.id
    result.subscriber.last_inbound_at = chat.now
    if result.outcome == "already":
        return None if _provider_answers(chat) else chat.say("already", schedule, result.subscriber)
    if result.outcome == "waiting":
        return chat.say("full", schedule, result.subscriber)
    reply = chat.say("confirmation", schedule, result.subscriber)
    assert result.consent is not None  # every sign-up records its consent
    result.consent.confirmation_sent = reply  # the record keeps the exact words they got
    catch_up_late_joiner(chat.session, schedule, result.subscriber, chat.now)
    # Twilio's own START reply on SMS is generic: ours says what comes and how to stop, so it
    # is sent even then (the CTIA confirmation a recurring programme owes its subscriber).
    return reply


def _invited_to(chat: Conversation) -> Schedule | None:
    """The one campaign still to come or running that this number was invited to, if one."""
    campaigns = {s.campaign for s in chat.subscriptions if s.status == SubscriberStatus.INVITED}
    invited = [
        schedule
        for schedule in chat.schedules
        if schedule.campaign in campaigns and schedule.local_date(chat.now) <= schedule.last_day
    ]
    return invited[0] if len(invited) == 1 else None


def _subscriptions_for(chat: Conversation, schedule: Schedule) -> Subscriber | None:
    return next((s for s in chat.subscriptions if s.campaign == schedule.campaign), None)


def _help(chat: Conversation) -> str | None:
    subscriptions = chat.subscriptions
    schedule = chat.schedule_for(subscriptions[0].campaign if subscriptions else None)
    schedule = schedule or (chat.schedules[0] if chat.schedules else None)
    if schedule is None:
        return chat.silent(NO_SCHEDULE)
    if _provider_answers(chat):
        return None
    return chat.say("help", schedule)


def _reply(chat: Conversation) -> str | None:
    """A reply to read: filed against the post it answers; thanked at most once a day (a reply
    that needs a human is answered every time: advent.people.care)."""
    subscriptions = [
        s for s in chat.subscriptions if s.status == SubscriberStatus.ACTIVE
    ] or chat.subscriptions
    if not subscriptions:
        schedule = chat.schedule_for(None)
        return chat.say("help", schedule) if schedule else chat.silent(NO_SCHEDULE)
    subscriber = subscriptions[0]
    chat.record.subscriber_id = subscriber.id
    chat.record.campaign = subscriber.campaign
    chat.record.in_reply_to_day = chat.session.exec(
        select(Delivery.day)
        .where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.kind == "post",
            Delivery.provider_sid.is_not(None),
        )
        .order_by(Delivery.day.desc())
    ).first()
    schedule = chat.schedule_for(subscriber.campaign)
    if schedule is None:
        return chat.silent(NO_SCHEDULE)
    if _thanked_today(chat, schedule):
        return chat.silent(THANKED_TODAY)
    return chat.say("thanks", schedule)


def _thanked_today(chat: Conversation, schedule: Schedule) -> bool:
    today = schedule.local_date(chat.now)
    earlier = chat.session.exec(
        select(InboundMessage)
        .where(
            InboundMessage.phone == chat.phone,
            InboundMessage.channel == chat.channel,
            InboundMessage.kind == "reply",
            InboundMessage.reply_text.is_not(None),
            InboundMessage.id != chat.record.id,
        )
        .order_by(InboundMessage.id.desc())
    ).all()
    return any(schedule.local_date(m.received_at) == today for m in earlier)


def posts_to_come(chat: Conversation, schedule: Schedule) -> int:
    """Posts this person has still to get: every later day, and today's if it has not reached
    them yet (someone not on the list: if joining now would bring it)."""
    today = schedule.local_date(chat.now)
    later = len([d for d in schedule.days() if d > today])
    if not schedule.runs_on(today):
        return later
    subscriber = next(
        (s for s in chat.subscriptions if s.campaign == schedule.campaign and s.status == "active"), None
    )
    if subscriber is None:
        return later + (first_post_date(schedule, chat.now) == today)
    if schedule.for_each_friend:  # their own days, on their own clock
        return posts_left(chat.session, schedule, subscriber, chat.now)
    todays = chat.session.exec(
        select(Delivery.status).where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.campaign == schedule.campaign,
            Delivery.day == today,
            Delivery.kind == "post",
        )
    ).first()
    if todays is None:  # not planned yet: it comes at the send time
        return later + (chat.now < schedule.send_at(today))
    return later + (todays in ("pending", "claimed"))
