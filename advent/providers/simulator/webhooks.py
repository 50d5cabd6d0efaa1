"""Who may post to the simulator's webhooks: this machine, or anyone holding the local secret.

The simulator needs no webhooks (it hands its receipts over itself, and the dashboard's phone and
`advent phone` call the service directly), but it answers them with Twilio's forms so a rehearsal
can post by hand. Left open, anyone who can reach a rehearsal served beyond this machine could
subscribe, stop or forge receipts for any number; so a request must come from loopback or carry
Twilio's signature made with the instance's secret key instead of an Auth Token.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping

from advent.providers.twilio import webhooks

# Headers a proxy adds. Without ADVENT_TRUSTED_PROXIES a proxy on this machine would make every
# request look local, so a forwarded request is judged by its signature alone.
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")


def is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1, as a dual-stack socket reports IPv4
    return ip.is_loopback


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


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def exposed_warning(where: str) -> str:
    """What to say when a rehearsal on the simulator is reachable from other machines."""
    return (
        f"the built-in simulator is served beyond this machine ({where}): its webhooks take only "
        "requests from this machine or signed with the instance's secret key, and anyone who "
        "can reach it sees the sign-in page; serve it on 127.0.0.1, or set ADVENT_PROVIDER=twilio "
        "to go live"
    )


def beyond_loopback(host: str) -> bool:
    """True when a listening address lets other machines in (0.0.0.0, a LAN address, a name)."""
    return host.strip().lower() not in LOOPBACK_HOSTS and not is_loopback(host.strip("[]"))
