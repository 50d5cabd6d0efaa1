"""The watch: what the organiser must act on about the posts, found afresh each time it runs.

Run by the clock's 30-second tick and by `advent alerts` (so the listing is current even when the
clock is not running). Three conditions are raised here, one alert per campaign day each:
- not_delivered: the provider took posts that did not arrive (failed or undelivered receipts);
- short_day: a day finished with fewer posts handed over than planned (the provider refused
  them, or WhatsApp needed a template there was none of);
- receipt_missing: posts handed over hours ago with no word from the carrier yet.
A post counts in at most one of the first two, so one problem is never told twice. The watchdog
(advent.organiser.watchdog) adds a send that stalled and a day whose posts are not arriving,
which are texted to the organiser's own phone. An alert's
counts are kept up to date while it is open; when its condition clears it is resolved. The watch
also resolves alerts raised elsewhere once their condition has cleared (a missed day sent by
hand, a full list with room again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, func, select

from advent.content.schedules import Schedule
from advent.organiser.alerts import alert, alert_key, open_alerts
from advent.organiser.watchdog import WATCHDOG, Limits, watchdog
from advent.people.subscriptions import active_count
from advent.store.tables import DayRun, Delivery, OrganiserAlert, Subscriber

NOT_DELIVERED = "not_delivered"
SHORT_DAY = "short_day"
RECEIPT_MISSING = "receipt_missing"
WATCHED = (NOT_DELIVERED, SHORT_DAY, RECEIPT_MISSING, *WATCHDOG)

# Receipts normally come within minutes, and the clock's reconcile asks the provider about quiet
# messages every few minutes; one still without a word from the carrier after six hours will not
# get one by waiting, and six hours still leaves the organiser the rest of the day to act.
RECEIPT_OVERDUE = timedelta(hours=6)
# Handed over, but the carrier has said nothing yet. "sent" is left out: it is the carrier's
# word, and some carriers never confirm delivery, so an SMS may rightly stay "sent" for good.
NO_CARRIER_WORD = ("accepted", "scheduled", "queued", "sending")
# Taken by the provider and then lost.
NOT_ARRIVED = ("failed", "undelivered")
# Settled without ever reaching the provider.
NEVER_HANDED = ("failed", "needs_template")
TOP_REASONS = 3

Counts = dict[tuple[str, str | None], int]  # (status, reason) -> how many


@dataclass(frozen=True)
class Finding:
    kind: str
    campaign: str
    day: date
    message: str


def watch(
    session: Session, schedules: list[Schedule], now: datetime, limits: Limits | None = None
) -> list[OrganiserAlert]:
    """Raise what needs acting on (once per key), refresh the counts of what is still open,
    resolve what has cleared, and commit. Returns the watched alerts open now. `limits`: the
    watchdog's settings (`Limits.of(settings)`), its defaults when not given."""
    current = set()
    raised = []
    guarded = [
        Finding(f.kind, f.campaign, f.day, f.message)
        for f in watchdog(session, schedules, limits or Limits(), now)
    ]
    for found in not_delivered(session) + short_days(session) + missing_receipts(session, now) + guarded:
        key = alert_key(found.kind, found.campaign, found.day)
        current.add(key)
        if _resolved_as_it_stands(session, key, found.message):
            continue
        raised.append(
            alert(session, found.campaign, found.kind, found.message, now, day=found.day, refresh=True)
        )
    for earlier in open_alerts(session, WATCHED):
        if earlier.key not in current:
            _close(session, earlier, now)
    resolve_cleared(session, schedules, now)
    session.commit()
    return raised


def _resolved_as_it_stands(session: Session, key: str, message: str) -> bool:
    """The organiser resolved this alert (failed posts stay failed, so its condition never
    clears by itself) and nothing has changed since: it is not raised again. New counts make a
    new message, and a new alert."""
    last = session.exec(
        select(OrganiserAlert).where(OrganiserAlert.key == key).order_by(OrganiserAlert.id.desc())
    ).first()
    return last is not None and last.resolved_at is not None and last.message == message


# --- the conditions ---------------------------------------------------------------------------


def _handed_over() -> ColumnElement[bool]:
    # The provider's id proves a hand-over even where a crash kept the time from being stored.
    return or_(Delivery.handed_over_at.is_not(None), Delivery.provider_sid.is_not(None))


def _by_day(session: Session, *conditions: ColumnElement[bool]) -> dict[tuple[str, date], Counts]:
    """Posts matching the conditions, counted per campaign day by status and reason."""
    # SQLAlchemy's own select: sqlmodel's is typed for at most four columns.
    rows = session.execute(
        sa_select(Delivery.campaign, Delivery.day, Delivery.status, Delivery.error_reason, func.count())
        .join(DayRun, (DayRun.campaign == Delivery.campaign) & (DayRun.day == Delivery.day), isouter=True)
        .where(Delivery.kind == "post", *conditions)
        .group_by(Delivery.campaign, Delivery.day, Delivery.status, Delivery.error_reason)
    ).all()
    days: dict[tuple[str, date], Counts] = {}
    for campaign, day, status, reason, n in rows:
        days.setdefault((campaign, day), {})[(status, reason)] = n
    return days


def _posts(session: Session, campaign: str, day: date, *conditions: ColumnElement[bool]) -> int:
    return session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.kind == "post", Delivery.campaign == campaign, Delivery.day == day, *conditions)
    ).one()


def reasons(counts: Counts) -> str:
    """ "2 undelivered: unknown handset; 1 failed: ...", the most common first."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0], item[0][1] or ""))
    parts = [f"{n} {status}: {reason or 'no reason given'}" for (status, reason), n in ranked[:TOP_REASONS]]
    rest = sum(n for _, n in ranked[TOP_REASONS:])
    if rest:
        parts.append(f"{rest} more for other reasons")
    return "; ".join(parts)


def _see(day: date) -> str:
    return f"See `advent stats --problems --date {day}`"


def not_delivered(session: Session) -> list[Finding]:
    """Days with posts the provider took but could not deliver."""
    found = []
    for (campaign, day), counts in sorted(
        _by_day(session, Delivery.status.in_(NOT_ARRIVED), _handed_over()).items()
    ):
        total = _posts(session, campaign, day)
        found.append(
            Finding(
                NOT_DELIVERED,
                campaign,
                day,
                f"{campaign} {day}: {sum(counts.values())} of {total} not delivered "
                f"({reasons(counts)}). {_see(day)}",
            )
        )
    return found


def short_days(session: Session) -> list[Finding]:
    """Finished days on which some posts never reached the provider."""
    found = []
    for (campaign, day), counts in sorted(
        _by_day(session, DayRun.status == "sent", Delivery.status.in_(NEVER_HANDED), ~_handed_over()).items()
    ):
        # A post cancelled because the person said STOP was rightly not sent: not planned.
        planned = _posts(session, campaign, day, Delivery.status != "cancelled")
        handed = _posts(session, campaign, day, _handed_over())
        found.append(
            Finding(
                SHORT_DAY,
                campaign,
                day,
                f"{campaign} {day}: the day finished with {handed} of {planned} "
                f"handed over to the provider ({reasons(counts)}). {_see(day)}",
            )
        )
    return found


def missing_receipts(session: Session, now: datetime) -> list[Finding]:
    """Days with posts handed over more than RECEIPT_OVERDUE ago and no word since."""
    hours = int(RECEIPT_OVERDUE.total_seconds() // 3600)
    found = []
    for (campaign, day), counts in sorted(
        _by_day(
            session, Delivery.status.in_(NO_CARRIER_WORD), Delivery.handed_over_at <= now - RECEIPT_OVERDUE
        ).items()
    ):
        waiting = sum(counts.values())
        statuses: dict[str, int] = {}
        for (status, _), n in counts.items():
            statuses[status] = statuses.get(status, 0) + n
        states = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        found.append(
            Finding(
                RECEIPT_MISSING,
                campaign,
                day,
                f"{campaign} {day}: {waiting} post{'s' if waiting != 1 else ''} "
                f"handed over more than {hours} hours ago still "
                f"{'have' if waiting != 1 else 'has'} no receipt ({states}); run "
                f"`advent reconcile` to ask the provider, and check its message log "
                f"if that does not settle them",
            )
        )
    return found


# --- alerts raised elsewhere, resolved here ---------------------------------------------------

Cleared = Callable[[Session, OrganiserAlert, dict[str, Schedule]], bool]


def _subscriber_id(found: OrganiserAlert) -> int | None:
    return int(found.subject) if found.subject and found.subject.isdecimal() else None


def _day_sent(session: Session, found: OrganiserAlert, _: dict[str, Schedule]) -> bool:
    if found.day is None:
        return False
    run = session.exec(
        select(DayRun.status).where(DayRun.campaign == found.campaign, DayRun.day == found.day)
    ).first()
    return run == "sent"


def _nothing_pending(session: Session, found: OrganiserAlert, _: dict[str, Schedule]) -> bool:
    return found.day is not None and not _posts(
        session, found.campaign or "", found.day, Delivery.status == "pending"
    )


def _nothing_unknown(session: Session, found: OrganiserAlert, _: dict[str, Schedule]) -> bool:
    if found.day is None:
        return False
    who = _subscriber_id(found)
    about_one = [Delivery.subscriber_id == who] if who is not None else []
    return not _posts(session, found.campaign or "", found.day, Delivery.status == "unknown", *about_one)


def _room_again(session: Session, found: OrganiserAlert, schedules: dict[str, Schedule]) -> bool:
    schedule = schedules.get(found.campaign or "")
    return schedule is not None and active_count(session, schedule.campaign) < schedule.list_cap


def _number_fixed(session: Session, found: OrganiserAlert, _: dict[str, Schedule]) -> bool:
    who = _subscriber_id(found)
    subscriber = session.get(Subscriber, who) if who is not None else None
    return subscriber is not None and subscriber.status != "invalid"


# Alerts whose condition can be checked; the others (a duplicate send, a filtered post) record
# something that happened, and stay open for the organiser to read.
CLEARED: dict[str, Cleared] = {
    "missed_day": _day_sent,
    "day_failed": _day_sent,
    "unsent_deliveries": _nothing_pending,
    "unknown_delivery": _nothing_unknown,
    "list_full": _room_again,
    "invalid_number": _number_fixed,
}


def resolve_cleared(session: Session, schedules: list[Schedule], now: datetime) -> int:
    """Resolve open alerts raised elsewhere whose condition has cleared; returns how many."""
    by_campaign = {schedule.campaign: schedule for schedule in schedules}
    closed = 0
    for found in open_alerts(session, tuple(CLEARED)):
        # An alert from before keys existed does not say which day it is about: left as it is.
        if found.key is not None and CLEARED[found.kind](session, found, by_campaign):
            _close(session, found, now)
            closed += 1
    return closed


def _close(session: Session, found: OrganiserAlert, now: datetime) -> None:
    found.resolved_at = now
    session.add(found)
