"""The Alerts page: open alerts with what to do, Resolve (a form with CSRF), and the resolved
ones below. Driven by a real send on a simulator whose phones are all switched off."""

from __future__ import annotations

import random
import re

import pytest
from sqlmodel import select

from advent.organiser.alerts import alert
from advent.providers.simulator import Simulator
from advent.store.tables import OrganiserAlert
from tests.dashboard_helpers import csrf_token, post_form
from tests.helpers import add_people
from tests.stats_helpers import JOINED, advent

NOT_DELIVERED = "advent-2026 2026-12-03: 2 of 2 not delivered"


class PhonesOff(random.Random):
    """The network's dice always land on "fail": every post comes back undelivered."""

    def random(self) -> float:
        return 0.0


@pytest.fixture
def undelivered(runtime, clock):
    runtime.provider = Simulator(
        runtime.settings.simulator_path, delay_seconds=2, failure_rate=0.5, clock=clock, rng=PhonesOff()
    )
    add_people(runtime.session(), runtime.schedule(), 2, JOINED)
    advent(runtime, "send", "--date", "2026-12-03")
    clock.advance(60)  # the "undelivered" receipts are due


def open_section(html: str) -> str:
    return html.split('id="open-heading"', 1)[1].split('id="resolved-heading"', 1)[0]


def resolved_section(html: str) -> str:
    return html.split('id="resolved-heading"', 1)[1]


def alert_id(runtime, kind: str) -> int:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        found = session.exec(
            select(OrganiserAlert).where(OrganiserAlert.kind == kind, OrganiserAlert.resolved_at.is_(None))
        ).one()
    assert found.id is not None
    return found.id


def test_nothing_open_is_said_plainly(organiser):
    html = organiser.get("/alerts").get_data(as_text=True)
    assert "Open (0)" in html and "Nothing needs your attention." in html


def test_an_open_alert_shows_what_happened_and_what_to_do(organiser, undelivered):
    html = organiser.get("/alerts").get_data(as_text=True)
    shown = open_section(html)
    assert "Open (1)" in html
    assert "Posts not delivered" in shown and NOT_DELIVERED in shown
    assert "What to do:</strong> Open the day to see who and why." in shown
    assert 'href="/days/advent-2026/2026-12-03"' in shown
    assert '<span class="badge">new</span>' in shown
    # Shown once as new, as `advent alerts` does; the next visit lists it without the badge.
    again = open_section(organiser.get("/alerts").get_data(as_text=True))
    assert NOT_DELIVERED in again and "badge" not in again


def test_the_page_counts_as_shown_for_advent_alerts(organiser, runtime, undelivered):
    organiser.get("/alerts")
    listing = advent(runtime, "alerts")
    assert "Nothing needs your attention." in listing and "Still open, shown before: 1 alert" in listing


def test_resolve_removes_it_from_the_open_list_and_it_stays_resolved(organiser, runtime, undelivered):
    organiser.get("/alerts")
    found = alert_id(runtime, "not_delivered")
    answer = post_form(organiser, "/alerts", f"/alerts/{found}/resolve")
    assert answer.status_code == 302 and answer.headers["Location"] == "/alerts"
    html = organiser.get("/alerts").get_data(as_text=True)
    assert "Resolved: " + NOT_DELIVERED in html  # the flash
    assert NOT_DELIVERED not in open_section(html) and "Nothing needs your attention." in html
    assert NOT_DELIVERED in resolved_section(html) and "Resolved (1" in html
    # The posts are still undelivered, but the watch does not raise it again unchanged.
    html = organiser.get("/alerts").get_data(as_text=True)
    assert NOT_DELIVERED not in open_section(html)


def test_a_resolved_alert_comes_back_when_its_numbers_change(organiser, runtime, clock, undelivered):
    organiser.get("/alerts")
    post_form(organiser, "/alerts", f"/alerts/{alert_id(runtime, 'not_delivered')}/resolve")
    # A friend joins late and their post of the day does not arrive either.
    add_people(runtime.session(), runtime.schedule(), 1, JOINED, start=300000)
    advent(runtime, "send", "--date", "2026-12-03")
    clock.advance(60)
    shown = open_section(organiser.get("/alerts").get_data(as_text=True))
    assert "advent-2026 2026-12-03: 3 of 3 not delivered" in shown


def test_each_kind_has_what_to_do_and_an_unknown_kind_still_gets_a_sentence(organiser, runtime, clock):
    with runtime.session() as session:
        alert(session, "advent-2026", "content_alert", "advent-2026 2026-12-03: filtered as spam", clock())
        alert(session, None, "something_new", "A thing nobody has named yet.", clock())
        session.commit()
    shown = open_section(organiser.get("/alerts").get_data(as_text=True))
    assert "A post was filtered" in shown
    # Commands in the advice and the message read as code.
    assert (
        "reword the coming posts (fewer links and capitals) and run <code>advent content check</code>"
        in shown
    )
    assert "Something new" in shown and "resolve the alert once it is dealt with" in shown


def test_resolving_needs_the_forms_token_and_a_real_alert(organiser, runtime, undelivered):
    organiser.get("/alerts")
    found = alert_id(runtime, "not_delivered")
    assert organiser.post(f"/alerts/{found}/resolve").status_code == 400  # no CSRF token
    assert post_form(organiser, "/alerts", "/alerts/999999/resolve").status_code == 404
    assert NOT_DELIVERED in open_section(organiser.get("/alerts").get_data(as_text=True))


def test_every_resolve_button_is_a_form_with_its_token(organiser, undelivered):
    html = organiser.get("/alerts").get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="/alerts/\d+/resolve">(.*?)</form>', html, re.S)
    assert len(forms) == 1
    assert csrf_token(forms[0]) and "Resolve</button>" in forms[0]
