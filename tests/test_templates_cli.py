"""`advent templates` with Twilio's Content API stood in for by `responses`: what the organiser
reads at each step, what is recorded, and a day's post going out as the approved template."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import parse_qs

import pytest
import responses
from click.testing import CliRunner, Result
from sqlmodel import select

from advent.cli.checks import doctor
from advent.cli.templates import templates
from advent.content.posts import load_post
from advent.people.subscriptions import join
from advent.sending.days import send_day
from advent.store.tables import Delivery, WhatsAppTemplate
from tests.conftest import Clock
from tests.content_double import (
    CONTENT,
    SID,
    approval,
    approval_url,
    made,
    refused,
    sent_json,
    submitted,
    unreachable,
)
from tests.test_doctor import account_ok, number
from tests.twilio_double import MESSAGES_URL, WHATSAPP_FROM, TwilioSetup, message_json, twilio_setup

DAY = date(2026, 12, 3)
FRIEND = "+447700900123"


@pytest.fixture
def tw(project, clock: Clock) -> TwilioSetup:
    made_up = twilio_setup(project, clock)
    made_up.runtime.clock = clock
    return made_up


def run(tw: TwilioSetup, *args: str) -> Result:
    return CliRunner().invoke(templates, list(args), obj=tw.runtime)


def recorded(tw: TwilioSetup) -> list[WhatsAppTemplate]:
    with tw.runtime.session() as session:
        return list(session.exec(select(WhatsAppTemplate)).all())


def created_and_submitted(tw: TwilioSetup, mock: responses.RequestsMock) -> None:
    made(mock)
    submitted(mock)
    assert run(tw, "create", "--campaign", "advent-2026").exit_code == 0
    assert run(tw, "submit", "--campaign", "advent-2026").exit_code == 0


def test_create_makes_the_campaign_template_in_the_organisers_words_and_says_what_next(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    made(twilio_api)
    result = run(tw, "create", "--campaign", "advent-2026")
    assert result.exit_code == 0, result.output
    (sent,) = sent_json(twilio_api, CONTENT)
    assert sent["types"]["twilio/text"]["body"] == (
        "Today's kind thought from Sam (Advent of Kindness):\n\n{{1}}\n\nReply STOP to stop these messages."
    )
    assert sent["language"] == "en"
    # The first post is the sample, folded to what Meta accepts in a variable (255 characters).
    first = load_post(tw.settings.messages_dir, tw.runtime.schedule(), date(2026, 12, 1)).text
    assert first.startswith(sent["variables"]["1"].rstrip("…"))
    assert len(sent["variables"]["1"]) <= 255
    assert f"made advent_2026_daily ({SID}, advent-2026, every post as {{{{1}}}}): MARKETING" in result.output
    assert "utility    non-promotional messages" in result.output
    assert "marketing  everything else" in result.output
    assert result.output.rstrip().endswith("Next: advent templates submit --campaign advent-2026")
    (row,) = recorded(tw)
    assert (row.provider, row.purpose, row.sid, row.approval, row.category) == (
        "twilio",
        "daily",
        SID,
        "not_submitted",
        "MARKETING",
    )


def test_create_per_post_makes_one_fixed_template_per_post(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    for number_ in range(1, 25):
        made(twilio_api, sid=f"HX{number_:032x}", name=f"advent_2026_day_{number_:02d}")
    result = run(tw, "create", "--per-post", "--category", "utility")
    assert result.exit_code == 0, result.output
    bodies = [sent["types"]["twilio/text"]["body"] for sent in sent_json(twilio_api, CONTENT)]
    assert len(bodies) == 24 and "{{1}}" not in "".join(bodies)
    assert all("variables" not in sent for sent in sent_json(twilio_api, CONTENT))
    rows = recorded(tw)
    assert [r.day for r in rows][:2] == [date(2026, 12, 1), date(2026, 12, 2)]
    assert {r.category for r in rows} == {"UTILITY"}


def test_create_refuses_without_the_organisers_name(
    project, clock: Clock, twilio_api: responses.RequestsMock
) -> None:
    tw = twilio_setup(project, clock, ADVENT_ORGANISER_NAME="the organiser")
    result = run(tw, "create")
    assert result.exit_code == 1
    assert "set ADVENT_ORGANISER_NAME first" in result.output
    assert len(twilio_api.calls) == 0


def test_a_second_create_while_the_first_is_alive_names_it(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    made(twilio_api)
    run(tw, "create")
    result = run(tw, "create")
    assert result.exit_code == 1
    assert (
        f"advent-2026 already has its daily template advent_2026_daily ({SID}, not_submitted)"
        in result.output
    )


def test_submit_asks_for_approval_under_the_lowercase_name_and_chosen_category(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    created_and_submitted(tw, twilio_api)
    assert sent_json(twilio_api, approval_url() + "/whatsapp") == [
        {"name": "advent_2026_daily", "category": "MARKETING"}
    ]
    (row,) = recorded(tw)
    assert row.approval == "received"
    again = run(tw, "submit")
    assert "No template of advent-2026 is waiting to be submitted" in again.output


def test_status_approved_says_friends_outside_the_window_now_get_it(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    created_and_submitted(tw, twilio_api)
    approval(twilio_api, "approved")
    result = run(tw, "status")
    assert result.exit_code == 0, result.output
    assert "approved: friends outside the 24-hour window get it" in result.output
    assert recorded(tw)[0].approval == "approved"


def test_status_rejected_gives_metas_reason_and_the_way_on(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    created_and_submitted(tw, twilio_api)
    approval(twilio_api, "rejected", reason="The template is too generic.")
    result = run(tw, "status", "--campaign", "advent-2026")
    assert (
        "rejected by Meta: The template is too generic. Change the wording if needed and make "
        "a new one with `advent templates create --campaign advent-2026`"
    ) in result.output
    assert recorded(tw)[0].rejection_reason == "The template is too generic."
    made(twilio_api, sid="HX" + "2" * 32, name="advent_2026_daily_2")
    assert run(tw, "create").exit_code == 0  # a rejected one may be replaced, under a new name
    assert sent_json(twilio_api, CONTENT)[-1]["friendly_name"] == "advent_2026_daily_2"


def test_status_with_bad_credentials_says_so_and_keeps_the_last_known_state(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    created_and_submitted(tw, twilio_api)
    refused(twilio_api, responses.GET, approval_url(), 20003, 401, "Authenticate")
    result = run(tw, "status")
    assert result.exit_code == 1
    assert "Twilio refused the account credentials for its Content API (HTTP 401)" in result.output
    assert "(last known: received)" in result.output
    assert "Traceback" not in result.output


def test_create_when_twilio_cannot_be_reached_is_one_sentence(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    unreachable(twilio_api, responses.POST, CONTENT)
    result = run(tw, "create")
    assert result.exit_code == 1
    assert "Error: Twilio's Content API (content.twilio.com)" in result.output
    assert recorded(tw) == []


def test_after_approval_a_friend_outside_the_window_gets_the_template_with_the_post(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    created_and_submitted(tw, twilio_api)
    approval(twilio_api, "approved")
    run(tw, "status")
    session, now = tw.sender.session, tw.sender.clock()
    schedule = tw.runtime.schedule()
    friend = join(session, schedule, phone=FRIEND, channel="whatsapp", method="keyword", now=now).subscriber
    friend.last_inbound_at = now - timedelta(hours=30)  # joined, never wrote again
    session.add(friend)
    session.commit()
    twilio_api.add(
        responses.POST,
        MESSAGES_URL,
        json=message_json("SM1", "whatsapp:" + FRIEND, "", from_=WHATSAPP_FROM),
        status=201,
    )
    post = load_post(tw.settings.messages_dir, schedule, DAY)
    send_day(tw.sender, schedule, DAY, post)
    (form,) = [parse_qs(c.request.body) for c in twilio_api.calls if c.request.url == MESSAGES_URL]
    assert form["ContentSid"] == [SID]
    assert json.loads(form["ContentVariables"][0]) == {"1": post.text}
    assert "Body" not in form
    session.expire_all()
    delivery = session.exec(select(Delivery)).one()
    assert (delivery.status, delivery.used_template) == ("queued", True)


def test_doctor_lists_each_template_with_its_approval(
    tw: TwilioSetup, twilio_api: responses.RequestsMock
) -> None:
    created_and_submitted(tw, twilio_api)
    account_ok(twilio_api)
    number(twilio_api)
    approval(twilio_api, "pending")
    result = CliRunner().invoke(doctor, [], obj=tw.runtime)
    assert (
        "warn WhatsApp template advent_2026_daily (advent-2026, every post): Meta is reviewing it"
    ) in result.output
    assert "FAIL WhatsApp template: advent-2026 day(s) 1-24 have no approved template" in result.output
    twilio_api.replace(responses.GET, approval_url(), json={"sid": SID, "whatsapp": {"status": "approved"}})
    result = CliRunner().invoke(doctor, [], obj=tw.runtime)
    assert "ok   WhatsApp template advent_2026_daily (advent-2026, every post): approved" in result.output
    assert "ok   WhatsApp templates: every day of advent-2026 has one" in result.output
    assert result.exit_code == 0, result.output
