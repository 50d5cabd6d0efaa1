"""WhatsApp templates on the simulator: made, submitted, approved (or rejected) on its clock, and
only an approved one reaches a friend outside the 24-hour window, as on Twilio."""

from __future__ import annotations

import re

import pytest

from advent.config import load_settings
from advent.organiser.alerts import open_alerts
from advent.providers.base import OutgoingMessage, ProviderError, TemplateDraft
from advent.providers.simulator import Simulator
from advent.runtime import Runtime
from tests.helpers import DAILY_TEMPLATE
from tests.test_simulator_window import DEC_1, DEC_2, FRIEND, JOINS_AT, send_and_collect, texts

VARIABLES = {"1": "notice one thing you did well today."}
RENDERED = (
    "Today's kind thought from Sam: notice one thing you did well today. Reply any time, or STOP to stop."
)


def use_template(runtime: Runtime, sid: str) -> None:
    """The schedule names the template, as its whatsapp_template_sid line would."""
    runtime.schedules = [
        s.model_copy(update={"whatsapp_template_sid": sid, "whatsapp_template_variables": VARIABLES})
        for s in runtime.schedules
    ]


def joined_on_day_one(runtime, sender, clock) -> None:
    texts(runtime, sender, clock, "HAPPY", JOINS_AT)
    send_and_collect(runtime, sender, clock, DEC_1)


def test_a_new_template_has_a_twilio_shaped_sid_and_waits_to_be_submitted(simulator):
    made = simulator.templates.create(DAILY_TEMPLATE)
    assert re.fullmatch(r"HX[0-9a-f]{32}", made.sid)
    assert (made.friendly_name, made.approval) == ("advent_2026_daily", "not_submitted")


def test_approval_comes_after_the_configured_time_on_the_simulators_clock(simulator, clock):
    sid = simulator.templates.create(DAILY_TEMPLATE).sid
    submitted = simulator.templates.submit(sid, "advent_2026_daily", "UTILITY")
    assert (submitted.approval, submitted.category) == ("received", "UTILITY")
    clock.advance(30)
    assert simulator.templates.status(sid).approval == "pending"
    clock.advance(31)
    assert simulator.templates.status(sid).approval == "approved"


def test_day_two_goes_as_the_approved_template_and_arrives(runtime, sender, clock):
    joined_on_day_one(runtime, sender, clock)
    templates = runtime.provider.templates
    sid = templates.create(DAILY_TEMPLATE).sid
    templates.submit(sid, "advent_2026_daily", "UTILITY")
    use_template(runtime, sid)
    clock.advance(61)  # past the simulated approval, long before day 2's send
    day_two = send_and_collect(runtime, sender, clock, DEC_2)
    assert (day_two.status, day_two.used_template) == ("read", True)
    received = [m for m in runtime.provider.phone.messages_to(FRIEND) if m.kind == "post"][-1]
    # The friend reads the template with the variable filled in, and its button under it.
    assert (received.body, received.quick_reply) == (RENDERED, "Thanks ❤️")


def test_a_template_still_waiting_for_approval_is_refused_outside_the_window(runtime, sender, clock):
    joined_on_day_one(runtime, sender, clock)
    sid = runtime.provider.templates.create(DAILY_TEMPLATE).sid
    use_template(runtime, sid)  # made, never submitted
    day_two = send_and_collect(runtime, sender, clock, DEC_2)
    assert (day_two.status, day_two.error_code) == ("needs_template", "63016")
    assert f"WhatsApp refused template {sid}: it is not yet submitted for approval" in day_two.error_reason


def test_a_rejected_template_stays_refused_with_its_reason(project, runtime, sender, clock):
    settings = load_settings(
        _env_file=None,
        ADVENT_INSTANCE_DIR=str(project / "instance"),
        ADVENT_SIMULATOR_APPROVAL_SECONDS="600",
        ADVENT_SIMULATOR_TEMPLATE_VERDICT="reject",
        ADVENT_SIMULATOR_REJECTION_REASON="the template is too generic",
    )
    network = Simulator.from_settings(settings)
    network.clock = clock
    runtime.provider = sender.provider = network
    joined_on_day_one(runtime, sender, clock)
    sid = network.templates.create(DAILY_TEMPLATE).sid
    network.templates.submit(sid, "advent_2026_daily", "MARKETING")
    use_template(runtime, sid)
    clock.advance(601)
    state = network.templates.status(sid)
    assert (state.approval, state.rejection_reason) == ("rejected", "the template is too generic")
    day_two = send_and_collect(runtime, sender, clock, DEC_2)
    assert day_two.status == "needs_template"
    assert "rejected by WhatsApp: the template is too generic" in day_two.error_reason
    clock.advance(86400)  # time does not change WhatsApp's mind
    assert network.templates.status(sid).approval == "rejected"


def test_meta_rejects_a_template_that_ends_with_its_variable_whatever_the_setting(simulator, clock):
    ends = TemplateDraft("advent_daily", "en", "Today's kind thought: {{1}}", {"1": "Rest."})
    sid = simulator.templates.create(ends).sid
    simulator.templates.submit(sid, "advent_daily", "UTILITY")
    clock.advance(61)
    state = simulator.templates.status(sid)
    assert state.approval == "rejected"
    assert state.rejection_reason == (
        "a variable is at the start or the end of the body; put fixed words before and after it"
    )


def test_an_unknown_template_sid_is_refused_and_the_organiser_is_told(runtime, sender, clock):
    joined_on_day_one(runtime, sender, clock)
    use_template(runtime, "HX" + "0" * 32)
    day_two = send_and_collect(runtime, sender, clock, DEC_2)
    assert (day_two.status, day_two.error_code) == ("failed", "21655")
    assert f"WhatsApp template HX{'0' * 32} does not exist" in day_two.error_reason
    with runtime.session() as session:
        told = [a.message for a in open_alerts(session, ("campaign_alert",))]
    assert told and "check the SID in the schedule or the post" in told[0]


def test_asking_about_an_unknown_template_says_so_plainly(simulator):
    with pytest.raises(ProviderError) as refused:
        simulator.templates.status("HX" + "f" * 32)
    assert refused.value.code == "20404"
    assert str(refused.value) == (
        f"the simulated network has no WhatsApp template HX{'f' * 32}; check the SID "
        "(HX and 32 hex characters) or create the template first"
    )


def test_a_template_name_wants_lowercase_and_underscores(simulator):
    sid = simulator.templates.create(DAILY_TEMPLATE).sid
    with pytest.raises(ProviderError, match="use lowercase letters, digits and underscores only"):
        simulator.templates.submit(sid, "Advent Daily", "UTILITY")
    with pytest.raises(ProviderError, match="choose one of UTILITY, MARKETING, AUTHENTICATION"):
        simulator.templates.submit(sid, "advent_daily", "PROMOTION")


def test_inside_the_window_a_template_needs_no_approval(simulator, clock):
    """Within 24 hours of the friend's text any content may go, a template not yet approved too."""
    simulator.note_inbound(FRIEND, "whatsapp", clock())
    sid = simulator.templates.create(DAILY_TEMPLATE).sid
    clock.advance(3600)
    sent = simulator.send(
        OutgoingMessage(
            reference="1",
            to=FRIEND,
            channel="whatsapp",
            body="Day 3's post",
            template_sid=sid,
            template_variables=VARIABLES,
            in_session_window=False,
        )
    )
    assert sent.used_template
    assert simulator.phone.messages_to(FRIEND)[-1].body == RENDERED
