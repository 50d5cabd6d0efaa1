"""The built-in phone network: a real provider with its own record, for rehearsing without Twilio."""

from advent.providers.simulator.network import Simulator

__all__ = ["Simulator"]
