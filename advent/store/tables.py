"""The database tables, in the organiser's words.

Table models only; input is validated by pydantic models next to the code that takes it.
The schema itself is owned by the Alembic migrations in `advent/store/migrations/`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, Text, TypeDecorator, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on every database.

    SQLite has no timezone type and hands back naive values, which Python refuses to compare
    with aware ones; storing naive UTC and re-attaching UTC on the way out keeps both honest.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _moment(nullable: bool = True) -> Any:
    """A timestamp column; required ones default to now."""
    if nullable:
        return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Subscriber(SQLModel, table=True):
    """One person on one campaign, reached at one number on one channel."""

    __tablename__ = "subscriber"
    __table_args__ = (UniqueConstraint("phone", "channel", "campaign", name="uq_subscriber_number"),)

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20, index=True, description="E.164, e.g. +447700900123")
    channel: str = Field(max_length=10, description="sms or whatsapp")
    campaign: str = Field(max_length=60, index=True)
    # active: on the list; stopped: said STOP; invited: asked, not yet joined;
    # waiting: the list was full; invalid: the provider says the number cannot receive; removed.
    # Changed only by advent.states.subscribers (SubscriberStatus).
    # None only until advent.states.subscribers makes its first move (and flushes the row).
    status: str = Field(default=None, max_length=12, index=True, nullable=False)
    name: str | None = Field(default=None, max_length=80)
    profile_name: str | None = Field(default=None, max_length=80)
    created_at: datetime = _moment(nullable=False)
    joined_at: datetime | None = _moment()
    stopped_at: datetime | None = _moment()
    invited_at: datetime | None = _moment()
    # WhatsApp allows free-form messages only within 24 hours of the person's last message.
    last_inbound_at: datetime | None = _moment()
    # Where the friend's morning is (an IANA name), guessed from the number on joining and
    # changed by texting TIME; None: the schedule's. Used when the schedule sends at each
    # friend's own time (advent.sending.mornings).
    timezone: str | None = Field(default=None, max_length=64)
    # An hour of their own ("TIME 7:30"), as HH:MM; None: the schedule's send_time.
    send_time: str | None = Field(default=None, max_length=5)
    # When the timezone or hour last changed: a post due earlier under the new morning is not
    # lost, it goes from this moment (advent.sending.mornings).
    morning_set_at: datetime | None = _moment()


class ConsentEvent(SQLModel, table=True):
    """Every change to a subscriber (opt-in, opt-out, invite, invalid number), kept for good:
    who agreed to what, when and how."""

    __tablename__ = "consent_event"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int | None = Field(default=None, foreign_key="subscriber.id", index=True)
    phone: str = Field(max_length=20, index=True)
    channel: str = Field(max_length=10)
    campaign: str = Field(max_length=60)
    kind: str = Field(max_length=12, description="opt_in, opt_out, invite, waiting, invalid")
    method: str = Field(max_length=20, description="keyword, invite_reply, organiser, provider_error")
    text_received: str | None = Field(default=None, sa_column=Column(Text))
    message_sid: str | None = Field(default=None, max_length=64)
    confirmation_sent: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _moment(nullable=False)


class Delivery(SQLModel, table=True):
    """One day's post to one subscriber: written before the provider is called, claimed once."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "campaign", "day", "kind", "ref", name="uq_delivery_once"),
        Index("ix_delivery_campaign_day_status", "campaign", "day", "status"),
        # The dashboard's counts (calendar, stats, a day's totals) group by these: read from the
        # index alone, the calendar with 240,000 deliveries takes a fifth of the time.
        Index("ix_delivery_counts", "kind", "campaign", "day", "status", "channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    campaign: str = Field(max_length=60)
    day: date
    # post: the day's post; invite: an invitation (its text is in `body`, as there is no file);
    # organiser: a text to the organiser's own phone (advent.organiser.own_phone), never a post.
    kind: str = Field(default="post", max_length=12, sa_column_kwargs={"server_default": "post"})
    # What else makes the row one of a kind: empty for a post or an invite (one a day); for a
    # text to the organiser, what it is about (e.g. "alert 42"), so each is sent exactly once.
    ref: str = Field(default="", max_length=80, sa_column_kwargs={"server_default": ""})
    body: str | None = Field(default=None, sa_column=Column(Text))
    channel: str = Field(max_length=10)
    address: str = Field(max_length=40)
    # Changed only by advent.states.deliveries (DeliveryStatus); a new row is pending.
    status: str = Field(max_length=16, default="pending")
    attempts: int = Field(default=0)
    claim_token: str | None = Field(default=None, max_length=40)
    claimed_at: datetime | None = _moment()
    next_attempt_at: datetime | None = _moment()
    provider_sid: str | None = Field(default=None, max_length=64, unique=True)
    error_code: str | None = Field(default=None, max_length=20)
    error_reason: str | None = Field(default=None, sa_column=Column(Text))
    used_template: bool = Field(default=False)
    # WhatsApp refused the free-form text (outside the 24-hour window): the next attempt, the
    # only one allowed, goes as the approved template.
    template_only: bool = Field(default=False)
    created_at: datetime = _moment(nullable=False)
    updated_at: datetime = _moment(nullable=False)
    handed_over_at: datetime | None = _moment()
    # When it was due on the friend's own clock (their morning); None on rows from before.
    due_at: datetime | None = _moment()


class DeliveryEvent(SQLModel, table=True):
    """Every status report about a delivery, as received (kept even when it changes nothing),
    and every change our own code made to its status (claimed, retried, cancelled, ...)."""

    __tablename__ = "delivery_event"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int | None = Field(default=None, foreign_key="delivery.id", index=True)
    provider_sid: str | None = Field(default=None, max_length=64, index=True)
    # As reported: Twilio's longest is partially_delivered (19 characters).
    status: str = Field(max_length=32)
    error_code: str | None = Field(default=None, max_length=20)
    source: str = Field(
        max_length=12, description="twilio, simulator, sender, reconcile, subscriber, late_joiner, receipt"
    )
    idempotency_token: str | None = Field(default=None, max_length=120, unique=True)
    # False until the event has been applied to its delivery (a receipt can beat the send's answer).
    applied: bool = Field(default=False)
    payload: str | None = Field(default=None, sa_column=Column(Text))
    received_at: datetime = _moment(nullable=False)


class InboundMessage(SQLModel, table=True):
    """Every text a person sent us, stored before we answer."""

    __tablename__ = "inbound_message"

    id: int | None = Field(default=None, primary_key=True)
    provider_sid: str | None = Field(default=None, max_length=64, unique=True)
    phone: str = Field(max_length=40, index=True)
    channel: str = Field(max_length=10)
    to: str | None = Field(default=None, max_length=40)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    num_media: int = Field(default=0)
    profile_name: str | None = Field(default=None, max_length=80)
    kind: str = Field(max_length=10, description="join, stop, help, time, reply")
    subscriber_id: int | None = Field(default=None, foreign_key="subscriber.id", index=True)
    campaign: str | None = Field(default=None, max_length=60)
    in_reply_to_day: date | None = None
    reply_text: str | None = Field(default=None, sa_column=Column(Text))
    received_at: datetime = _moment(nullable=False)
    # When the organiser marked it read on the Replies page (None: still unread).
    read_at: datetime | None = _moment()
    # It holds a phrase from the campaign's care list (advent.content.care): answered with the
    # support line, and pinned on the Replies page until the organiser marks it handled.
    needs_care: bool = Field(default=False, index=True)
    handled_at: datetime | None = _moment()


class DayRun(SQLModel, table=True):
    """What happened to one campaign day: sent, still sending, missed or failed. Never silent."""

    __tablename__ = "day_run"
    __table_args__ = (UniqueConstraint("campaign", "day", name="uq_day_run"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=60)
    day: date
    # Changed only by advent.states.day_runs (DayRunStatus).
    status: str = Field(max_length=12, description="due, sending, sent, missed, failed")
    due_at: datetime | None = _moment()
    started_at: datetime | None = _moment()
    finished_at: datetime | None = _moment()
    note: str | None = Field(default=None, sa_column=Column(Text))


class OrganiserAlert(SQLModel, table=True):
    """Something the organiser must see: a missed day, a full list, a blocked region."""

    __tablename__ = "organiser_alert"
    # One open alert per key, kept by the database: two processes noticing the same problem at
    # once (the clock and a web worker) raise it once, not twice (see organiser/alerts.py).
    __table_args__ = (
        Index(
            "uq_organiser_alert_open_key",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign: str | None = Field(default=None, max_length=60)
    kind: str = Field(max_length=30)
    # What the alert is about, as one key (kind, campaign, day, subject): an alert is raised
    # once per key and resolved when its condition clears, never repeated by a tick.
    key: str | None = Field(default=None, max_length=240, index=True)
    day: date | None = None
    subject: str | None = Field(default=None, max_length=80)
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _moment(nullable=False)
    seen_at: datetime | None = _moment()
    resolved_at: datetime | None = _moment()


class SchedulerLease(SQLModel, table=True):
    """Which scheduler process holds the clock, and its last heartbeat."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=120)
    beat_at: datetime = _moment(nullable=False)
    expires_at: datetime = _moment(nullable=False)


class Stamp(SQLModel, table=True):
    """Facts about the database itself, e.g. which provider it belongs to: a database that
    rehearsed on the simulator must never be sent from for real (and the other way round)."""

    __tablename__ = "stamp"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
    set_at: datetime = _moment(nullable=False)


class Organiser(SQLModel, table=True):
    """Someone who may sign in to the dashboard. Only a hash of the password is kept."""

    __tablename__ = "organiser"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = _moment(nullable=False)
    password_set_at: datetime = _moment(nullable=False)


class SignInFailure(SQLModel, table=True):
    """A failed sign-in, kept a short while: repeated failures for one account or from one
    address are slowed down, across every web worker (hence a table, not memory)."""

    __tablename__ = "sign_in_failure"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=80, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = _moment(nullable=False)


class WhatsAppTemplate(SQLModel, table=True):
    """A WhatsApp template made by `advent templates`: which campaign (and post) it is for, and
    its approval as last seen. The sender uses the approved one, so no SID is copied by hand."""

    __tablename__ = "whatsapp_template"
    __table_args__ = (UniqueConstraint("provider", "sid", name="uq_whatsapp_template_sid"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)  # which network made it: simulator or twilio
    campaign: str = Field(max_length=60, index=True)
    # daily: every post as its variable; invite: the invitation; day: one post's own template
    purpose: str = Field(max_length=12)
    day: date | None = None  # for purpose "day"
    sid: str = Field(max_length=64)
    friendly_name: str = Field(max_length=120)
    language: str = Field(max_length=10)
    category: str | None = Field(default=None, max_length=20)
    approval: str = Field(max_length=20)
    rejection_reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = _moment(nullable=False)
    checked_at: datetime | None = _moment()


class SendPace(SQLModel, table=True):
    """The next free moment to send from each sender, shared by every process that sends, so
    together they keep to the carrier's rate (advent.sending.pace)."""

    __tablename__ = "send_pace"

    sender: str = Field(primary_key=True, max_length=40)  # the channel: sms or whatsapp
    # Seconds since the epoch, on the database server's clock on PostgreSQL.
    next_slot: float
