"""The Alerts page's list: each open alert with a plain title and what to do about it, the
resolved ones below, and resolving one by hand.

The alert's own message names the facts (counts, reasons, a command to run); the advice here is
the next step for each kind, in one or two sentences, for when the message does not say it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from advent.organiser.alerts import resolve, state
from advent.store.tables import OrganiserAlert

# kind -> (title, what to do)
ADVICE: dict[str, tuple[str, str]] = {
    "not_delivered": (
        "Posts not delivered",
        "Open the day to see who and why. A phone that was off or out of signal needs nothing: "
        "the next post goes as usual. A number that cannot receive is taken off the list by itself.",
    ),
    "short_day": (
        "Day finished short",
        "Open the day: the provider refused some posts, or WhatsApp needed an approved template. "
        "Fix the cause, then retry the failed ones from the day page.",
    ),
    "receipt_missing": (
        "No receipt for hours",
        "Run `advent reconcile` to ask the provider; if that does not settle them, look them up in "
        "the provider's message log.",
    ),
    "missed_day": (
        "Day missed",
        "Send it now with `advent send --date` and the day, if it is not too late to be welcome; "
        "then check that the scheduler is running (`advent doctor`).",
    ),
    "held_day": (
        "Day held",
        "You held this day: nothing of it goes out. Fix the post if that is why, then release it "
        "with `advent release --date` and the day (or the day page's button); friends whose "
        "moment passed meanwhile get it within the grace window.",
    ),
    "day_failed": (
        "Day failed",
        "Read the reason, fix it (`advent doctor` checks the set-up and every post), then send the "
        "day with `advent send --date` and the day. Nobody gets it twice.",
    ),
    "send_late": (
        "Send stalled",
        "The clock probably stopped mid-send. Run `advent doctor`; start the clock again "
        "(`advent run` or `advent scheduler`): it finishes the day, and nobody gets it twice.",
    ),
    "few_delivered": (
        "Few posts delivered",
        "Look at the provider's status page and the day page for the reasons; `advent reconcile` "
        "asks the provider about posts with no receipt. Nothing is re-sent by itself.",
    ),
    "unsent_deliveries": (
        "Friends left without the post",
        "Send the day again with `advent send --date` and the day: only those who did not get it "
        "are sent it.",
    ),
    "unknown_delivery": (
        "Not sure a post went out",
        "Run `advent reconcile` to ask the provider again, and check its message log before "
        "sending anything by hand, so nobody gets the day twice.",
    ),
    "duplicate": (
        "A friend got a day twice",
        "Nothing to undo; it is recorded so you know. A short apology to that friend may be kind.",
    ),
    "list_full": (
        "The list is full",
        "Raise `list_cap` in the schedule, or move someone from the waiting list on the People page "
        "when there is room.",
    ),
    "invalid_number": (
        "A number cannot receive",
        "Nothing more goes to it. If the friend gives you another number, invite them again from "
        "the People page.",
    ),
    "campaign_alert": (
        "Set-up problem at the provider",
        "Fix it in the provider's console (for example, enable the friend's country), then run "
        "`advent doctor`.",
    ),
    "content_alert": (
        "A post was filtered",
        "The carrier took the post for spam: reword the coming posts (fewer links and capitals) and "
        "run `advent content check`.",
    ),
    "reply_text": (
        "A reply text is broken",
        "Friends got a plain answer meanwhile. Run `advent content check` and fix what it names.",
    ),
    "distress": (
        "A friend may need you",
        "They were answered at once with the support line. Reach out to them yourself, as a friend: "
        "you are not a crisis service, and nobody expects you to be one. If you believe they are in "
        "danger now, call the emergency services. Then mark it handled on the Replies page.",
    ),
}
UNKNOWN_KIND = "Read the message, act on it, and resolve the alert once it is dealt with."
RESOLVED_SHOWN = 50  # the most recent; older ones are in `advent alerts --all`


@dataclass(frozen=True)
class AlertView:
    id: int
    kind: str
    title: str
    message: str
    what_to_do: str
    campaign: str | None
    day: str | None  # ISO date, for a link to the day page
    state: str  # new, seen or resolved
    created_at: datetime
    resolved_at: datetime | None


def view(found: OrganiserAlert) -> AlertView:
    title, advice = ADVICE.get(found.kind, (found.kind.replace("_", " ").capitalize(), UNKNOWN_KIND))
    assert found.id is not None, "a listed alert has been stored"
    return AlertView(
        found.id,
        found.kind,
        title,
        found.message,
        advice,
        found.campaign,
        found.day.isoformat() if found.day else None,
        state(found),
        found.created_at,
        found.resolved_at,
    )


def alert_board(session: Session, now: datetime) -> tuple[list[AlertView], list[AlertView]]:
    """Open alerts, newest first, and the most recently resolved. The open ones are marked
    seen (the page has shown them, as `advent alerts` does); the caller commits."""
    open_ones = session.exec(
        select(OrganiserAlert)
        .where(OrganiserAlert.resolved_at.is_(None))
        .order_by(OrganiserAlert.created_at.desc(), OrganiserAlert.id.desc())
    ).all()
    resolved = session.exec(
        select(OrganiserAlert)
        .where(OrganiserAlert.resolved_at.is_not(None))
        .order_by(OrganiserAlert.resolved_at.desc(), OrganiserAlert.id.desc())
        .limit(RESOLVED_SHOWN)
    ).all()
    shown = [view(found) for found in open_ones]
    for found in open_ones:
        if found.seen_at is None:
            found.seen_at = now
            session.add(found)
    return shown, [view(found) for found in resolved]


def resolve_alert(session: Session, alert_id: int, now: datetime) -> OrganiserAlert | None:
    """The organiser has dealt with it: close it. None if there is no such alert; an alert
    already resolved is left as it was. The caller commits."""
    found = session.get(OrganiserAlert, alert_id)
    if found is None or found.resolved_at is not None:
        return found
    if found.key is not None:
        resolve(session, found.kind, found.campaign, day=found.day, subject=found.subject, now=now)
    else:
        # An alert from before keys existed: closed on its own.
        found.resolved_at = now
        session.add(found)
    return found
