"""WhatsApp templates through Twilio's Content API, at the HTTP layer: what Twilio receives, the
approval read back, and each way it can fail said as a sentence."""

from __future__ import annotations

import pytest
import responses

from advent.providers.base import ErrorAction, ProviderError, TemplateDraft
from advent.providers.twilio.provider import TwilioProvider
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
from tests.twilio_double import twilio_settings

DRAFT = TemplateDraft(
    friendly_name="advent_2026_daily",
    language="en",
    body="Today's kind thought from Sam (Advent of Kindness):\n\n{{1}}\n\nReply STOP to stop these messages.",
    samples={"1": "Hello, and welcome to day one."},
)


@pytest.fixture
def provider(project) -> TwilioProvider:
    return TwilioProvider.from_settings(twilio_settings(project))


def test_create_sends_the_body_as_twilio_text_with_the_sample_and_nothing_else(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    made(twilio_api)
    state = provider.templates.create(DRAFT)
    assert (state.sid, state.approval) == (SID, "not_submitted")
    (sent,) = sent_json(twilio_api, CONTENT)
    assert sent == {
        "friendly_name": "advent_2026_daily",
        "language": "en",
        "types": {"twilio/text": {"body": DRAFT.body}},
        "variables": {"1": "Hello, and welcome to day one."},
    }


def test_a_quick_reply_adds_one_button_beside_the_plain_text(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    made(twilio_api)
    provider.templates.create(
        TemplateDraft(DRAFT.friendly_name, "en", DRAFT.body, DRAFT.samples, quick_reply="Thanks ❤️")
    )
    (sent,) = sent_json(twilio_api, CONTENT)
    assert sent["types"]["twilio/quick-reply"] == {
        "body": DRAFT.body,
        "actions": [{"title": "Thanks ❤️", "id": "thanks"}],
    }
    assert sent["types"]["twilio/text"] == {"body": DRAFT.body}


def test_submit_asks_whatsapp_with_the_name_and_category(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    submitted(twilio_api, category="UTILITY")
    state = provider.templates.submit(SID, "advent_2026_daily", "utility")
    assert sent_json(twilio_api, approval_url() + "/whatsapp") == [
        {"name": "advent_2026_daily", "category": "UTILITY"}
    ]
    assert (state.approval, state.category) == ("received", "UTILITY")


def test_status_reads_an_approval(provider: TwilioProvider, twilio_api: responses.RequestsMock) -> None:
    approval(twilio_api, "approved")
    state = provider.templates.status(SID)
    assert (state.approval, state.rejection_reason, state.category) == ("approved", None, "MARKETING")


def test_status_reads_a_rejection_with_metas_reason(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    approval(twilio_api, "rejected", reason="The template is too generic.")
    state = provider.templates.status(SID)
    assert (state.approval, state.rejection_reason) == ("rejected", "The template is too generic.")


def test_a_template_never_submitted_says_so(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    twilio_api.add(responses.GET, approval_url(), json={"sid": SID, "whatsapp": {}})
    assert provider.templates.status(SID).approval == "not_submitted"


def test_bad_credentials_are_one_sentence_naming_the_settings(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    refused(twilio_api, responses.POST, CONTENT, 20003, 401, "Authenticate")
    with pytest.raises(ProviderError) as caught:
        provider.templates.create(DRAFT)
    assert caught.value.reason == (
        "Twilio refused the account credentials for its Content API (HTTP 401); check "
        "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the API key) and run `advent doctor`"
    )
    assert caught.value.action is ErrorAction.CAMPAIGN_ALERT


def test_an_unknown_sid_says_the_template_is_not_on_the_account(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    refused(twilio_api, responses.GET, approval_url(), 20404, 404, "The requested resource was not found")
    with pytest.raises(ProviderError) as caught:
        provider.templates.status(SID)
    assert caught.value.reason == (
        f"Twilio has no template {SID} on this account: it was deleted in the console (Messaging > "
        "Content Template Builder) or made with other credentials; make a new one with "
        "`advent templates create`"
    )


def test_a_network_failure_says_twilio_could_not_be_reached(
    provider: TwilioProvider, twilio_api: responses.RequestsMock
) -> None:
    unreachable(twilio_api, responses.POST, approval_url() + "/whatsapp")
    with pytest.raises(ProviderError) as caught:
        provider.templates.submit(SID, "advent_2026_daily", "marketing")
    assert caught.value.reason == (
        "Twilio's Content API (content.twilio.com) could not be reached; check the internet "
        "connection and try again"
    )
    assert caught.value.action is ErrorAction.RETRY


def test_another_refusal_quotes_twilio(provider: TwilioProvider, twilio_api: responses.RequestsMock) -> None:
    refused(twilio_api, responses.POST, approval_url() + "/whatsapp", 62511, 400, "Name already in use")
    with pytest.raises(ProviderError) as caught:
        provider.templates.submit(SID, "advent_2026_daily", "marketing")
    assert (
        caught.value.reason
        == "Twilio refused the template request (HTTP 400, error 62511: Name already in use)"
    )
