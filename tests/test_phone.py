"""`advent phone`: a friend's phone on the simulated network, saying what really happened."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from advent.cli import main
from tests.conftest import Clock
from tests.twilio_double import twilio_setup

ANNA = "+447911123456"


@pytest.fixture
def advent(runtime):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), obj=runtime, catch_exceptions=False)

    return run


@pytest.mark.parametrize("channel", [[], ["--whatsapp"]], ids=["sms", "whatsapp"])
def test_a_second_free_text_in_a_day_says_it_was_stored_not_that_twilio_answered(advent, channel):
    advent("phone", ANNA, "HAPPY", *channel)
    first = advent("phone", ANNA, "Loved", "today's", "one", "thank", "you", *channel)
    second = advent("phone", ANNA, "And", "the", "tea", "too", *channel)
    assert "reply:" in first.output and "will read this" in first.output
    assert second.exit_code == 0
    assert (
        "(no reply: the service already thanked this friend today; the text is stored for the organiser)"
    ) in second.output
    assert "Twilio" not in second.output and "provider" not in second.output


def test_the_services_answer_lands_on_the_simulated_phone(advent, simulator):
    advent("phone", ANNA, "HAPPY")
    received = simulator.phone.messages_to(ANNA)
    # The answer first; then, as she joined after her 08:00 with late_joiners = "today",
    # today's post straight away.
    assert [m.kind for m in received] == ["reply", "post"]
    assert "you're in" in received[0].body and received[0].channel == "sms"


def test_on_a_real_provider_phone_refuses_in_a_plain_sentence(project: Path, clock: Clock):
    real = twilio_setup(project, clock).runtime
    result = CliRunner().invoke(main, ["phone", ANNA, "HAPPY"], obj=real)
    assert result.exit_code == 1
    assert "plays a friend's phone on the built-in simulator" in result.output
    assert "ADVENT_PROVIDER=simulator" in result.output and "Traceback" not in result.output
