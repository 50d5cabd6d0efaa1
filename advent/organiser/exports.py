"""CSV exports for a spreadsheet: every delivery, every person, every reply.

Numbers are masked, as on every page. Text a friend wrote is untrusted: a cell that a
spreadsheet would read as a formula (=, +, -, @, a tab or a carriage return first) gets a
leading apostrophe, so opening the file can never run anything (OWASP's CSV injection advice).
A byte-order mark first makes Excel read the file as UTF-8 (names, emoji, the mask's dots).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import case, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, func

from advent.organiser.campaign_report import CampaignReport
from advent.organiser.own_phone import ORGANISER
from advent.people.phones import mask
from advent.store.tables import Delivery, DeliveryEvent, InboundMessage, Subscriber, UTCDateTime

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | date | datetime | None

DELIVERY_HEADER = [
    "campaign", "day", "kind", "name", "number", "channel", "status", "error_code", "reason",
    "handed_over_at", "sent_at", "delivered_at", "read_at",
]  # fmt: skip
PEOPLE_HEADER = [
    "campaign", "name", "number", "channel", "status", "first_seen_at", "invited_at", "joined_at",
    "stopped_at",
]  # fmt: skip
REPORT_HEADER = [
    "date", "day", "title", "sent", "delivered", "read_rate_percent", "replies", "joins", "stops",
]  # fmt: skip
REPLY_HEADER = [
    "received_at", "campaign", "answers_day", "name", "number", "channel", "text", "media", "read_at",
]  # fmt: skip


def safe_cell(value: Cell) -> str | int:
    """What goes in the cell: times in ISO 8601 (UTC), text defused against formulas."""
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    out.write(BOM)
    # Spreadsheets expect CRLF line ends (RFC 4180), which is also the csv module's default.
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def _number(phone: str | None) -> str:
    return mask(phone.removeprefix("whatsapp:")) if phone else ""


def _first(status: str):  # type: ignore[no-untyped-def]
    # When the first report of this status came: one grouped pass over the events.
    return type_coerce(
        func.min(case((DeliveryEvent.status == status, DeliveryEvent.received_at))), UTCDateTime()
    ).label(f"{status}_at")


def deliveries_csv(session: Session) -> str:
    times = (
        sa_select(DeliveryEvent.delivery_id, _first("sent"), _first("delivered"), _first("read"))
        .where(DeliveryEvent.status.in_(("sent", "delivered", "read")))
        .group_by(DeliveryEvent.delivery_id)
        .subquery()
    )
    query = (
        sa_select(
            Delivery.campaign,
            Delivery.day,
            Delivery.kind,
            Subscriber.name,
            Delivery.address,
            Delivery.channel,
            Delivery.status,
            Delivery.error_code,
            Delivery.error_reason,
            Delivery.handed_over_at,
            times.c.sent_at,
            times.c.delivered_at,
            times.c.read_at,
        )  # fmt: skip
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .join(times, times.c.delivery_id == Delivery.id, isouter=True)
        .order_by(Delivery.campaign, Delivery.day, Delivery.kind, Delivery.id)
    )
    rows = session.execute(query).all()
    return to_csv(DELIVERY_HEADER, ([*r[:4], _number(r[4]), *r[5:]] for r in rows))


def people_csv(session: Session) -> str:
    query = sa_select(
        Subscriber.campaign, Subscriber.name, Subscriber.phone, Subscriber.channel, Subscriber.status,
        Subscriber.created_at, Subscriber.invited_at, Subscriber.joined_at, Subscriber.stopped_at,
    ).where(Subscriber.campaign != ORGANISER).order_by(Subscriber.campaign, Subscriber.id)  # fmt: skip
    rows = session.execute(query).all()
    return to_csv(PEOPLE_HEADER, ([*r[:2], _number(r[2]), *r[3:]] for r in rows))


def replies_csv(session: Session) -> str:
    query = (
        sa_select(
            InboundMessage.received_at,
            InboundMessage.campaign,
            InboundMessage.in_reply_to_day,
            Subscriber.name,
            InboundMessage.phone,
            InboundMessage.channel,
            InboundMessage.body,
            InboundMessage.num_media,
            InboundMessage.read_at,
        )  # fmt: skip
        .join(Subscriber, Subscriber.id == InboundMessage.subscriber_id, isouter=True)
        .where(InboundMessage.kind == "reply")
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
    )
    rows = session.execute(query).all()
    return to_csv(REPLY_HEADER, ([*r[:4], _number(r[4]), *r[5:]] for r in rows))


def campaign_report_csv(report: CampaignReport) -> str:
    """The report as one sheet, a row per date: each campaign day's post and what it drew, and
    every date people joined or stopped (before the first day too), so joins over time and
    each day's numbers sit side by side. Counts only: no number, no friend's words."""
    days = {d.day: d for d in report.days}
    people = {p.day: p for p in report.joins}
    rows = []
    for on in sorted(set(days) | set(people)):
        post, came = days.get(on), people.get(on)
        rows.append(
            [
                on,
                post.number if post else None,
                post.title if post else None,
                post.sent if post else None,
                post.delivered if post else None,
                post.read_rate if post else None,
                post.replies if post else None,
                came.joins if came else 0,
                came.stops if came else 0,
            ]
        )
    return to_csv(REPORT_HEADER, rows)
