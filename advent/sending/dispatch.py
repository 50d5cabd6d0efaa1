"""The delivery sender: plan a day, claim each delivery once, hand it to the provider.

Exactly once rests on three things: the delivery row is written (and unique per subscriber,
campaign and day) before the provider is called; a row is claimed by a conditional update that
only one dispatcher can win (on PostgreSQL, one that skips rows other dispatchers hold); and a
claim left without a provider id after a crash is settled by asking the provider what it sent
before anything is sent again.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlmodel import col, func, or_, select

from advent.content.posts import Post
from advent.content.schedules import Schedule
from advent.providers.base import ProviderError
from advent.sending.in_flight import Answer, Handover, InFlight, most_in_flight
from advent.sending.mornings import is_night, morning_after, morning_of
from advent.sending.pace import Pace
from advent.sending.plan import count_by_status

# What other modules take from here, though it lives in sender.py.
from advent.sending.sender import WHATSAPP_WINDOW as WHATSAPP_WINDOW
from advent.sending.sender import Sender as Sender
from advent.sending.sender import finish_attempt, record_handovers, settle_error
from advent.sending.sender import outgoing as outgoing
from advent.sending.sender import record_handover as record_handover
from advent.sending.sender import still_unsettled as still_unsettled
from advent.sending.templates import ApprovedTemplate, approved_template
from advent.states import claims, deliveries
from advent.states.deliveries import DeliveryStatus
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import Delivery, Subscriber

log = logging.getLogger(__name__)

# Who may still receive each kind of delivery when its turn comes: a post goes to people on the
# list, an invite only to someone still invited (not since stopped, joined or removed).
RECEIVES = {
    "post": SubscriberStatus.ACTIVE,
    "invite": SubscriberStatus.INVITED,
    "organiser": SubscriberStatus.ACTIVE,  # the organiser's own row (advent.organiser.own_phone)
}


# A wait for the next slot at least this long is used to store the answers so far.
STORE_IN_A_WAIT_OF = 0.02  # seconds


def claim_batch_size(per_second: float) -> int:
    """How many rows to claim at once: about a quarter of a second's sending. A claimed row
    waits for its pace slot, and the shorter that wait, the fresher the check that its friend
    has not said STOP meanwhile (and at a low rate, one row at a time, as a send always went).
    Each batch's claim, read and reservation take a few milliseconds in which no message
    starts: at a tenth of a second's sending a batch, that cost an 80-a-second send 4% of its
    time. At most 100 rows, which a crash leaves for recovery."""
    return max(1, min(100, math.ceil(per_second / 4)))


def _earliest_retry(sender: Sender, schedule: Schedule, day: date, kind: str = "post") -> datetime | None:
    """When the next retry of the day is due. A post held for a friend's morning is not a
    retry: the clock sends it then, and a send by hand does not wait hours for it."""
    query = select(func.min(Delivery.next_attempt_at)).where(
        Delivery.campaign == schedule.campaign,
        Delivery.day == day,
        Delivery.kind == kind,
        Delivery.status == DeliveryStatus.PENDING,
    )
    if schedule.for_each_friend:
        longest = timedelta(seconds=sender.settings.retry_max_seconds)
        query = query.where(
            or_(
                col(Delivery.next_attempt_at).is_(None),
                col(Delivery.next_attempt_at) <= sender.clock() + longest,
            )
        )
    moment = sender.session.exec(query).first()
    sender.session.commit()
    return moment


def _handovers(
    sender: Sender,
    delivery_ids: list[int],
    kind: str,
    post: Post | None,
    schedule: Schedule,
    approved: ApprovedTemplate | None,
) -> list[Handover]:
    """The claimed rows' messages, read with their friends in one query; commits. A friend
    who said STOP (or was removed) after the row was planned is cancelled, not sent."""
    now = sender.clock()
    rows = sender.session.exec(
        select(Delivery, Subscriber)
        .join(Subscriber, col(Subscriber.id) == col(Delivery.subscriber_id))
        .where(col(Delivery.id).in_(delivery_ids))
        .order_by(col(Delivery.id))
        .execution_options(populate_existing=True)
    ).all()
    handovers = []
    for delivery, subscriber in rows:
        if subscriber.status != RECEIVES[kind]:
            reason = f"not sent: the subscriber is {subscriber.status}"
            finish_attempt(sender, delivery, DeliveryStatus.CANCELLED, None, now, reason)
            continue
        morning = morning_of(schedule, subscriber, own=kind == "organiser")
        own = kind == "organiser"
        if is_night(schedule, morning, now, always=own):
            # Nothing we start reaches a friend in their night (a retry, a catch-up, a post
            # sent by hand, an invite): it waits for their morning, or is recorded missed then.
            # The organiser has a night whatever the schedule: without `always` here, a
            # schedule at one moment for everyone handed their text back due at once, for ever.
            wake = morning_after(schedule, morning, now, always=own)
            deliveries.wait_for_morning(sender.session, delivery, wake, now)
            continue
        message = outgoing(delivery, subscriber, post, schedule, now, approved)
        assert delivery.id is not None
        handovers.append(Handover(delivery.id, delivery.claimed_at, message, delivery.claim_token))
    sender.session.commit()  # no transaction stays open while the provider is called
    return handovers


@dataclass
class _Progress:
    sender: Sender
    total: int
    handled: int = 0
    # Answers back from the provider, not stored yet: stored together, one commit for many. A
    # crash before they are stored leaves their rows claimed, for recovery to settle.
    waiting: list[Answer] = field(default_factory=list)

    def keep(self, answers: list[Answer]) -> None:
        self.waiting.extend(answers)

    def record(self, answers: list[Answer] | None = None) -> None:
        """Store what the provider answered: handovers together, refusals one by one."""
        answers = self.waiting + (answers or [])
        self.waiting = []
        if not answers:
            return
        sender = self.sender
        now = sender.clock()
        record_handovers(
            sender, [(a.handover.delivery_id, a.result) for a in answers if a.result is not None], now
        )
        for answer in answers:
            if answer.result is None:
                _settle_refusal(sender, answer)
        self.handled += len(answers)
        if sender.progress:
            for count in range(self.handled - len(answers) + 1, self.handled + 1):
                sender.progress(count, max(self.total, count))


def _settle_refusal(sender: Sender, answer: Answer) -> None:
    error = answer.error
    if not isinstance(error, ProviderError):
        # A provider bug must not leave the row claimed forever.
        log.error("provider crashed sending delivery %s", answer.handover.delivery_id, exc_info=error)
        error = ProviderError(f"unexpected error: {error}", maybe_sent=True)
    settle_error(sender, answer.handover, error)


def _still_ours(sender: Sender, handover: Handover) -> Handover | None:
    """The handover, if its claim is still this dispatcher's; None if it is not, and then it
    must not be sent. A claim older than the claim timeout looks like a dead dispatcher's to
    recovery in another process, which may take it over and send it itself. So a claim that
    has waited a quarter of that timeout (a long wait for its pace slot, a busy machine) is
    renewed before it goes, and one that cannot be renewed is left to whoever took it."""
    now = sender.clock()
    fresh_for = timedelta(seconds=sender.settings.claim_timeout_seconds / 4)
    if handover.claimed_at is not None and now - handover.claimed_at <= fresh_for:
        return handover
    if claims.renew(sender.session, handover.delivery_id, handover.claim_token, now):
        return replace(handover, claimed_at=now)
    log.warning("delivery %s: its claim was taken over while it waited; not sent here", handover.delivery_id)
    return None


def _send_paced(pace: Pace, flight: InFlight, handovers: list[Handover], progress: _Progress) -> None:
    """Start each message at its own pace slot, storing answers as they come back."""
    for channel in sorted({h.message.channel for h in handovers}):
        pace.reserve(channel, sum(h.message.channel == channel for h in handovers))
    # In the order claimed, as a send always went: the simulator's seeded failures fall on the
    # same friends run after run, and channels rarely mix in one batch.
    # How many answers may wait to be stored together: about 50 ms of sending, and at least 4.
    # Storing takes the dispatcher's thread (and Python's lock, which the calls in flight need)
    # for a few milliseconds plus a little per answer: too many at once makes the next message
    # late, one at a time costs a commit a message.
    store_every = max(4, math.ceil(0.05 / pace.interval))
    for handover in handovers:
        while flight.full():
            progress.keep(flight.answered(block=True))
        progress.keep(flight.answered())
        if progress.waiting and (
            pace.wait_ahead(handover.message.channel) >= STORE_IN_A_WAIT_OF
            or len(progress.waiting) >= store_every
        ):
            # Stored together, one commit for many: in a wait for the slot long enough for it,
            # or once enough are waiting. One commit a message cost more than the message
            # (4 ms on SQLite, against 1 ms of everything else).
            progress.record()
        pace.go(handover.message.channel)
        ours = _still_ours(progress.sender, handover)
        if ours is not None:
            flight.start(ours)
    progress.record(flight.answered())


def dispatch_day(
    sender: Sender,
    schedule: Schedule,
    day: date,
    post: Post | None,
    wait_for_retries: bool = True,
    kind: str = "post",
) -> int:
    """Send every pending delivery of the day that this dispatcher can claim; returns how many.

    With `wait_for_retries`, it also sleeps until deliveries waiting on a backoff are due.
    `kind`: the day's posts, or its invites (whose text is on each row, so `post` is None).
    """
    rate = sender.settings.send_rate_per_second
    # The pace is shared through the database with every other process sending (pace.py).
    pace = Pace(sender.session, rate, sender.sleep)
    total = count_by_status(sender.session, schedule.campaign, day).get(DeliveryStatus.PENDING, 0)
    # Looked up once per day's send, not per friend: approval changes over days, not seconds.
    approved = approved_template(sender.session, sender.provider.name, schedule.campaign, day)
    sender.session.commit()  # the worker threads' provider calls may need the database (the simulator)
    progress = _Progress(sender, total)
    # A provider says if it would rather take one call at a time (the simulator does).
    most = most_in_flight(rate) if sender.provider.sends_in_parallel else 1
    flight = InFlight(sender.provider, most)
    try:
        while True:
            now = sender.clock()
            claimed = claims.claim_batch(
                sender.session, schedule.campaign, day, kind, now, claim_batch_size(rate)
            )
            if claimed:
                _send_paced(
                    pace, flight, _handovers(sender, claimed, kind, post, schedule, approved), progress
                )
                continue
            # Nothing left to claim: the answers still to come may hand rows back for a retry.
            while len(flight):
                progress.record(flight.answered(block=True))
            now = sender.clock()
            retry_at = _earliest_retry(sender, schedule, day, kind) if wait_for_retries else None
            if retry_at is None:
                return progress.handled
            sender.sleep(max(0.0, (retry_at - now).total_seconds()))
    finally:
        flight.close()
