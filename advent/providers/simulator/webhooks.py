"""Who may post to the simulator's webhooks: this machine, or anyone holding the local secret.

The simulator needs no webhooks (it hands its receipts over itself, and the dashboard's phone and
`advent phone` call the service directly), but it answers them with Twilio's forms so a rehearsal
can post by hand. Left open, anyone who can reach a rehearsal served beyond this machine could
subscribe, stop or forge receipts for any number; so a request must come from loopback or carry
Twilio's signature made with the instance's secret key instead of an Auth Token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from advent.providers.base import is_loopback
from advent.providers.twilio import webhooks

# Headers a proxy adds. Without ADVENT_TRUSTED_PROXIES a proxy on this machine would make every
# request look local, so a forwarded request is judged by its signature alone.
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")


class LocalWebhooks:
    """The simulator's webhook check; `secret` is read only when a request is not local."""

    def __init__(self, secret: Callable[[], str] | None = None, *, trusted_proxies: int = 0) -> None:
        self.secret = secret
        self.trusted_proxies = trusted_proxies

    def from_this_machine(self, address: str | None, headers: Mapping[str, str]) -> bool:
        forwarded = any(name.lower() in {h.lower() for h in headers} for name in FORWARDING_HEADERS)
        # Behind announced proxies the address is already the client's (ProxyFix put it there).
        return is_loopback(address) and (self.trusted_proxies > 0 or not forwarded)

    def accepts(
        self, url: str, form: Mapping[str, str], headers: Mapping[str, str], address: str | None
    ) -> bool:
        if self.from_this_machine(address, headers):
            return True
        if self.secret is None:
            return False
        return webhooks.signature_ok(self.secret(), url, form, headers)
