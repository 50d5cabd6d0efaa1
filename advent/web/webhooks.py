"""The provider's webhooks: inbound texts (answered in the same breath) and status callbacks.

Answers: 403 for a missing or wrong signature (before touching the database), 200 for
anything else we can make sense of or not, so the provider stops retrying; never a 500.
When the database cannot take the write within ADVENT_WEBHOOK_WRITE_SECONDS, the request is
kept in the journal and answered all the same (advent.held_webhooks); the next request that
goes through replays what waits there, once its own answer has gone.
The provider reads its own forms and signs its own answers; this module only routes them.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from functools import wraps

from flask import Blueprint, Response, abort, g, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from advent.held_webhooks import held_answer, replay_waiting
from advent.people.conversations import handle_inbound, keep_unanswered, reply_settings
from advent.providers.base import Inbound
from advent.receipts import record_receipt
from advent.web import runtime

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


def webhook_session():  # type: ignore[no-untyped-def]
    """This request's session on the webhook engine, closed when the request ends."""
    if "db_session" not in g:
        g.db_session = runtime().webhook_session()
    return g.db_session


def answer(text: str | None) -> Response:
    body, content_type = runtime().provider.webhook_answer(text)
    return Response(body, 200, content_type=content_type)


def then_replay(response: Response) -> Response:
    """Replay the journal beside this answer if anything waits there: in a thread, so a database
    still busy costs this worker nothing (a lock on the journal lets one replay run at a time)."""
    rt = runtime()
    if rt.journal().waiting():
        threading.Thread(target=replay_quietly, args=(rt,), name="journal-replay", daemon=True).start()
    return response


def replay_quietly(rt) -> None:  # type: ignore[no-untyped-def]
    try:
        replay_waiting(rt)
    except Exception:  # the entries stay; the next request or the clock tries again
        log.exception("could not replay the journal")


def kept(kind: str, now: datetime, error: BaseException | None, **more: object) -> bool:
    """Keep this request in the journal; False if even that failed (a full disk)."""
    try:
        rt = runtime()
        rt.journal().keep(kind, request.form.to_dict(), now.isoformat(), **more)
    except OSError:
        log.exception("could not keep a %s webhook in the journal", kind)
        return False
    why = "others wait before it" if error is None else f"database too slow: {type(error).__name__}"
    log.warning("%s webhook kept in the journal (%s)", kind, why)
    return True


def _held(message: Inbound, now: datetime, error: BaseException | None) -> Response:
    rt = runtime()
    text = held_answer(message, rt.provider, rt.schedules, reply_settings(rt.settings), now)
    if not kept("inbound", now, error, answered=text):
        return Response("temporarily unavailable", 503)
    return then_replay(answer(text))


@blueprint.post("/inbound")
@provider_signed
def inbound() -> Response:
    rt = runtime()
    message = rt.provider.read_inbound(request.form)
    now = rt.clock()
    if rt.journal().waiting():
        # Texts wait in the journal: this one queues behind them, so a person's texts are
        # acted on in the order they were sent, and it is answered at once instead of waiting
        # out the budget again on a database that was busy a moment ago.
        return _held(message, now, None)
    session = webhook_session()
    try:
        reply = handle_inbound(
            session,
            message,
            now,
            schedules=rt.schedules,
            provider=rt.provider,
            settings=reply_settings(rt.settings),
        )
    except SQLAlchemyError as error:
        session.rollback()
        return _held(message, now, error)
    except Exception:  # a bug of ours must cost an answer, never the text itself
        session.rollback()
        log.exception("could not answer inbound message %s; keeping it", message.message_sid)
        try:
            keep_unanswered(session, message, now)
        except SQLAlchemyError as error:
            session.rollback()
            return _held(message, now, error)
        return then_replay(answer(None))
    return then_replay(answer(reply))


@blueprint.post("/status")
@provider_signed
def status() -> Response:
    rt = runtime()
    provider = rt.provider
    reference = request.args.get("delivery")
    report = provider.read_status(request.form, reference, dict(request.headers))
    if report is None:
        log.info("status callback without a message id or status ignored")
        return Response("", 200)
    session = webhook_session()
    now = rt.clock()
    try:
        record_receipt(session, report, source=provider.name, explain=provider.explain, now=now)
        session.commit()
    except IntegrityError:
        # The same callback, delivered twice at the same moment: the first one counted.
        session.rollback()
    except SQLAlchemyError as error:
        session.rollback()
        token = request.headers.get("I-Twilio-Idempotency-Token")
        headers = {"I-Twilio-Idempotency-Token": token} if token else {}
        if not kept("status", now, error, reference=reference, headers=headers):
            return Response("temporarily unavailable", 503)
        return Response("", 200)
    return then_replay(Response("", 200))
