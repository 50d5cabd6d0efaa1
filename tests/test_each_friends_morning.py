"""Each friend's own morning (issue 11): a whole campaign driven by the clock, friends in many
zones, across the spring clock changes of North America, Europe and Australia.

The clock is driven as the scheduler drives it: wake at the next moment something is due
(next_wake), run one pass (run_morning_pass) with that moment passed in, again and again. Nothing
reads the real date.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from advent.clock.mornings import run_morning_pass
from advent.people.subscriptions import join
from advent.providers.simulator import Simulator
from advent.runtime import build_runtime
from advent.sending.catch_up import catch_up, sender_at
from advent.sending.friend_days import next_wake, still_to_come
from advent.sending.sweep import sweep
from advent.states.day_runs import DayRunStatus
from advent.store.tables import DayRun, Delivery, Subscriber
from tests.conftest import Clock
from tests.database_template import install_migrated_database

# Spring 2027: North America's clocks go forward on 14 March, Europe's on 28 March, and
# Sydney's go back on 4 April.
FIRST, LAST = date(2027, 3, 10), date(2027, 4, 6)

# One friend per zone: from UTC+14 to UTC-12, with a half-hour zone and both hemispheres.
ZONES = {
    "+447911100001": "Europe/London",
    "+14165550101": "America/Toronto",
    "+61412000001": "Australia/Sydney",
    "+2348031000001": "Africa/Lagos",
    "+919812000001": "Asia/Kolkata",
    "+68650000001": "Pacific/Kiritimati",  # UTC+14: the first to see each date
    "+447911100002": "Etc/GMT+12",  # UTC-12: the last (a friend who said TIME Etc/GMT+12)
    "+13105550101": "America/Los_Angeles",
}


def friend_schedule(project: Path) -> Path:
    """A campaign sent at 08:00 in each friend's own time, with a post for every day."""
    days = (LAST - FIRST).days + 1
    folder = project / "messages" / "spring"
    folder.mkdir(parents=True)
    (folder / "replies.toml").write_text(
        (project / "messages" / "advent-2026" / "replies.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for n in range(1, days + 1):
        post = f'---\nday: {n}\ntitle: "Day {n}"\n---\nSpring kindness, day {n}: smile at someone.\n'
        (folder / f"{n:02d}.md").write_text(post, encoding="utf-8")
    for old in (project / "schedules").glob("*.toml"):
        old.unlink()
    path = project / "schedules" / "spring.toml"
    path.write_text(
        f'campaign = "spring-2027"\ntitle = "Spring of Kindness"\ncontent = "spring"\n'
        f"first_day = {FIRST}\nlast_day = {LAST}\nsend_time = 08:00:00\n"
        f'timezone = "Europe/London"\nchannels = ["sms", "whatsapp"]\njoin_keyword = "SPRING"\n'
        f'late_joiners = "tomorrow"\nsend_at = "friend"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def spring(project: Path, settings, clock: Clock):  # type: ignore[no-untyped-def]
    friend_schedule(project)
    clock.now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    simulator = Simulator(settings.simulator_path, delay_seconds=2, clock=clock, rng=random.Random(7))
    install_migrated_database(settings.database_url)
    made = build_runtime(settings, provider=simulator, check_schema=False)
    made.clock = clock
    with made.session() as session:
        for phone, zone in ZONES.items():
            joined = join(
                session,
                made.schedule(),
                phone=phone,
                channel="sms",
                method="keyword",
                now=clock.now,
                text="SPRING",
            )
            joined.subscriber.timezone = zone
            session.add(joined.subscriber)
        session.commit()
    return made


def drive(runtime, clock: Clock, until: datetime) -> list[datetime]:  # type: ignore[no-untyped-def]
    """Wake and send as the clock does, until `until`: the sweep now (it runs every 30 s), then
    the wake job at each next wake."""
    schedule = runtime.schedule()
    wakes = []
    with runtime.session() as session:
        sender = sender_at(session, runtime.provider, runtime.settings, clock.now)
        sweep(sender, [schedule], runtime.settings.messages_dir)
    while True:
        with runtime.session() as session:
            wake = next_wake(session, schedule, clock.now)
        if wake is None or wake > until:
            return wakes
        clock.now = wake
        wakes.append(wake)
        run_morning_pass(runtime, schedule, wake)


def posts_by_friend(runtime) -> dict[str, list[tuple[date, datetime]]]:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        rows = session.exec(
            select(Subscriber.phone, Delivery.day, Delivery.handed_over_at, Delivery.status)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .where(Delivery.kind == "post")
        ).all()
    found: dict[str, list[tuple[date, datetime]]] = {phone: [] for phone in ZONES}
    for phone, day, handed, status in rows:
        assert handed is not None, f"{phone} day {day} was never handed over ({status})"
        found[phone].append((day, handed))
    return found


def assert_every_post_once_at_eight(runtime) -> None:  # type: ignore[no-untyped-def]
    schedule = runtime.schedule()
    for phone, posts in posts_by_friend(runtime).items():
        zone = ZoneInfo(ZONES[phone])
        days = [day for day, _ in posts]
        assert sorted(days) == schedule.days(), f"{phone} ({zone}) did not get every day exactly once"
        for day, handed in sorted(posts):
            local = handed.astimezone(zone)
            # Day N on the campaign's Nth date in their own timezone, at 08:00 their time.
            assert local.date() == day, f"{phone} got {day} on {local.date()} ({zone})"
            assert time(8, 0) <= local.time() < time(8, 1), f"{phone} got {day} at {local:%H:%M} ({zone})"
            assert not schedule.is_quiet(local.time())


def test_every_friend_gets_every_post_once_at_eight_their_time_across_the_clock_changes(spring, clock):
    drive(spring, clock, until=datetime(2027, 4, 8, tzinfo=UTC))

    assert_every_post_once_at_eight(spring)
    with spring.session() as session:
        runs = session.exec(select(DayRun)).all()
    assert {r.day for r in runs} == set(spring.schedule().days())
    assert all(r.status == DayRunStatus.SENT for r in runs), [(r.day, r.status, r.note) for r in runs]


def test_the_clock_wakes_for_each_friends_morning_not_once_a_day(spring, clock):
    wakes = drive(spring, clock, until=datetime(2027, 3, 12, tzinfo=UTC))

    # 10 and 11 March: eight zones, each its own 08:00 (London's is also the day's own moment).
    assert len(wakes) >= 14
    # UTC+14's 08:00 on 10 March is 18:00 UTC on 9 March: the first wake of the campaign.
    assert wakes[0] == datetime(2027, 3, 9, 18, 0, tzinfo=UTC)


def test_a_restart_of_the_clock_between_mornings_loses_and_repeats_nothing(spring, clock):
    # The clock process stops on 20 March between two mornings and a new one starts 40 minutes
    # later, catching up as a starting scheduler does, then goes on.
    stop = datetime(2027, 3, 20, 10, 0, tzinfo=UTC)  # after London's 08:00, before Toronto's 12:00 UTC
    drive(spring, clock, until=stop)
    clock.now = stop + timedelta(minutes=40)
    lines = catch_up(spring.session, spring.provider, spring.settings, [spring.schedule()], clock.now)
    assert all("missed" not in line for line in lines), lines
    drive(spring, clock, until=datetime(2027, 4, 8, tzinfo=UTC))

    posts = posts_by_friend(spring)
    for phone, got in posts.items():
        days = sorted(day for day, _ in got)
        assert days == spring.schedule().days(), phone


def test_mornings_passed_while_the_clock_was_down_are_sent_within_the_grace_or_recorded_missed_per_friend(
    spring, clock
):
    assert spring.settings.misfire_grace_minutes == 180
    drive(spring, clock, until=datetime(2027, 3, 15, 0, 0, tzinfo=UTC))
    # Down from 00:00 to 09:30 UTC on 15 March. Kiritimati's 08:00 (18:00 UTC the day before)
    # and Sydney's (21:00 UTC) came before it stopped; Kolkata's (02:30 UTC) passed 7 hours
    # before the restart, Lagos' (07:00 UTC) 2.5 hours, London's (08:00 UTC) 1.5 hours.
    restart = datetime(2027, 3, 15, 9, 30, tzinfo=UTC)
    clock.now = restart
    catch_up(spring.session, spring.provider, spring.settings, [spring.schedule()], restart)

    with spring.session() as session:
        rows = {
            phone: (status, reason, handed)
            for phone, status, reason, handed in session.exec(
                select(Subscriber.phone, Delivery.status, Delivery.error_reason, Delivery.handed_over_at)
                .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                .where(Delivery.day == date(2027, 3, 15))
            ).all()
        }
    assert rows["+919812000001"][0] == "missed"
    assert "grace window (180 minutes)" in rows["+919812000001"][1]
    lagos, london = rows["+2348031000001"], rows["+447911100001"]
    # Within the grace window (180 minutes): sent at the restart, late but not lost.
    assert lagos[2] is not None and lagos[2] >= restart and lagos[0] != "missed"
    assert london[2] is not None and london[2] >= restart and london[0] != "missed"
    # Kiritimati's came before the clock stopped: sent on time, and not again.
    assert rows["+68650000001"][2] < datetime(2027, 3, 14, 18, 1, tzinfo=UTC)
    # Toronto's and Los Angeles' mornings are still to come: not planned, not missed.
    assert "+14165550101" not in rows and "+13105550101" not in rows
    with spring.session() as session:
        to_come = still_to_come(session, spring.schedule(), date(2027, 3, 15), restart)
    assert len(to_come) == 3  # Toronto, Los Angeles, UTC-12


def test_the_calendar_door_shows_how_many_friends_are_still_to_come_and_when(spring, clock):
    from advent import create_app
    from tests.dashboard_helpers import make_organiser, sign_in
    from tests.test_calendar import door

    drive(spring, clock, until=datetime(2027, 3, 15, 9, 0, tzinfo=UTC))
    app = create_app(runtime=spring)
    app.config["TESTING"] = True
    make_organiser(spring)
    browser = app.test_client()
    assert sign_in(browser).status_code == 302

    page = browser.get("/").get_data(as_text=True)

    # Day 6 (15 March) at 09:00 UTC: five friends east of London have had it; Toronto (08:00
    # EDT, 12:00 UTC since the 14th), Los Angeles (15:00 UTC) and UTC-12 (20:00 UTC) have not.
    today = door(page.replace("door-spring-2027-", "door-advent-2026-"), 6)
    assert "3 friends still to come, at their own morning: from 15 Mar 12:00 to 15 Mar 20:00" in today
    # Tomorrow's door: Kiritimati's morning of the 16th came at 18:00 UTC on the 15th, not yet.
    tomorrow = door(page.replace("door-spring-2027-", "door-advent-2026-"), 7)
    assert "8 friends still to come" in tomorrow and "from 15 Mar 18:00" in tomorrow
