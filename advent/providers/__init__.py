"""Providers: the built-in phone-network simulator and Twilio, behind one protocol."""

from __future__ import annotations

from advent.config import Settings
from advent.providers.base import Provider


def make_provider(settings: Settings) -> Provider:
    if settings.provider == "twilio":
        from advent.providers.twilio.provider import TwilioProvider

        return TwilioProvider.from_settings(settings)
    from advent.providers.simulator import Simulator

    return Simulator.from_settings(settings)
