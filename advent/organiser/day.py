"""One campaign day, friend by friend: how far their post got and when, why it failed and what
to do, what they wrote back; and the organiser's "retry the failed ones".

Invites are not the day's post and are left out. Three queries whatever the list's size: the
posts with their people, the time of each status from the events, and the replies; a page holds
at most LINES_PER_PAGE friends (10,000 rows would take the browser and the server a second).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sqlalchemy import ColumnElement, and_, exists
from sqlalchemy import select as sa_select
from sqlmodel import Session, func, select

from advent.organiser.replies import media_text
from advent.organiser.ticks import Ticks, ticks_for
from advent.people.phones import mask
from advent.providers.base import ErrorAction
from advent.states import deliveries
from advent.states.deliveries import DeliveryStatus as D
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, DeliveryEvent, InboundMessage, Subscriber

Explain = Callable[[str | None], tuple[ErrorAction, str]]

# Friends on one page of a day: enough to scroll through, few enough to answer in a blink.
LINES_PER_PAGE = 500

# Reports that mean "the network has it": the first tick's grey clock.
HANDED_OVER = (D.ACCEPTED, D.SCHEDULED, D.QUEUED, D.SENDING)
TIMED = (*HANDED_OVER, D.SENT, D.DELIVERED, D.READ, D.FAILED, D.UNDELIVERED)

# What the organiser can do about each kind of failure, in their words.
ADVICE = {
    ErrorAction.RETRY: "A passing problem at the network: retry the failed ones.",
    ErrorAction.GIVE_UP: (
        "Their phone could not be reached (off, out of signal, or full). Retry later; "
        "if it keeps failing, check the number with your friend."
    ),
    ErrorAction.OPTED_OUT: "They opted out at their carrier and are marked stopped: do not send again.",
    ErrorAction.INVALID_NUMBER: "The number cannot receive texts: ask your friend for their current number.",
    ErrorAction.NEEDS_TEMPLATE: (
        "WhatsApp allows free text only within 24 hours of their last message: get a template "
        "approved (`advent templates create`, then `advent templates submit`), or ask them to "
        "text you first."
    ),
    ErrorAction.CAMPAIGN_ALERT: "A set-up problem with the sending account: see Alerts.",
    ErrorAction.CONTENT_ALERT: "The carrier filtered the text: reword the post, and see Alerts.",
}
UNKNOWN_ADVICE = (
    "The network could not say whether it went out: run `advent reconcile` before sending anything by hand."
)


@dataclass(frozen=True)
class Reply:
    text: str
    at: str  # the organiser's wall-clock time, 08:01:06


@dataclass(frozen=True)
class FriendLine:
    """One friend's post for the day."""

    delivery_id: int
    name: str | None
    number: str  # masked
    channel: str
    status: str
    ticks: Ticks
    # queued, sent, delivered, read, failed: when each was reported, on the organiser's wall
    # clock (formatted here once: a thousand lines, five times each, cost a page its speed).
    times: dict[str, str]
    error_code: str | None
    reason: str | None  # the provider's plain words, stored on the delivery
    advice: str | None
    replies: list[Reply] = field(default_factory=list)
    # WhatsApp: "template" (outside their 24-hour window, the approved template went) or
    # "free-form" (the post as written); None on SMS or when nothing was handed over.
    form: str | None = None


def _times(
    session: Session, campaign: str, day: date, tz: tzinfo, ids: tuple[int, int]
) -> dict[int, dict[str, str]]:
    # The latest report of each status: after a retry, the new attempt's times.
    rows = session.exec(
        select(DeliveryEvent.delivery_id, DeliveryEvent.status, func.max(DeliveryEvent.received_at))
        .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
        .where(
            Delivery.campaign == campaign,
            Delivery.day == day,
            Delivery.kind == "post",
            Delivery.id.between(*ids),  # this page's posts only
            DeliveryEvent.status.in_(TIMED),
        )
        .group_by(DeliveryEvent.delivery_id, DeliveryEvent.status)
    ).all()
    latest: dict[int, dict[str, datetime]] = {}
    for delivery_id, status, at in rows:
        step = "queued" if status in HANDED_OVER else "failed" if status in deliveries.FAILURES else status
        known = latest.setdefault(delivery_id, {})
        if step not in known or at > known[step]:
            known[step] = at
    return {
        delivery_id: {step: _clock(at, tz) for step, at in steps.items()}
        for delivery_id, steps in latest.items()
    }


def _clock(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M:%S")


def _replies(
    session: Session, campaign: str, day: date, tz: tzinfo, people: list[int]
) -> dict[int, list[Reply]]:
    rows = session.exec(
        select(InboundMessage)
        .where(
            InboundMessage.campaign == campaign,
            InboundMessage.in_reply_to_day == day,
            InboundMessage.kind == "reply",
            InboundMessage.subscriber_id.in_(people),
        )
        .order_by(InboundMessage.received_at)
    ).all()
    found: dict[int, list[Reply]] = {}
    for row in rows:
        if row.subscriber_id is not None:
            found.setdefault(row.subscriber_id, []).append(
                Reply(media_text(row.body, row.num_media), _clock(row.received_at, tz))
            )
    return found


def advice_for(status: str, code: str | None, explain: Explain) -> str | None:
    if status == D.UNKNOWN:
        return UNKNOWN_ADVICE
    if status == D.NEEDS_TEMPLATE:
        return ADVICE[ErrorAction.NEEDS_TEMPLATE]
    if status not in deliveries.FAILURES or status == D.CANCELLED:
        return None
    action, _ = explain(code)
    return ADVICE.get(action)


def post_count(session: Session, campaign: str, day: date) -> int:
    """How many friends the day's post was planned for: the lines on all its pages."""
    return session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.campaign == campaign, Delivery.day == day, Delivery.kind == "post")
    ).one()


def day_lines(
    session: Session,
    campaign: str,
    day: date,
    explain: Explain,
    tz: tzinfo,
    *,
    skip: int = 0,
    limit: int | None = None,
) -> list[FriendLine]:
    """The friends' posts for the day, in the order they were planned (from the `skip`th, at
    most `limit` of them); times shown in `tz`."""
    rows = session.execute(
        sa_select(
            Delivery.id,
            Delivery.subscriber_id,
            Delivery.address,
            Delivery.channel,
            Delivery.status,
            Delivery.error_code,
            Delivery.error_reason,
            Subscriber.name,
            Subscriber.profile_name,
            Delivery.provider_sid,
            Delivery.used_template,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.campaign == campaign, Delivery.day == day, Delivery.kind == "post")
        .order_by(Delivery.id)
        .offset(skip)
        .limit(limit)
    ).all()
    if not rows:
        return []
    times = _times(session, campaign, day, tz, (rows[0][0], rows[-1][0]))
    replies = _replies(session, campaign, day, tz, sorted({row[1] for row in rows}))
    advice: dict[tuple[str, str | None], str | None] = {}  # one look-up per distinct failure
    lines = []
    for did, sid, address, channel, status, code, reason, name, profile, handed, template in rows:
        if (status, code) not in advice:
            advice[(status, code)] = advice_for(status, code, explain)
        lines.append(
            FriendLine(
                delivery_id=did,
                name=name or profile,
                number=mask(address.removeprefix("whatsapp:")),
                channel=channel,
                status=status,
                ticks=ticks_for(status),
                times=times.get(did, {}),
                error_code=code,
                reason=reason,
                advice=advice[(status, code)],
                replies=replies.get(sid, []),
                form=_form(channel, handed, template),
            )
        )
    return lines


def _form(channel: str, provider_sid: str | None, used_template: bool) -> str | None:
    """How a WhatsApp post went out: as the approved template or as free-form text."""
    if channel != "whatsapp" or provider_sid is None:
        return None
    return "template" if used_template else "free-form"


def form_counts(session: Session, campaign: str, day: date) -> dict[str, int]:
    """How many WhatsApp friends got the template and how many the free-form text (all pages)."""
    rows = session.exec(
        select(Delivery.used_template, func.count())
        .where(
            Delivery.campaign == campaign,
            Delivery.day == day,
            Delivery.kind == "post",
            Delivery.channel == "whatsapp",
            Delivery.provider_sid.is_not(None),
        )
        .group_by(Delivery.used_template)
    ).all()
    counted = {"template" if used else "free-form": n for used, n in rows}
    return {form: counted.get(form, 0) for form in ("template", "free-form")}


# --- retry the failed ones --------------------------------------------------------------------


def _retryable(campaign: str, day: date) -> list[ColumnElement[bool]]:
    """Failed posts of the day that may go again: never to someone who said STOP or was
    removed, and never to anyone the network ever reported as having it (a delivered report
    that came after a failure leaves the row failed, but the friend has the message)."""
    reached = exists().where(
        and_(
            DeliveryEvent.delivery_id == Delivery.id,
            DeliveryEvent.status.in_((D.DELIVERED, D.READ)),
        )
    )
    active = select(Subscriber.id).where(Subscriber.status == SubscriberStatus.ACTIVE)
    return [
        Delivery.campaign == campaign,
        Delivery.day == day,
        Delivery.kind == "post",
        Delivery.subscriber_id.in_(active),
        ~reached,
    ]


def retryable_count(session: Session, campaign: str, day: date) -> int:
    return session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.status.in_((D.FAILED, D.UNDELIVERED)), *_retryable(campaign, day))
    ).one()


def retry_failed(session: Session, campaign: str, day: date, now: datetime) -> int:
    """Hand the day's failed posts back to be sent (by the clock's sweep, not here); commits.
    Returns how many."""
    handed_back = deliveries.retry_failed(session, _retryable(campaign, day), now)
    session.commit()
    return handed_back
