"""People: the list, each person's page and consent history, and the organiser's actions
(invite, remove, move from the waiting list, reveal a number, export, erase), each a POST."""

from __future__ import annotations

import json
import random

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for

from advent.content.schedules import Schedule
from advent.organiser import erase, people
from advent.organiser.people import STATUSES, NoRoom, PeopleFilter
from advent.people.invites import InviteRefused, remove
from advent.people.zones import MorningRefused
from advent.runtime import Runtime
from advent.sending.dispatch import Sender
from advent.states.subscribers import TransitionRefused
from advent.store.tables import Subscriber
from advent.web import db_session, runtime

blueprint = Blueprint("people", __name__)

PER_PAGE = 100


def _schedule(campaign: str | None) -> Schedule:
    """The campaign named (404 for an unknown one), or the default one."""
    rt = runtime()
    for schedule in rt.schedules:
        if schedule.campaign == campaign:
            return schedule
    if campaign:
        abort(404)
    return rt.schedule()


def _subscriber(person_id: str) -> Subscriber:
    # A string in the route, not <int:>: /people/abc is this page's 404, not the router's.
    found = db_session().get(Subscriber, int(person_id)) if person_id.isdecimal() else None
    if found is None:
        abort(404)
    return found


@blueprint.get("/people")
def index():  # type: ignore[no-untyped-def]
    session = db_session()
    campaign = request.args.get("campaign") or None
    if campaign:
        _schedule(campaign)
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        abort(404)
    raw_page = request.args.get("page", "1")
    if not raw_page.isdecimal() or int(raw_page) < 1:
        abort(404)
    page, wanted = int(raw_page), PeopleFilter(campaign, status)
    total = people.count_people(session, wanted)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:
        abort(404)
    rt = runtime()
    return render_template(
        "dashboard/people.html",
        people=people.list_people(session, wanted, limit=PER_PAGE, offset=(page - 1) * PER_PAGE),
        counts=people.status_counts(session, campaign),
        wanted=wanted,
        total=total,
        page=page,
        pages=pages,
        schedules=rt.schedules,
        rehearsal=rt.provider.rehearsal,
        morning_words=lambda person: people.morning_words(rt.schedules, person),
        each_friend=any(s.for_each_friend for s in rt.schedules),
    )


@blueprint.get("/people/<person_id>")
def person(person_id: str):  # type: ignore[no-untyped-def]
    return _person_page(_subscriber(person_id), revealed=None)


def _person_page(subscriber: Subscriber, revealed: str | None):  # type: ignore[no-untyped-def]
    session = db_session()
    assert subscriber.id is not None
    schedules = runtime().schedules
    schedule = next((s for s in schedules if s.campaign == subscriber.campaign), None)
    person = people.find_person(session, subscriber.id)
    assert person is not None
    return render_template(
        "dashboard/people_person.html",
        person=person,
        morning=people.morning_words(schedules, person),
        revealed=revealed,
        deliveries=people.deliveries_of(session, subscriber.id),
        room=people.room_on_list(session, schedule) if schedule else 0,
        schedule=schedule,
    )


@blueprint.post("/people/<person_id>/reveal")
def reveal(person_id: str):  # type: ignore[no-untyped-def]
    """The whole number, only when asked for: as JSON for the list's button (people.js), or
    this person's page with it shown (without JavaScript)."""
    subscriber = _subscriber(person_id)
    number = "erased" if erase.is_erased(subscriber.phone) else subscriber.phone
    if request.accept_mimetypes.best == "application/json":
        return jsonify(number=number)
    return _person_page(subscriber, revealed=number)


@blueprint.post("/people/invite")
def invite():  # type: ignore[no-untyped-def]
    rt = runtime()
    form = request.form
    channel = form.get("channel", "sms")
    if channel not in ("sms", "whatsapp"):
        abort(400)
    schedule = _schedule(form.get("campaign") or None)
    try:
        said = people.invite_by_number(
            _sender(rt),
            schedule,
            number=form.get("number", ""),
            channel=channel,
            name=form.get("name") or None,
        )
    except InviteRefused as why:
        flash(f"Not invited: {why}.", "error")
        return redirect(url_for("people.index"))
    flash(said, "error" if said.startswith("Invite recorded but not sent") else "ok")
    return redirect(url_for("people.index"))


def _sender(rt: Runtime) -> Sender:
    # Built like the command's (advent.cli.common.sender_for), on this request's session.
    return Sender(db_session(), rt.provider, rt.settings, clock=rt.clock, rng=random.Random())


@blueprint.post("/people/<person_id>/remove")
def remove_person(person_id: str):  # type: ignore[no-untyped-def]
    subscriber = _subscriber(person_id)
    try:
        remove(db_session(), subscriber, runtime().clock())
    except TransitionRefused as why:
        flash(f"Not removed: {why}.", "error")
    else:
        flash(f"Removed {erase.shown_number(subscriber.phone)} from {subscriber.campaign}.", "ok")
    return redirect(url_for("people.person", person_id=person_id))


@blueprint.post("/people/<person_id>/admit")
def admit(person_id: str):  # type: ignore[no-untyped-def]
    subscriber = _subscriber(person_id)
    schedule = _schedule(subscriber.campaign)
    try:
        people.admit_from_waiting_list(db_session(), schedule, subscriber, runtime().clock())
    except (NoRoom, TransitionRefused) as why:
        db_session().rollback()
        flash(f"Not moved: {why}.", "error")
    else:
        flash(f"{erase.shown_number(subscriber.phone)} is on the {schedule.campaign} list now.", "ok")
    return redirect(url_for("people.person", person_id=person_id))


@blueprint.post("/people/<person_id>/morning")
def change_morning(person_id: str):  # type: ignore[no-untyped-def]
    """Their timezone and hour, as their own TIME would set them (checked the same way)."""
    subscriber = _subscriber(person_id)
    schedule = _schedule(subscriber.campaign)
    form = request.form
    try:
        said = people.change_morning(
            db_session(),
            schedule,
            subscriber,
            place=form.get("place", ""),
            hour=form.get("hour", ""),
            now=runtime().clock(),
        )
    except MorningRefused as why:
        db_session().rollback()
        flash(f"Not changed: {why}.", "error")
    else:
        flash(said, "ok")
    return redirect(url_for("people.person", person_id=person_id))


@blueprint.post("/people/<person_id>/export")
def export(person_id: str):  # type: ignore[no-untyped-def]
    subscriber = _subscriber(person_id)
    data = erase.export_person(db_session(), subscriber, runtime().clock())
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="advent-person-{subscriber.id}.json"'},
    )


@blueprint.get("/people/<person_id>/erase")
def confirm_erase(person_id: str):  # type: ignore[no-untyped-def]
    subscriber = _subscriber(person_id)
    assert subscriber.id is not None
    return render_template(
        "dashboard/people_erase.html",
        person=people.find_person(db_session(), subscriber.id),
        plan=erase.erase_plan(db_session(), subscriber),
    )


@blueprint.post("/people/<person_id>/erase")
def erase_person(person_id: str):  # type: ignore[no-untyped-def]
    subscriber = _subscriber(person_id)
    erased = erase.erase_person(db_session(), subscriber, runtime().clock())
    lists = f"{erased} list{'s' if erased != 1 else ''}"
    said = f"Erased: their number and texts are gone from {lists}; the counts are kept."
    flash(said if erased else "This person was erased already.", "ok")
    return redirect(url_for("people.index"))
