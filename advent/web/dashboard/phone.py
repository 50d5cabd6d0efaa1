"""The phone: text the simulated service as a friend would, and watch the ticks.

Only on the simulator, whose phones are not real: elsewhere every route here is a 404 with a
sentence saying why. The page works without JavaScript (the form posts, the page reloads);
static/phone.js polls `messages.json` so answers, posts and ticks appear by themselves.
"""

from __future__ import annotations

import random
from datetime import UTC, tzinfo
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from advent.organiser.ticks import ticks_for
from advent.people.phones import InvalidNumber, mask, normalise_number
from advent.people.rehearsal import Bubble, conversation, known_phones, next_free_number, text_as_friend
from advent.providers.base import Phone
from advent.receipts import collect_receipts
from advent.sending.dispatch import Sender
from advent.sending.progress import next_day_to_send
from advent.web import db_session, runtime

blueprint = Blueprint("phone", __name__)

CHANNELS = {"sms": "SMS", "whatsapp": "WhatsApp"}
MAX_TEXT = 1600  # what a network carries in one text
NO_PHONE = (
    "The phone plays a friend's phone on the built-in simulator, and this service sends through "
    "{provider}: text the service from a real phone instead, or set ADVENT_PROVIDER=simulator "
    "to rehearse."
)


def _phone() -> Phone | None:
    return runtime().provider.phone


def _off() -> tuple[str, int]:
    sentence = NO_PHONE.format(provider=runtime().provider.name.capitalize())
    return render_template("dashboard/phone.html", off=sentence), 404


def _number(raw: str) -> str:
    rt = runtime()
    return normalise_number(raw, rt.settings.default_region, allow_drama_numbers=rt.provider.rehearsal)


def _local_zone() -> tzinfo:
    """Times as the organiser reads them: in the (default or first) schedule's timezone."""
    schedules = runtime().schedules
    return schedules[0].tz if schedules else UTC


def _join_words() -> list[str]:
    return [s.join_keyword for s in runtime().schedules] or ["JOIN"]


def _as_json(bubble: Bubble, zone: tzinfo) -> dict[str, Any]:
    ticks = ticks_for(bubble.status)
    return {
        "mine": bubble.mine,
        "kind": bubble.kind,
        "channel": CHANNELS.get(bubble.channel, bubble.channel),
        "body": bubble.body or ("[photo]" if bubble.media else ""),
        "time": bubble.at.astimezone(zone).strftime("%d %b %H:%M:%S"),
        "ticks": {"marks": ticks.marks, "css": ticks.css, "label": ticks.label},
    }


@blueprint.get("/phone")
def index():  # type: ignore[no-untyped-def]
    if _phone() is None:
        return _off()
    raw = request.args.get("number", "").strip()
    if raw:
        # "Use another number" posts here by GET: a made-up number opens its (empty) phone.
        try:
            return redirect(url_for("phone.thread", number=_number(raw)))
        except InvalidNumber as error:
            flash(f"That number cannot be used: {error}.", "error")
    session = db_session()
    return render_template(
        "dashboard/phone.html",
        phones=[(p, mask(p.number)) for p in known_phones(session)],
        suggestion=next_free_number(session),
        join_words=_join_words(),
        channels=CHANNELS,
        number=None,
    )


@blueprint.get("/phone/<number>")
def thread(number: str):  # type: ignore[no-untyped-def]
    phone = _phone()
    if phone is None:
        return _off()
    try:
        e164 = _number(number)
    except InvalidNumber as error:
        flash(f"That number cannot be used: {error}.", "error")
        return redirect(url_for("phone.index"))
    if e164 != number:
        return redirect(url_for("phone.thread", number=e164))
    zone = _local_zone()
    bubbles = [_as_json(b, zone) for b in conversation(db_session(), phone, e164)]
    channel = request.args.get("channel", "")
    if channel not in CHANNELS:
        # Carry on where the conversation is; a new phone starts on WhatsApp, which has read
        # receipts (blue ticks), so the ticks can be watched all the way.
        channel = next(
            (c for c, label in CHANNELS.items() if bubbles and label == bubbles[-1]["channel"]), "whatsapp"
        )
    return render_template(
        "dashboard/phone.html",
        next_day=None if any(b["kind"] == "post" for b in bubbles) else _next_day(),
        number=e164,
        masked=mask(e164),
        bubbles=bubbles,
        channel=channel,
        channels=CHANNELS,
        join_words=_join_words(),
    )


@blueprint.post("/phone")
def start() -> BaseResponse | tuple[str, int]:
    """The first text from a number typed on the page (a made-up one is fine here)."""
    return _text(request.form.get("number", ""))


@blueprint.post("/phone/<number>")
def send(number: str) -> BaseResponse | tuple[str, int]:
    return _text(number)


def _text(raw_number: str) -> BaseResponse | tuple[str, int]:
    phone = _phone()
    if phone is None:
        return _off()
    try:
        e164 = _number(raw_number)
    except InvalidNumber as error:
        flash(f"That number cannot be used: {error}.", "error")
        return redirect(url_for("phone.index"))
    channel = request.form.get("channel", "")
    # A quick-reply button (HELP, STOP, the join word) sends its own word; else the typed text.
    text = (request.form.get("keyword") or request.form.get("text") or "").strip()
    if channel not in CHANNELS:
        flash("Choose SMS or WhatsApp.", "error")
        channel = ""
    elif not text:
        flash("Type a text to send first.", "error")
    elif len(text) > MAX_TEXT:
        flash(f"A text can be at most {MAX_TEXT} characters; this one has {len(text)}.", "error")
    else:
        rt = runtime()
        texted = text_as_friend(
            _sender(),
            phone,
            e164,
            text,
            whatsapp=channel == "whatsapp",
            schedules=rt.schedules,
            settings=rt.settings,
        )
        if texted.answer.text is None:
            flash(f"No answer: {texted.answer.why_silent or 'the service chose not to answer'}.", "info")
    return redirect(url_for("phone.thread", number=e164, channel=channel or None))


@blueprint.get("/phone/<number>/messages.json")
def messages(number: str):  # type: ignore[no-untyped-def]
    phone = _phone()
    if phone is None:
        return {"error": NO_PHONE.format(provider=runtime().provider.name.capitalize())}, 404
    try:
        e164 = _number(number)
    except InvalidNumber as error:
        return {"error": f"That number cannot be used: {error}."}, 404
    session = db_session()
    # No clock process may be running in a rehearsal: collect the receipts that are due, so the
    # ticks move while the organiser watches.
    collect_receipts(session, runtime().provider, runtime().clock())
    zone = _local_zone()
    return {"number": mask(e164), "messages": [_as_json(b, zone) for b in conversation(session, phone, e164)]}


def _next_day() -> str | None:
    """The next day still to send, for a phone with no post yet: how to see one arrive now."""
    rt = runtime()
    if not rt.schedules:
        return None
    schedule = rt.schedules[0]
    day = next_day_to_send(db_session(), schedule, schedule.local_date(rt.clock()))
    return day.isoformat() if day else None


def _sender() -> Sender:
    rt = runtime()
    return Sender(db_session(), rt.provider, rt.settings, clock=rt.clock, rng=random.Random())
