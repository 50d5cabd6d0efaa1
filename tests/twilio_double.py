"""Standing in for Twilio: Twilio-shaped JSON, settings for the twilio provider, and a small
local Twilio-compatible HTTP double that sends signed status callbacks like the real thing.
"""

from __future__ import annotations

import json
import queue
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import requests
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from advent.config import Settings, load_settings
from advent.providers.twilio.provider import TwilioProvider
from advent.runtime import Runtime, build_runtime
from advent.sending.dispatch import Sender
from tests.database_template import install_migrated_database

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-not-real"
SMS_FROM = "+15005550006"
WHATSAPP_FROM = "whatsapp:+14155238886"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
MESSAGES_URL = f"{API}/Messages.json"


def twilio_settings(project: Path, **extra: str) -> Settings:
    values = dict(
        _env_file=None,
        ADVENT_PROVIDER="twilio",
        ADVENT_INSTANCE_DIR=str(project / "instance"),
        ADVENT_MESSAGES_DIR=str(project / "messages"),
        ADVENT_SCHEDULES_DIR=str(project / "schedules"),
        ADVENT_SEND_RATE="1000",
        ADVENT_ORGANISER_NAME="Sam",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_FROM=SMS_FROM,
        TWILIO_WHATSAPP_FROM=WHATSAPP_FROM,
        PUBLIC_BASE_URL="https://advent.example.org",
    )
    values.update(extra)
    return load_settings(**values)


@dataclass
class TwilioSetup:
    settings: Settings
    runtime: Runtime
    provider: TwilioProvider
    sender: Sender


def twilio_setup(project: Path, clock: Callable[[], datetime], **extra: str) -> TwilioSetup:
    """A migrated database, a runtime and a sender that send through the twilio provider."""
    settings = twilio_settings(project, **extra)
    install_migrated_database(settings.database_url)
    provider = TwilioProvider.from_settings(settings)
    runtime = build_runtime(settings, provider=provider, check_schema=False)  # a fresh copy at head

    def sleep(seconds: float) -> None:  # waiting for a retry moves the test's clock instead
        advance = getattr(clock, "advance", None)
        if advance:
            advance(seconds)

    sender = Sender(runtime.session(), provider, settings, clock=clock, sleep=sleep, rng=random.Random(1))
    return TwilioSetup(settings, runtime, provider, sender)


def message_json(
    sid: str,
    to: str,
    body: str,
    *,
    from_: str = SMS_FROM,
    status: str = "queued",
    direction: str = "outbound-api",
    created: datetime | None = None,
    error_code: int | None = None,
) -> dict[str, Any]:
    """A Message resource as Twilio returns it."""
    created = created or datetime.now(UTC)
    return {
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "to": to,
        "from": from_,
        "body": body,
        "status": status,
        "direction": direction,
        "num_segments": "1",
        "num_media": "0",
        "error_code": error_code,
        "error_message": None,
        "messaging_service_sid": None,
        "date_created": format_datetime(created, usegmt=True),
        "date_updated": format_datetime(created, usegmt=True),
        "date_sent": None,
        "api_version": "2010-04-01",
        "price": None,
        "price_unit": "USD",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def message_page(messages: Iterable[dict[str, Any]]) -> dict[str, Any]:
    found = list(messages)
    return {
        "messages": found,
        "page": 0,
        "page_size": 100,
        "start": 0,
        "end": len(found),
        "first_page_uri": "/x",
        "next_page_uri": None,
        "previous_page_uri": None,
        "uri": "/x",
    }


def error_json(code: int, status: int = 400, message: str = "refused") -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "status": status,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
    }


def _hang_up(request: Request) -> None:
    """Close the client's connection without a word, as a network failure would."""
    connection = request.environ["werkzeug.socket"]
    connection.shutdown(socket.SHUT_RDWR)
    connection.close()


ARRIVED = "double.arrived"


class LocalServer:
    """A WSGI app served on 127.0.0.1 at a free port, in a thread. The app may be set after the
    server starts, so settings can name the server's own address."""

    def __init__(self, app: Callable[..., Any] | None = None) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "LocalServer.app was never set"
        # When the request came in, before the app reads its body and routes it: the moment a
        # carrier counts, without this test process's own handling time.
        environ[ARRIVED] = time.monotonic()
        return self.app(environ, start_response)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


# Faults the double can play on a create (POST .../Messages.json), one per request:
OK = "ok"
SERVER_ERROR = "500"  # Twilio's 20500, nothing created
TOO_MANY = "429"  # Twilio's 20429 with Retry-After, nothing created
HANG = "hang"  # no answer until past the client's timeout, nothing created
DROP = "drop"  # the connection closed before any answer, nothing created
DROP_AFTER_CREATE = "drop after create"  # created (and its callbacks sent), then no answer
FAULTS = (SERVER_ERROR, TOO_MANY, HANG, DROP, DROP_AFTER_CREATE)


@dataclass
class TwilioDouble:
    """Accepts Messages like Twilio's API, then POSTs signed callbacks: sent, then delivered.

    Faults for the crash proofs: `faults` is played in order, one per create request, then
    every create succeeds; while `outage` is set, every request (lookups too) gets a 503.
    `hang_seconds` should be just past the provider's TWILIO_TIMEOUT_SECONDS.
    """

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    created: list[dict[str, str]] = field(default_factory=list)
    callbacks: list[tuple[str, str, int]] = field(default_factory=list)  # (sid, status, answer)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    faults_played: list[str] = field(default_factory=list)
    outage: bool = False
    hang_seconds: float = 1.0
    # When a message was created, as its date_created says: a test with its own clock sets it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # When each accepted message arrived (time.monotonic()): the pace a carrier would see.
    arrived: list[float] = field(default_factory=list)
    # Seconds each create takes to answer, as Twilio's real API does (~0.2 s); requests are
    # served on threads, so several can be waiting for their answers at once.
    answer_seconds: float = 0.0
    # The most create requests in progress at once: above one, the sender's calls overlapped.
    most_at_once: int = 0
    # False: no status callbacks (a benchmark with no app listening for them).
    send_callbacks: bool = True

    def __post_init__(self) -> None:
        self._outbox: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._send_callbacks, daemon=True)
        self._worker.start()
        self._at_once = 0
        self._counting = threading.Lock()
        self.server = LocalServer(self._wsgi)
        self.base_url = self.server.base_url

    def stop(self) -> None:
        self._outbox.put(None)
        self.server.stop()
        self._worker.join(timeout=5)

    @Request.application  # type: ignore[arg-type]
    def _wsgi(self, request: Request) -> Response:
        if self.outage:
            self.faults_played.append("outage")
            return self._json(error_json(20503, 503, "Service Unavailable"), 503)
        if request.authorization is None or (
            request.authorization.username,
            request.authorization.password,
        ) != (self.account_sid, self.auth_token):
            return self._json(error_json(20003, 401, "Authenticate"), 401)
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Messages"
        if request.path == prefix + ".json" and request.method == "POST":
            return self._create_unless_faulty(request)
        if request.path == prefix + ".json":
            to = request.args.get("To")
            return self._json(message_page(m for m in self.messages.values() if to in (None, m["to"])))
        sid = request.path.removeprefix(prefix + "/").removesuffix(".json")
        if sid in self.messages:
            return self._json(self.messages[sid])
        return self._json(error_json(20404, 404, "not found"), 404)

    def _create_unless_faulty(self, request: Request) -> Response:
        with self._counting:
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
        try:
            answer = self._create_or_fault(request)
            time.sleep(self.answer_seconds)
            return answer
        finally:
            with self._counting:
                self._at_once -= 1

    def _create_or_fault(self, request: Request) -> Response:
        fault = self.faults.pop(0) if self.faults else OK
        self.faults_played.append(fault)
        if fault == SERVER_ERROR:
            return self._json(error_json(20500, 500, "Internal Server Error"), 500)
        if fault == TOO_MANY:
            answer = self._json(error_json(20429, 429, "Too Many Requests"), 429)
            answer.headers["Retry-After"] = "1"
            return answer
        if fault == HANG:
            time.sleep(self.hang_seconds)
            return self._json(error_json(20503, 503, "too late: the client has gone"), 503)
        if fault in (DROP, DROP_AFTER_CREATE):
            if fault == DROP_AFTER_CREATE:
                self._create(
                    request.form.to_dict(flat=True),
                    request.form.getlist("MediaUrl"),
                    request.environ[ARRIVED],
                )
            _hang_up(request)
            return Response(status=204)  # never reaches the client: the socket is closed
        return self._create(
            request.form.to_dict(flat=True), request.form.getlist("MediaUrl"), request.environ[ARRIVED]
        )

    def _json(self, payload: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(payload), status, content_type="application/json")

    def _create(self, form: dict[str, str], media: list[str], arrived: float) -> Response:
        if not form.get("To") or not (form.get("From") or form.get("MessagingServiceSid")):
            return self._json(error_json(21604, 400, "A 'To' and 'From' are required"), 400)
        if not (form.get("Body") or form.get("ContentSid") or media):
            return self._json(error_json(21602, 400, "Message body is required"), 400)
        sid = "SM" + uuid.uuid4().hex
        self.arrived.append(arrived)
        self.created.append(form)
        self.messages[sid] = message_json(
            sid, form["To"], form.get("Body", ""), from_=form.get("From", ""), created=self.clock()
        )
        callback = form.get("StatusCallback")
        if callback and self.send_callbacks:
            for status in ("sent", "delivered"):
                self._outbox.put(
                    (
                        callback,
                        {
                            "MessageSid": sid,
                            "SmsSid": sid,
                            "MessageStatus": status,
                            "SmsStatus": status,
                            "AccountSid": self.account_sid,
                            "From": form.get("From", ""),
                            "To": form["To"],
                            "ApiVersion": "2010-04-01",
                        },
                    )
                )
        return self._json(self.messages[sid], 201)

    def sent_to(self) -> dict[str, int]:
        """How many messages Twilio accepted for each number: the provider's own record."""
        counts: dict[str, int] = {}
        for form in list(self.created):
            counts[form["To"]] = counts.get(form["To"], 0) + 1
        return counts

    def _send_callbacks(self) -> None:
        validator = RequestValidator(self.auth_token)
        while (item := self._outbox.get()) is not None:
            url, params = item
            self.messages[params["MessageSid"]]["status"] = params["MessageStatus"]
            headers = {
                "X-Twilio-Signature": validator.compute_signature(url, params),
                "I-Twilio-Idempotency-Token": uuid.uuid4().hex,
            }
            try:
                answer = requests.post(url, data=params, headers=headers, timeout=5).status_code
            except requests.RequestException:
                answer = 0
            self.callbacks.append((params["MessageSid"], params["MessageStatus"], answer))
