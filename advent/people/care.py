"""Replies that need a human: a text holding a phrase from the campaign's care list
(advent.content.care) is answered with the kind answer and the support line, every time and on
every channel; kept flagged, so the Replies page pins it until the organiser marks it handled;
and raised as an urgent alert saying who, what they wrote, and what to do.

A safety net, not a diagnosis; the organiser is not a crisis service, so the answer always
gives a line that is.

Keywords keep their meaning. "STOP I can't go on" stops at once (a missed STOP is the harm this
service exists to avoid) and is flagged and alerted like any other; the stop confirmation then
carries the care answer too. Where the provider confirms STOP itself (Twilio on SMS), nothing
more can reach the friend from this number, so the organiser's alert is what is left: it says
they stopped. HELP gets the care answer instead of the programme's description; a join word or
TIME does its work and its answer is followed by the care answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from advent.content.care import CARE_FILE, Care, CareError, built_in, care_path, line_to_give, load_care
from advent.content.schedules import Schedule
from advent.organiser.alerts import alert
from advent.people.phones import mask, redact_numbers

if TYPE_CHECKING:
    from advent.people.conversations import Conversation, ReplySettings

DISTRESS = "distress"  # the alert's kind; urgent: the organiser should hear of it at once
# The alert may go to the organiser's phone as a text: who, what, and what to do, in ~300 characters.
QUOTED = 140
WHAT_TO_DO = "Reply to them personally; if you believe they are in danger now, call the emergency services."


def with_care(chat: Conversation, kind: str, answer: str | None) -> str | None:
    """The answer to send, with the care answer when the text needs a human; flags and alerts."""
    schedule = chat.schedule_for(chat.record.campaign) or (chat.schedules[0] if chat.schedules else None)
    care, broken = care_of(chat.settings.messages_dir, schedule)
    if broken is not None and schedule is not None:
        # Broken after start-up: nobody goes unprotected meanwhile, and the organiser is told.
        alert(chat.session, schedule.campaign, "reply_text", str(broken), chat.now, subject="care")
    if care.phrase_in(chat.record.body) is None:
        return answer
    chat.record.needs_care = True
    chat.session.add(chat.record)
    _raise_alert(chat, stopped=kind == "stop")
    return joined(kind, answer, words(care, schedule, chat.settings))


def care_words(
    text: str, kind: str, answer: str | None, schedule: Schedule | None, settings: ReplySettings
) -> str | None:
    """The answer from the text alone (no database: advent.held_webhooks), with the care answer
    when the text needs a human; `answer` is what the text would get otherwise."""
    care, _ = care_of(settings.messages_dir, schedule)
    if care.phrase_in(text) is None:
        return answer
    return joined(kind, answer, words(care, schedule, settings))


def care_of(messages_dir: Path, schedule: Schedule | None) -> tuple[Care, CareError | None]:
    """The campaign's care list; the built-in one (and why) when it has none or it is broken."""
    if schedule is None:
        return built_in(Path(messages_dir) / CARE_FILE), None
    try:
        return load_care(messages_dir, schedule), None
    except CareError as error:
        return built_in(care_path(messages_dir, schedule)), error


def words(care: Care, schedule: Schedule | None, settings: ReplySettings) -> str:
    return care.render(
        title=schedule.title if schedule else settings.organiser_name,
        organiser=settings.organiser_name,
        support_line=line_to_give(settings.support_line, care),
    )


def joined(kind: str, answer: str | None, care_answer: str) -> str | None:
    """What goes back: the care answer, after the keyword's own answer where it has one."""
    if kind == "stop":
        # After a STOP the only message allowed is its confirmation: the care answer rides in
        # it, and where the provider confirmed the STOP itself nothing more can be sent.
        return f"{answer}\n\n{care_answer}" if answer else None
    if kind in ("join", "time") and answer:
        return f"{answer}\n\n{care_answer}"
    return care_answer


def _raise_alert(chat: Conversation, *, stopped: bool) -> None:
    who = _who(chat)
    text = redact_numbers(" ".join(chat.record.body.split()))
    if len(text) > QUOTED:
        text = text[: QUOTED - 1].rstrip() + "…"
    also = " They also said STOP, so the service can no longer text them." if stopped else ""
    message = (
        f"{who} may need you. They wrote: “{text}”. {WHAT_TO_DO}{also} "
        "Pinned on the Replies page until you mark it handled."
    )
    assert chat.record.id is not None  # stored before it is answered
    alert(chat.session, chat.record.campaign, DISTRESS, message, chat.now, subject=str(chat.record.id))


def _who(chat: Conversation) -> str:
    """Their name as the organiser knows it, with the number masked (never the whole number)."""
    subscriber = next((s for s in chat.subscriptions if s.id == chat.record.subscriber_id), None)
    name = (subscriber.name or subscriber.profile_name) if subscriber else None
    name = name or chat.inbound.profile_name
    number = mask(chat.phone)
    return f"{name} ({number})" if name else f"A friend at {number}"
