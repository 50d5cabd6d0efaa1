"""Twilio's webhooks: inbound texts (answered in the same breath) and status callbacks.

Answers: 403 for a missing or wrong signature (before touching the database), 200 for
anything else we can make sense of or not, so Twilio stops retrying; never a 500.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from advent.people.conversations import Inbound, handle_inbound, keep_unanswered
from advent.providers.base import StatusReport
from advent.receipts import record_receipt
from advent.web import db_session, runtime

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__, url_prefix="/twilio")


def signed_url() -> str:
    """The URL Twilio signed: the public one, not what a proxy made of it."""
    settings = runtime().settings
    if settings.trusted_proxies:
        return request.url
    query = request.query_string.decode()
    return settings.public_base_url + request.path + (f"?{query}" if query else "")


def twilio_signed(view):  # type: ignore[no-untyped-def]
    @wraps(view)
    def checked(*args, **kwargs):  # type: ignore[no-untyped-def]
        settings = runtime().settings
        if settings.provider == "twilio":
            signature = request.headers.get("X-Twilio-Signature", "")
            validator = RequestValidator(settings.twilio_auth_token)
            if not signature or not validator.validate(signed_url(), request.form, signature):
                log.warning("rejected %s: bad or missing X-Twilio-Signature", request.path)
                abort(403)
        return view(*args, **kwargs)

    return checked


def twiml(text: str | None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(str(reply), 200, content_type="text/xml")


def _count(value: str | None) -> int:
    """A count from a form field; anything unreadable counts as none rather than failing."""
    try:
        return min(max(int(value or 0), 0), 100)  # Twilio sends at most 10 media
    except ValueError:
        return 0


@blueprint.post("/inbound")
@twilio_signed
def inbound() -> Response:
    form = request.form
    message = Inbound(
        sender=form.get("From", ""),
        to=form.get("To", ""),
        body=form.get("Body", ""),
        message_sid=form.get("MessageSid") or None,
        num_media=_count(form.get("NumMedia")),
        profile_name=form.get("ProfileName") or None,
        opt_out_type=form.get("OptOutType") or None,
    )
    session = db_session()
    try:
        reply = handle_inbound(session, runtime(), message, runtime().clock())
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not store inbound message %s", message.message_sid)
        # 503 without a body: Twilio reports it, and nothing we said would be true.
        return Response("temporarily unavailable", 503)
    except Exception:  # a bug of ours must cost an answer, never the text itself
        session.rollback()
        log.exception("could not answer inbound message %s; keeping it", message.message_sid)
        keep_unanswered(session, message, runtime().clock())
        return twiml(None)
    return twiml(reply)


@blueprint.post("/status")
@twilio_signed
def status() -> Response:
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    state = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not state:
        log.info("status callback without MessageSid/MessageStatus ignored")
        return Response("", 200)
    report = StatusReport(
        sid=sid,
        status=state,
        error_code=form.get("ErrorCode") or None,
        reference=request.args.get("delivery"),
        idempotency_token=request.headers.get("I-Twilio-Idempotency-Token"),
        raw=dict(form.items()),
    )
    session = db_session()
    try:
        record_receipt(session, report, source=runtime().provider.name,
                       explain=runtime().provider.explain, now=runtime().clock())
        session.commit()
    except IntegrityError:
        # The same callback, delivered twice at the same moment: the first one counted.
        session.rollback()
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not store status %s for %s", state, sid)
        return Response("temporarily unavailable", 503)
    return Response("", 200)
