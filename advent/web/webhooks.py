"""The provider's webhooks: inbound texts (answered in the same breath) and status callbacks.

Answers: 403 for a missing or wrong signature (before touching the database), 200 for
anything else we can make sense of or not, so the provider stops retrying; never a 500.
The provider reads its own forms and signs its own answers; this module only routes them.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from advent.people.conversations import handle_inbound, keep_unanswered, reply_settings
from advent.receipts import record_receipt
from advent.web import db_session, runtime

log = logging.getLogger(__name__)
# The path Twilio's console is pointed at; kept so existing set-ups keep working.
blueprint = Blueprint("webhooks", __name__, url_prefix="/twilio")


def signed_url() -> str:
    """The URL the provider signed: the public one, not what a proxy made of it."""
    settings = runtime().settings
    if settings.trusted_proxies:
        return request.url
    query = request.query_string.decode()
    return settings.public_base_url + request.path + (f"?{query}" if query else "")


def provider_signed(view):  # type: ignore[no-untyped-def]
    @wraps(view)
    def checked(*args, **kwargs):  # type: ignore[no-untyped-def]
        verified = runtime().provider.verify_webhook(
            signed_url(), request.form, dict(request.headers), sender_address=request.remote_addr
        )
        if not verified:
            log.warning("rejected %s: bad or missing signature", request.path)
            abort(403)
        return view(*args, **kwargs)

    return checked


def answer(text: str | None) -> Response:
    body, content_type = runtime().provider.webhook_answer(text)
    return Response(body, 200, content_type=content_type)


@blueprint.post("/inbound")
@provider_signed
def inbound() -> Response:
    rt = runtime()
    message = rt.provider.read_inbound(request.form)
    session = db_session()
    try:
        reply = handle_inbound(
            session,
            message,
            rt.clock(),
            schedules=rt.schedules,
            provider=rt.provider,
            settings=reply_settings(rt.settings),
        )
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not store inbound message %s", message.message_sid)
        # 503 without a body: the provider reports it, and nothing we said would be true.
        return Response("temporarily unavailable", 503)
    except Exception:  # a bug of ours must cost an answer, never the text itself
        session.rollback()
        log.exception("could not answer inbound message %s; keeping it", message.message_sid)
        keep_unanswered(session, message, rt.clock())
        return answer(None)
    return answer(reply)


@blueprint.post("/status")
@provider_signed
def status() -> Response:
    provider = runtime().provider
    report = provider.read_status(request.form, request.args.get("delivery"), dict(request.headers))
    if report is None:
        log.info("status callback without a message id or status ignored")
        return Response("", 200)
    session = db_session()
    try:
        record_receipt(session, report, source=provider.name, explain=provider.explain, now=runtime().clock())
        session.commit()
    except IntegrityError:
        # The same callback, delivered twice at the same moment: the first one counted.
        session.rollback()
    except SQLAlchemyError:
        session.rollback()
        log.exception("could not store status %s for %s", report.status, report.sid)
        return Response("temporarily unavailable", 503)
    return Response("", 200)
