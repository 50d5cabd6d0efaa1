"""Small builders shared by tests: people on the list, and counting what phones received."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from advent.content.posts import load_post
from advent.content.schedules import Schedule
from advent.people.subscriptions import join
from advent.providers.base import TemplateDraft
from advent.runtime import Runtime
from advent.sending.days import day_run
from advent.sending.dispatch import outgoing
from advent.sending.plan import plan_day
from advent.store.tables import DayRun, Delivery, OrganiserAlert, Subscriber

# Two friends who joined before the calendar began (see the `friends` fixture).
FRIENDS = ["+447911123456", "+447700900123"]
# The shipped schedule sends at 08:00 London; in December that is 08:00 UTC.
DEC_3_SEND = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def add_people(
    session: Session, schedule: Schedule, count: int, at: datetime, channel: str = "sms", start: int = 100000
) -> list[Subscriber]:
    """`count` people who joined at `at`, with valid UK mobile numbers."""
    people = []
    for n in range(count):
        result = join(
            session,
            schedule,
            phone=f"+447911{start + n:06d}",
            channel=channel,
            method="keyword",
            now=at,
            text=schedule.join_keyword,
        )
        people.append(result.subscriber)
    session.commit()
    return people


def add_friends(runtime: Runtime, schedule: Schedule) -> list[str]:
    with runtime.session() as session:
        for phone in FRIENDS:
            join(
                session,
                schedule,
                phone=phone,
                channel="sms",
                method="keyword",
                now=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
            )
        session.commit()
    return FRIENDS


def run_of(runtime: Runtime, campaign: str, day: date) -> DayRun | None:
    """The day's record, as the organiser would see it."""
    with runtime.session() as session:
        return session.exec(select(DayRun).where(DayRun.campaign == campaign, DayRun.day == day)).first()


def alerts(runtime: Runtime, about: date | None = None) -> list[OrganiserAlert]:
    """The organiser's alerts, or those about one day."""
    with runtime.session() as session:
        found = session.exec(select(OrganiserAlert).order_by(OrganiserAlert.id)).all()
    return [a for a in found if about is None or str(about) in a.message]


def crash_mid_send(
    runtime: Runtime, schedule: Schedule, day: date, *, stored: int = 0, unstored: int = 0
) -> None:
    """Leave `day` as a scheduler killed mid-send would: "sending"; the first `stored` rows
    handed over with the provider's id saved, the next `unstored` handed over but still claimed
    without an id (killed in between), the rest pending."""
    at = schedule.send_at(day) + timedelta(minutes=1)
    post = load_post(runtime.settings.messages_dir, schedule, day)
    with runtime.session() as session:
        run = day_run(session, schedule, day)
        run.status, run.started_at = "sending", at
        session.add(run)
        session.commit()
        plan_day(session, schedule, day, at)
        rows = session.exec(select(Delivery).where(Delivery.day == day).order_by(Delivery.id)).all()
        for n, delivery in enumerate(rows[: stored + unstored]):
            subscriber = session.get(Subscriber, delivery.subscriber_id)
            sent = runtime.provider.send(outgoing(delivery, subscriber, post, schedule, at))
            delivery.status, delivery.claim_token, delivery.claimed_at = "claimed", "dead", at
            delivery.attempts = 1
            if n < stored:
                delivery.status, delivery.provider_sid = "queued", sent.sid
            session.add(delivery)
        session.commit()


# A daily WhatsApp template as an organiser might word it: fixed words around the variable.
DAILY_TEMPLATE = TemplateDraft(
    friendly_name="advent_2026_daily",
    language="en",
    body="Today's kind thought from Sam: {{1}} Reply any time, or STOP to stop.",
    samples={"1": "Be gentle with yourself today."},
    quick_reply="Thanks ❤️",
)


def approved_whatsapp_template(runtime: Runtime, clock, variables: dict[str, str] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Make, submit and have approved a daily WhatsApp template on the simulator (two days
    before the clock's time, as an organiser would have done it), and set it as every schedule's
    template, as its whatsapp_template_sid line would. Returns its SID."""
    now = clock.now
    clock.now = now - timedelta(days=2)
    made = runtime.provider.templates.create(DAILY_TEMPLATE)
    runtime.provider.templates.submit(made.sid, "advent_2026_daily", "UTILITY")
    clock.now = now
    assert runtime.provider.templates.status(made.sid).approval == "approved"
    runtime.schedules = [
        s.model_copy(
            update={
                "whatsapp_template_sid": made.sid,
                "whatsapp_template_variables": variables or {"1": "a small kindness is on its way."},
            }
        )
        for s in runtime.schedules
    ]
    return made.sid


def replay_all(runtime: Runtime) -> None:
    """Replay the journal until it is empty; a replay the webhook started in its own thread may
    be holding the journal's lock for a moment."""
    from advent.held_webhooks import replay_waiting

    deadline = time.monotonic() + 30
    while runtime.journal().waiting():
        assert time.monotonic() < deadline, "the journal was not replayed within 30 s"
        replay_waiting(runtime)
        time.sleep(0.05)


def simulator_env(settings) -> dict[str, str]:  # noqa: ANN001
    """The environment an `advent` subprocess needs to use this test's folders and database."""
    return {
        "ADVENT_INSTANCE_DIR": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "ADVENT_MESSAGES_DIR": str(settings.messages_dir),
        "ADVENT_SCHEDULES_DIR": str(settings.schedules_dir),
        "ADVENT_SIMULATOR_PATH": str(settings.simulator_path),
        "ADVENT_PROVIDER": "simulator",
    }


def send_at(runtime: Runtime, timing: str) -> Schedule:
    """Every schedule sending at each friend's own time ("friend") or at the schedule's one
    moment ("schedule"), as the `send_at` line would; returns the default schedule."""
    runtime.schedules = [s.model_copy(update={"timing": timing}) for s in runtime.schedules]
    return runtime.schedule()


# The organiser's own phone in tests (London, guessed from the number): ADVENT_ORGANISER_PHONE.
ORGANISER_PHONE = "+447911900900"


def sweep_at(runtime: Runtime, now: datetime) -> list[str]:
    """One beat of the clock's sweep at `now` (what the scheduler runs every 30 s)."""
    from advent.sending.dispatch import Sender
    from advent.sending.sweep import sweep

    with runtime.session() as session:
        sender = Sender(session, runtime.provider, runtime.settings, clock=lambda: now)
        return sweep(sender, runtime.schedules, runtime.settings.messages_dir)
