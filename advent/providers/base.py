"""The seam to the phone network.

Everything outside `advent/providers/` speaks in these terms; only a provider knows its own
error codes and maps them to an `ErrorAction` the rest of the service acts on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from advent.config import Settings


class ErrorAction(StrEnum):
    """What the service should do about a provider error."""

    RETRY = "retry"  # transient: try again later, with backoff
    GIVE_UP = "give_up"  # this message cannot be delivered; record it and move on
    OPTED_OUT = "opted_out"  # the person said STOP at the carrier: mark them stopped
    INVALID_NUMBER = "invalid_number"  # the number cannot receive: mark the subscriber invalid
    NEEDS_TEMPLATE = "needs_template"  # WhatsApp outside the 24-hour window, no approved template
    CAMPAIGN_ALERT = "campaign_alert"  # a set-up problem the organiser must fix (e.g. region)
    CONTENT_ALERT = "content_alert"  # the carrier filtered the text: the organiser must look


@dataclass(frozen=True)
class OutgoingMessage:
    """One day's post to one person, as handed to a provider."""

    reference: str  # our delivery's id; lets a receipt or a lookup find the row again
    to: str  # E.164
    channel: str  # "sms" or "whatsapp"
    body: str
    kind: str = "post"  # or "invite": a network that keeps a record can tell them apart
    media_url: str | None = None
    template_sid: str | None = None
    template_variables: dict[str, str] = field(default_factory=dict)
    # WhatsApp: True when the person wrote to us in the last 24 hours (free-form allowed).
    in_session_window: bool = True


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # the provider's initial status: queued, accepted, ...
    used_template: bool = False


@dataclass(frozen=True)
class SentRecord:
    """Something the provider says it sent, for reconciling a send we lost track of."""

    sid: str
    status: str
    to: str
    sent_at: datetime | None = None


@dataclass(frozen=True)
class StatusReport:
    """A receipt: what the network says happened to a message."""

    sid: str
    status: str
    error_code: str | None = None
    reference: str | None = None  # our delivery id when the provider echoes it back
    idempotency_token: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inbound:
    """A text a person sent us, as the service reads it whichever network carried it."""

    sender: str  # "+447911123456" or "whatsapp:+447911123456"
    body: str
    to: str = ""
    message_sid: str | None = None
    num_media: int = 0
    profile_name: str | None = None
    # The network already read this text as "stop", "join" or "help" (e.g. an opt-out
    # feature of the provider's own); None when it left the reading to us.
    provider_kind: str | None = None

    @property
    def channel(self) -> str:
        return "whatsapp" if self.sender.strip().lower().startswith("whatsapp:") else "sms"


@dataclass(frozen=True)
class Finding:
    """One line of `advent doctor`: what was checked, in plain words, and how it went."""

    level: str  # "ok", "warn" (worth knowing, not fatal) or "FAIL"
    text: str

    def line(self) -> str:
        return f"{self.level:<4} {self.text}"


def ok(text: str) -> Finding:
    return Finding("ok", text)


def warn(text: str) -> Finding:
    return Finding("warn", text)


def fail(text: str) -> Finding:
    return Finding("FAIL", text)


@dataclass(frozen=True)
class PhoneMessage:
    """Something a simulated phone received: a post, an invite, or the service's answer."""

    kind: str  # post, invite or reply
    channel: str
    body: str
    media_url: str | None = None
    # When the network handed it to the phone, and our delivery's id (posts and invites), so a
    # page can put it in order beside the friend's own texts and show its ticks.
    sent_at: datetime | None = None
    reference: str | None = None
    # A template's quick-reply button, as the friend sees it under the message.
    quick_reply: str | None = None


class Phone(Protocol):
    """A friend's phone on a simulated network: text the service, read what came back.

    Only a simulated network has one (`Provider.phone`); on a real network friends use their
    own phones.
    """

    def text_service(self, number: str, body: str, *, whatsapp: bool = False) -> Inbound:
        """The phone sends `body`; returns the text as the service receives it."""

    def receive_reply(self, inbound: Inbound, text: str) -> None:
        """The service's answer to `inbound`, given in the same breath, arrives on the phone."""

    def messages_to(self, number: str) -> list[PhoneMessage]:
        """Everything the phone at `number` received, oldest first."""


class ProviderError(Exception):
    """A send or lookup the provider refused or could not complete."""

    def __init__(
        self,
        reason: str,
        *,
        code: str | None = None,
        action: ErrorAction = ErrorAction.GIVE_UP,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.action = action
        # A timeout after the request left us: the provider may have accepted it. The engine must
        # ask the provider (lookup) before sending again, or a friend could get the day twice.
        self.maybe_sent = maybe_sent

    @property
    def permanent(self) -> bool:
        return self.action is not ErrorAction.RETRY


@dataclass(frozen=True)
class TemplateDraft:
    """A WhatsApp template to create: Meta must approve it before it can open a conversation."""

    friendly_name: str  # shown in the provider's console, e.g. "advent_2026_daily"
    language: str  # ISO 639-1, e.g. "en"
    body: str  # with numbered placeholders: "Today's kind thought from Sam: {{1}}"
    samples: dict[str, str]  # a sample value per placeholder; Meta needs them to approve
    quick_reply: str | None = None  # one quick-reply button's title, e.g. "Thanks ❤️"


@dataclass(frozen=True)
class TemplateState:
    """A template as the provider knows it, with its WhatsApp approval."""

    sid: str  # HX + 32 hex on Twilio; the simulator makes the same shape
    friendly_name: str
    # not_submitted, received, pending, approved, rejected, paused, disabled, unknown
    approval: str
    rejection_reason: str | None = None
    category: str | None = None  # UTILITY, MARKETING, AUTHENTICATION


class Templates(Protocol):
    """WhatsApp templates: made, submitted for approval and checked through the provider."""

    def create(self, draft: TemplateDraft) -> TemplateState:
        """Make the template (not yet submitted); raise ProviderError with a clear reason."""

    def submit(self, sid: str, name: str, category: str) -> TemplateState:
        """Ask WhatsApp (Meta) to approve it under `name` (lowercase, underscores)."""

    def status(self, sid: str) -> TemplateState:
        """Its approval now; raise ProviderError for an unknown sid."""


class Provider(Protocol):
    name: str
    # The simulated phones, on a simulated network; None on a real one.
    phone: Phone | None
    # True when WhatsApp's 24-hour rule is enforced (a day without a template never arrives).
    enforces_whatsapp_window: bool
    # True when nothing reaches a real phone: such a provider keeps its own database.
    rehearsal: bool
    # True when `send` may be called from several threads at once (the dispatcher keeps a few
    # messages in flight); False to be handed one message at a time.
    sends_in_parallel: bool
    # WhatsApp templates: made, submitted and checked through this provider.
    templates: Templates

    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand one message to the network; raise ProviderError when it is refused."""

    def lookup(self, message: OutgoingMessage, since: datetime) -> list[SentRecord] | None:
        """What this provider sent for `message` since `since`; None when it cannot tell."""

    def fetch_status(self, sid: str) -> StatusReport | None:
        """The current status of one message, for reconciling missed receipts."""

    def collect_receipts(self, now: datetime) -> list[StatusReport]:
        """Receipts that are due and not yet acknowledged (push-based providers return [])."""

    def acknowledge_receipts(self, reports: list[StatusReport]) -> None:
        """The service has stored these receipts; they need not be handed over again."""

    def explain(self, code: str | None) -> tuple[ErrorAction, str]:
        """The action and a plain-English reason for an error code seen in a receipt."""

    def answers_itself(self, inbound: Inbound) -> bool:
        """True when the network has already answered this text itself (so we must not)."""

    def note_inbound(self, number: str, channel: str, at: datetime) -> None:
        """A person at `number` (E.164) wrote to us on `channel` at `at`.

        A real network sees inbound texts itself (this does nothing); a simulated one learns of
        them here, so it can keep WhatsApp's 24-hour window as Meta does.
        """

    def setup_findings(self, settings: Settings) -> list[Finding]:
        """What `advent doctor` should say about this provider's set-up."""

    def verify_webhook(
        self,
        url: str,
        form: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        sender_address: str | None = None,
    ) -> bool:
        """True when a webhook request really comes from this provider.

        `sender_address` is the client's IP address as the web layer sees it (after any
        announced proxies); only a simulated network may trust it.
        """

    def read_inbound(self, form: Mapping[str, str]) -> Inbound:
        """An inbound-text webhook's form, as an Inbound."""

    def read_status(
        self, form: Mapping[str, str], reference: str | None, headers: Mapping[str, str]
    ) -> StatusReport | None:
        """A status webhook's form as a receipt in our spelling; None when it says nothing."""

    def webhook_answer(self, text: str | None) -> tuple[str, str]:
        """The body and content type that answers an inbound webhook with `text` (or nothing)."""


# Where a rehearsal is served from: the simulator trusts this machine, and says so when it is
# reachable from others (advent run, the web app).
def is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1, as a dual-stack socket reports IPv4
    return ip.is_loopback


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def exposed_warning(where: str) -> str:
    """What to say when a rehearsal on the simulator is reachable from other machines."""
    return (
        f"the rehearsal (the built-in simulator) is served beyond this machine ({where}): "
        "its webhooks take only requests from this machine or signed with the instance's "
        "secret key, and anyone who can reach it sees the sign-in page; serve it on "
        "127.0.0.1, or set ADVENT_PROVIDER=twilio to go live"
    )


def beyond_loopback(host: str) -> bool:
    """True when a listening address lets other machines in (0.0.0.0, a LAN address, a name)."""
    return host.strip().lower() not in LOOPBACK_HOSTS and not is_loopback(host.strip("[]"))
