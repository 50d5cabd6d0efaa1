"""Invites go out like posts: a delivery row first, then claim, pace, hand-over and receipts.

The row is written when the organiser invites (see `advent.people.invites`); here it is handed
to the provider by the same dispatcher as a day's posts, so an invite is retried, reconciled,
receipted and counted like any post, and never sent twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, or_
from sqlmodel import select

from advent.content.posts import ContentError, Post, load_post
from advent.content.schedules import Schedule
from advent.sending.dispatch import Sender, dispatch_day
from advent.sending.recovery import recover_stale_claims
from advent.store.tables import Delivery


def _days_with_texts_to_send(sender: Sender, schedule: Schedule, kind: str) -> list[date]:
    cutoff = sender.clock() - timedelta(seconds=sender.settings.claim_timeout_seconds)
    days = sender.session.exec(
        select(Delivery.day)
        .where(
            Delivery.campaign == schedule.campaign,
            Delivery.kind == kind,
            or_(
                Delivery.status == "pending",
                # a claim a crash left behind: settled by asking the provider first
                and_(Delivery.status == "claimed", Delivery.claimed_at <= cutoff),
            ),
        )
        .distinct()
        .order_by(Delivery.day)
    ).all()
    sender.session.commit()
    return list(days)


def send_invites(sender: Sender, schedule: Schedule, wait_for_retries: bool = True) -> int:
    """Hand every invite of the campaign that is due to the provider; returns how many.

    With `wait_for_retries`, it also waits for invites the provider asked us to try again later.
    """
    return send_texts(sender, schedule, "invite", wait_for_retries)


def send_texts(sender: Sender, schedule: Schedule, kind: str, wait_for_retries: bool = True) -> int:
    """Hand every due row of `kind` whose words are on the row (an invite, a text to the
    organiser) to the provider; returns how many."""
    handled = 0
    for day in _days_with_texts_to_send(sender, schedule, kind):
        # The organiser's evening preview of a day may go as that day's post (sender.outgoing).
        post = _post_of(sender, schedule, day) if kind == "organiser" else None
        recover_stale_claims(sender, schedule, day, post, kind=kind)
        handled += dispatch_day(sender, schedule, day, post, wait_for_retries, kind=kind)
    return handled


def _post_of(sender: Sender, schedule: Schedule, day: date) -> Post | None:
    if not schedule.runs_on(day):
        return None
    try:
        return load_post(sender.settings.messages_dir, schedule, day)
    except ContentError:
        return None  # the preview on the row says it cannot be sent


def invite_status(sender: Sender, delivery_id: int) -> Delivery:
    """The invite's row as it stands now (after its hand-over and any receipts)."""
    delivery = sender.session.get(Delivery, delivery_id, populate_existing=True)
    sender.session.commit()
    assert delivery is not None and delivery.kind == "invite", f"no invite {delivery_id}"
    return delivery
