"""The People page: statuses, masked numbers and a reveal, invites through the same sender as
the command, removal, the waiting list, a person's data as JSON, and erasing a person."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from advent.organiser.stats import day_stats
from advent.receipts import collect_receipts
from advent.store.tables import ConsentEvent, Delivery, Subscriber
from tests.dashboard_helpers import csrf_token, post_form
from tests.test_replies_page import ANNA, BEN, send
from tests.webhook_helpers import text_from

NEW = "+447700900555"  # the UK's drama range: the simulator accepts it, no real phone has it


def page(client, path: str = "/people") -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.get_data(as_text=True)


def subscriber(runtime, phone: str) -> Subscriber:
    with runtime.session() as session:
        return session.exec(select(Subscriber).where(Subscriber.phone == phone)).one()


def act(client, person_id: int, action: str, data: dict[str, str] | None = None):
    return post_form(client, f"/people/{person_id}", f"/people/{person_id}/{action}", data)


def small_list(runtime, schedule, cap: int):
    runtime.schedules = [schedule.model_copy(update={"list_cap": cap})]
    return runtime.schedules[0]


def test_the_list_shows_each_status_how_they_joined_and_their_last_message(
    organiser, runtime, sender, schedule, friends, clock
):
    send(runtime, sender, schedule, date(2026, 12, 3))
    clock.advance(60)
    collect_receipts(sender.session, runtime.provider, clock())
    small_list(runtime, schedule, 2)
    text_from(organiser, "+447911000222", "HAPPY")  # the list is full: waiting
    text_from(organiser, BEN, "STOP")
    html = page(organiser)
    assert re.search(r"Everyone <span class=\"n\">3</span>", html)
    for status, n in (("Active", 1), ("Waiting", 1), ("Stopped", 1), ("Removed", 0)):
        assert f'{status} <span class="n">{n}</span>' in html, status
    assert "joined by texting the join word" in html and "waiting list" in html
    assert "+44•••••••456" in html and ANNA not in html and BEN not in html  # masked, no reveal yet
    assert 'class="ticks read"' in html or 'class="ticks delivered"' in html
    assert "said STOP" in html  # the consent history, folded under each person
    only = page(organiser, "/people?status=waiting")
    assert "+44•••••••222" in only and "+44•••••••456" not in only


def test_a_number_is_revealed_only_when_asked_for(organiser, runtime, friends):
    anna = subscriber(runtime, ANNA)
    assert ANNA not in page(organiser) and ANNA not in page(organiser, f"/people/{anna.id}")
    shown = act(organiser, anna.id, "reveal")
    assert shown.status_code == 200 and ANNA in shown.get_data(as_text=True)
    token = csrf_token(page(organiser))
    as_json = organiser.post(
        f"/people/{anna.id}/reveal", headers={"X-CSRFToken": token, "Accept": "application/json"}
    )
    assert as_json.get_json() == {"number": ANNA}
    assert organiser.post(f"/people/{anna.id}/reveal").status_code == 400  # no token, no number


def test_an_invite_from_the_page_is_an_invite_delivery_with_receipts(organiser, runtime, clock):
    answer = post_form(
        organiser, "/people", "/people/invite", {"number": NEW, "name": "Dot", "channel": "sms"}
    )
    assert answer.status_code == 302
    assert "Invited +44•••••••555 by sms." in page(organiser)
    with runtime.session() as session:
        [invite] = session.exec(select(Delivery)).all()
    assert (invite.kind, invite.address) == ("invite", NEW) and invite.provider_sid
    assert runtime.provider.received_by(NEW)  # it reached the (simulated) phone
    clock.advance(60)
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, clock())
    html = page(organiser, "/people?status=invited")
    assert (
        "Dot" in html
        and "invited by the organiser" in html
        and re.search(r'class="ticks (delivered|read)"', html)
    )


def test_a_bad_number_or_a_second_invite_gets_the_commands_sentence(organiser, runtime, friends):
    post_form(organiser, "/people", "/people/invite", {"number": "12", "channel": "sms"})
    assert "Not invited: &#39;12&#39; is not a valid phone number for region GB" in page(organiser)
    post_form(organiser, "/people", "/people/invite", {"number": ANNA, "channel": "sms"})
    assert "Not invited: already on the list (active)." in page(organiser)
    post_form(organiser, "/people", "/people/invite", {"number": NEW, "channel": "whatsapp"})
    assert (
        "Not invited: WhatsApp lets a business start a conversation only with an approved template"
        in page(organiser)
    )


def test_remove_takes_them_off_as_an_opt_out_and_says_so_if_done_twice(organiser, runtime, friends):
    anna = subscriber(runtime, ANNA)
    assert act(organiser, anna.id, "remove").status_code == 302
    html = page(organiser, f"/people/{anna.id}")
    assert "Removed +44•••••••456 from advent-2026." in html and "taken off the list by the organiser" in html
    assert subscriber(runtime, ANNA).status == "removed"
    organiser.post(f"/people/{anna.id}/remove", data={"csrf_token": csrf_token(html)})
    assert "Not removed: a subscriber cannot go from removed to removed" in page(
        organiser, f"/people/{anna.id}"
    )


@pytest.mark.usefixtures("one_moment_for_everyone")  # today's post planned at once
def test_someone_waiting_moves_onto_the_list_only_when_there_is_room(organiser, runtime, schedule, friends):
    small_list(runtime, schedule, 2)
    text_from(organiser, "+447911000222", "HAPPY")
    waiting = subscriber(runtime, "+447911000222")
    assert waiting.status == "waiting"
    html = page(organiser, f"/people/{waiting.id}")
    assert "The list is full (2)" in html and "disabled" in html
    act(organiser, waiting.id, "admit")
    assert "Not moved: the advent-2026 list is full (2 people)" in page(organiser, f"/people/{waiting.id}")
    assert subscriber(runtime, "+447911000222").status == "waiting"
    act(organiser, subscriber(runtime, ANNA).id, "remove")
    assert "1 place free on the list." in page(organiser, f"/people/{waiting.id}")
    act(organiser, waiting.id, "admit")
    html = page(organiser, f"/people/{waiting.id}")
    assert "is on the advent-2026 list now" in html and "moved from the waiting list onto the list" in html
    assert subscriber(runtime, "+447911000222").status == "active"
    with runtime.session() as session:
        # 3 Dec after the send time, late joiners get today's post: queued for the sweep.
        queued = session.exec(select(Delivery).where(Delivery.subscriber_id == waiting.id)).all()
    assert [(d.day, d.status) for d in queued] == [(date(2026, 12, 3), "pending")]


def test_the_export_is_a_download_with_their_consent_history_texts_and_deliveries(
    organiser, runtime, sender, schedule, friends
):
    send(runtime, sender, schedule, date(2026, 12, 3))
    text_from(organiser, ANNA, "Thank you, lovely")
    anna = subscriber(runtime, ANNA)
    answer = act(organiser, anna.id, "export")
    assert answer.headers["Content-Disposition"] == f'attachment; filename="advent-person-{anna.id}.json"'
    data = json.loads(answer.get_data(as_text=True))
    assert data["number"] == ANNA and data["subscriptions"][0]["status"] == "active"
    assert [(e["kind"], e["method"]) for e in data["consent_history"]] == [("opt_in", "keyword")]
    assert [t["body"] for t in data["texts"]] == ["Thank you, lovely"]
    assert [(d["day"], d["kind"]) for d in data["deliveries"]] == [("2026-12-03", "post")]


def _database_bytes(runtime) -> bytes:
    if make_url(runtime.settings.database_url).get_backend_name() == "postgresql":
        from tests import postgres_mode

        return postgres_mode.stored_text(runtime.settings.database_url)
    path = Path(make_url(runtime.settings.database_url).database or "")
    found = b""
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists():
            found += part.read_bytes()
    return found


def test_erasing_removes_the_number_and_texts_everywhere_and_keeps_the_counts(
    organiser, runtime, sender, schedule, friends, clock
):
    send(runtime, sender, schedule, date(2026, 12, 2))
    send(runtime, sender, schedule, date(2026, 12, 3))
    clock.advance(60)
    collect_receipts(sender.session, runtime.provider, clock())
    text_from(organiser, ANNA, "Secret words from Anna", ProfileName="Anna Example")
    text_from(organiser, ANNA, "HELP")
    anna = subscriber(runtime, ANNA)
    with runtime.session() as session:
        before = [s.to_json() for s in day_stats(session)]
    digits = ANNA.lstrip("+").encode()
    assert digits in _database_bytes(runtime) and b"Secret words" in _database_bytes(runtime)

    confirm = page(organiser, f"/people/{anna.id}/erase")
    assert "cannot be undone" in confirm and "Erase for good" in confirm
    assert "2 messages sent to them" in confirm and subscriber(runtime, ANNA).status == "active"
    answer = organiser.post(f"/people/{anna.id}/erase", data={"csrf_token": csrf_token(confirm)})
    assert answer.status_code == 302

    stored = _database_bytes(runtime)
    for gone in (digits, b"Secret words", b"Anna Example"):
        assert gone not in stored, gone
    with runtime.session() as session:
        assert [s.to_json() for s in day_stats(session)] == before  # every day's counts the same
        erased = session.get(Subscriber, anna.id)
        assert (erased.phone, erased.status, erased.profile_name) == (f"erased-{anna.id}", "removed", None)
        assert [
            e.kind for e in session.exec(select(ConsentEvent).where(ConsentEvent.subscriber_id == anna.id))
        ] == [
            "opt_in",
            "opt_out",
        ]
    listing = page(organiser)
    assert "Erased: their number and texts are gone from 1 list; the counts are kept." in listing
    assert "erased" in listing
    replies = page(organiser, "/replies")
    assert "1 reply" in replies and "Secret words" not in replies


def test_unknown_people_and_bad_filters_are_a_404_not_a_crash(organiser, friends):
    for path in ("/people/abc", "/people/999", "/people/999/erase", "/people?status=happy", "/people?page=x"):
        assert organiser.get(path).status_code == 404, path
    assert post_form(organiser, "/people", "/people/999/remove").status_code == 404
    assert (
        post_form(organiser, "/people", "/people/invite", {"number": NEW, "channel": "fax"}).status_code
        == 400
    )
