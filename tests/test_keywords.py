"""Which family a text belongs to: join, stop, help, or a reply for the organiser to read."""

from __future__ import annotations

import pytest

from advent.people.keywords import classify

CAMPAIGN_WORDS = {"HAPPY"}


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop please",
        "stop!",
        " STOP ",
        "StopAll",
        "unsubscribe",
        "Cancel.",
        "end",
        "QUIT",
        "revoke",
        "optout",
        "STOP sending these please, thank you",
        "cancel please",
        "Unsubscribe me from all of this now",
    ],
)
def test_stop_words_and_their_variants_stop(text):
    assert classify(text, CAMPAIGN_WORDS).kind == "stop"


@pytest.mark.parametrize(
    "text",
    [
        "JOIN",
        "start",
        "Subscribe",
        "yes please",
        "UNSTOP",
        "happy",
        "Happy!",
        "join lucky-tiger",
        "  HAPPY  ",
    ],
)
def test_join_words_and_the_campaign_keyword_join(text):
    assert classify(text, CAMPAIGN_WORDS).kind == "join"


def test_the_campaign_keyword_is_reported_so_it_joins_that_campaign():
    assert classify("happy", CAMPAIGN_WORDS).campaign_keyword == "HAPPY"
    assert classify("join", CAMPAIGN_WORDS).campaign_keyword is None


@pytest.mark.parametrize("text", ["HELP", "help!", " Info ", "help me please"])
def test_help_words_ask_for_help(text):
    assert classify(text, CAMPAIGN_WORDS).kind == "help"


@pytest.mark.parametrize(
    "text",
    [
        "Thank you, that made my day",
        "I can't stop smiling",
        "",
        "   ",
        "\x00\x00",
        "Yes I loved the one about the walk today",
        "😀",
        "x" * 2000,
        "Quit smoking thanks to you!",
        "End of a long week and this made me smile",
    ],
)
def test_anything_else_is_a_reply(text):
    assert classify(text, CAMPAIGN_WORDS).kind == "reply"
