"""One pace per sender across every process that sends: the carrier's rate is never exceeded,
however many dispatchers (the scheduler, a manual `advent send`) share a day."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from advent.sending.pace import HEADROOM, Pace, reserve_slots
from tests.helpers import add_people

# `advent` processes here read the real clock: sent at each friend's own morning, a send
# started in their night would wait for it. Everyone at one moment keeps the test to the hour.
pytestmark = pytest.mark.usefixtures("one_moment_for_everyone")

DAY = date(2026, 12, 3)
JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
# Two a second: slots half a second apart, and the headroom (3%) on top.
SLOT = round(0.5 * (1 + HEADROOM), 6)


class FakeTime:
    """Seconds since the epoch that move only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_sends_from_one_sender_are_spaced_by_one_over_the_rate_and_the_headroom(runtime):
    fake = FakeTime()
    pace = Pace(runtime.session(), 2.0, fake.sleep, now=fake)
    for _ in range(4):
        pace.wait("sms")
    # Two a second: the first goes at once, each later one half a second (and 3%) after the last.
    assert fake.slept == [0.515, 0.515, 0.515] == [SLOT] * 3


def test_two_processes_share_one_pace(runtime):
    fake = FakeTime()
    scheduler = Pace(runtime.session(), 2.0, fake.sleep, now=fake)
    manual_send = Pace(runtime.session(), 2.0, fake.sleep, now=fake)
    for _ in range(2):
        scheduler.wait("sms")
        manual_send.wait("sms")
    assert fake.slept == [SLOT] * 3


def test_an_idle_sender_saves_up_no_burst(runtime):
    fake = FakeTime()
    pace = Pace(runtime.session(), 2.0, fake.sleep, now=fake)
    pace.wait("sms")
    fake.now += 3600  # an hour without sending
    for _ in range(3):
        pace.wait("sms")
    # The first after the idle hour goes at once; the next ones keep the rate, as always.
    assert fake.slept == [SLOT] * 2


def test_sms_and_whatsapp_are_separate_senders(runtime):
    fake = FakeTime()
    pace = Pace(runtime.session(), 2.0, fake.sleep, now=fake)
    for channel in ("sms", "whatsapp", "sms", "whatsapp"):
        pace.wait(channel)
    # Each channel's second message waits for its own slot only: the WhatsApp one's half a
    # second starts from WhatsApp's first, which the SMS wait already moved the clock past.
    assert fake.slept == [SLOT]


def test_several_slots_reserved_at_once_push_the_next_reservation_back(runtime):
    session = runtime.session()
    first = reserve_slots(session, "sms", 0.25, count=4, now=100.0)
    after = reserve_slots(session, "sms", 0.25, now=100.0)
    assert (first, after) == (0.0, 1.0)


def test_without_a_clock_given_the_pace_follows_the_database_clock(runtime):
    # On PostgreSQL the server's clock, on SQLite this process's: either way a real moment, so
    # the second of two reservations ten seconds apart waits almost all of the ten.
    session = runtime.session()
    assert reserve_slots(session, "sms", 10.0) == 0.0
    assert 5.0 < reserve_slots(session, "sms", 10.0) <= 10.0


def _advent_env(settings, rate: int) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("ADVENT_", "TWILIO_"))}
    return {
        **inherited,
        "ADVENT_PROVIDER": "twilio",
        "DATABASE_URL": settings.database_url,
        "ADVENT_INSTANCE_DIR": str(settings.instance_dir),
        "ADVENT_MESSAGES_DIR": str(settings.messages_dir),
        "ADVENT_SCHEDULES_DIR": str(settings.schedules_dir),
        "ADVENT_SEND_RATE": str(rate),
        "ADVENT_ORGANISER_NAME": "Sam",
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "TWILIO_FROM": settings.twilio_from,
        "TWILIO_WHATSAPP_FROM": settings.twilio_whatsapp_from,
        "TWILIO_API_BASE_URL": settings.twilio_api_base_url,
        "PUBLIC_BASE_URL": settings.public_base_url,
        "PYTHONPATH": str(ROOT),
    }


# The clock's job for the day, as `advent scheduler` runs it once the day is due (09:00 UTC on
# the day, after its 08:00 London send time). Its sender keeps the wall clock, as the two `advent
# send` processes do: with a clock days ahead of theirs, its recovery would take their live
# claims for stale ones and send them again, a duplicate no deployment with one clock can make.
SCHEDULER_JOB = """
import sys
from datetime import datetime
from advent.runtime import build_runtime
from advent.sending.catch_up import due_day, send_scheduled_day
from advent.sending.dispatch import Sender

rt = build_runtime()
schedule = rt.schedule()
day = due_day(schedule, datetime.fromisoformat(sys.argv[1]))
with rt.session() as session:
    sender = Sender(session, rt.provider, rt.settings)
    print(send_scheduled_day(sender, schedule, day, rt.settings.messages_dir))
"""


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    # cwd: the test's own folder, so a developer's .env is never read.
    return subprocess.Popen(
        [sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def busiest_second(arrivals: list[float], allowance: float) -> int:
    """The most arrivals in any window of one second less `allowance`."""
    times = sorted(arrivals)
    return max(sum(1 for t in times[i:] if t < start + 1.0 - allowance) for i, start in enumerate(times))


def closest_span(arrivals: list[float], count: int) -> float:
    """The shortest time in which `count` arrivals came: over a second for `rate + 1`, always."""
    times = sorted(arrivals)
    return min(times[i + count - 1] - times[i] for i in range(len(times) - count + 1))


@pytest.mark.timing
def test_two_sends_and_the_scheduler_at_once_keep_one_pace(tw_over_http, double):
    rate, friends = 5, 40
    # The double records arrivals in this test's process; with no status callbacks to post and
    # serve here, the arrival times are not held up behind that work (GIL and CPU).
    double.send_callbacks = False
    settings, schedule = tw_over_http.settings, tw_over_http.runtime.schedule()
    with tw_over_http.runtime.session() as session:
        people = add_people(session, schedule, friends, JOINED)
    env, here = _advent_env(settings, rate), settings.instance_dir
    send = ["-m", "advent.cli", "send", "--date", DAY.isoformat()]
    running = [
        _start(send, env, here),
        _start(send, env, here),
        _start(["-c", SCHEDULER_JOB, datetime(2026, 12, 3, 9, 0, tzinfo=UTC).isoformat()], env, here),
    ]
    outputs = [p.communicate(timeout=120)[0] for p in running]
    assert [p.returncode for p in running] == [0, 0, 0], outputs

    assert Counter(form["To"] for form in double.created) == {p.phone: 1 for p in people}
    # The day was shared: the scheduler's job handed over some, and not all.
    handled = int(re.search(r"handled=(\d+)", outputs[2]).group(1))  # type: ignore[union-attr]
    assert 0 < handled < friends, outputs[2]
    span = max(double.arrived) - min(double.arrived)
    print(  # the figures docs/reliability.md reports (pytest -s)
        f"\npace: {friends} arrivals from 3 processes in {span:.2f} s "
        f"({(friends - 1) / span:.2f} a second, limit {rate}); busiest 1 s window "
        f"{busiest_second(double.arrived, allowance=0.0)}, busiest 0.75 s window "
        f"{busiest_second(double.arrived, allowance=0.25)}, busiest 0.6 s window "
        f"{busiest_second(double.arrived, allowance=0.4)}; the closest {rate + 1} arrivals "
        f"span {closest_span(double.arrived, rate + 1):.3f} s"
    )
    # The carrier's count: no second (any second, not only whole ones) holds more than the rate.
    # The slots' 3% headroom leaves 30 ms for arrivals closer than their slots; three processes
    # each keeping its own pace (the bug this guards against) put about 15 into a second.
    assert busiest_second(double.arrived, allowance=0.0) <= rate
