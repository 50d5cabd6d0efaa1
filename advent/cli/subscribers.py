"""`advent subscribers`: the list, invites and removals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click
from sqlmodel import select

from advent.cli.common import CAMPAIGN, now, runtime, sender_for, show_rows
from advent.content.schedules import Schedule
from advent.people.invites import InviteRefused, invite_words, prepare_invite, remove
from advent.people.phones import InvalidNumber, mask, normalise_number
from advent.people.returning import NothingToInvite, invite_back
from advent.receipts import collect_receipts
from advent.sending.invites import invite_status, send_invites
from advent.states.subscribers import SubscriberStatus
from advent.store.tables import ConsentEvent, Subscriber

# How an invite can end without reaching the phone (the delivery's reason says why).
NOT_SENT = ("failed", "undelivered", "needs_template", "cancelled", "unknown")


@click.group(help="See who is on the list, invite someone, or take someone off.")
def subscribers() -> None:
    pass


def _number(raw: str) -> str:
    try:
        return normalise_number(
            raw, runtime().settings.default_region, allow_drama_numbers=runtime().provider.rehearsal
        )
    except InvalidNumber as error:
        raise click.BadParameter(str(error), param_hint="NUMBER") from None


@subscribers.command(
    "list", help="Each person's current state and consent history (numbers masked unless --full-numbers)."
)
@CAMPAIGN
@click.option("--json", "as_json", is_flag=True, help="JSON, for scripts.")
@click.option("--full-numbers", is_flag=True, help="Show whole phone numbers.")
def list_command(campaign: str | None, as_json: bool, full_numbers: bool) -> None:
    rt = runtime()
    show = (lambda p: p) if full_numbers else mask
    with rt.session() as session:
        # The organiser's own phone is not one of the friends (advent.organiser.own_phone).
        query = (
            select(Subscriber)
            .where(Subscriber.campaign != "organiser")
            .order_by(Subscriber.campaign, Subscriber.id)
        )
        if campaign:
            query = query.where(Subscriber.campaign == campaign)
        people = session.exec(query).all()
        history: dict[int | None, list[ConsentEvent]] = {p.id: [] for p in people}
        for event in session.exec(
            select(ConsentEvent)
            .where(ConsentEvent.subscriber_id.in_(list(history)))
            .order_by(ConsentEvent.id)
        ):
            history[event.subscriber_id].append(event)
    rows = [
        {
            "number": show(p.phone),
            "channel": p.channel,
            "campaign": p.campaign,
            "status": p.status,
            "name": p.name,
            "history": [
                {
                    "at": e.created_at.isoformat(timespec="seconds"),
                    "kind": e.kind,
                    "method": e.method,
                    "text": e.text_received,
                }
                for e in history[p.id]
            ],
        }
        for p in people
    ]
    show_rows(
        rows,
        as_json=as_json,
        empty="Nobody yet. Invite someone: advent subscribers invite +447911123456",
        line=_person_with_history,
    )


def _person_with_history(row: dict) -> str:
    lines = [
        f"{row['number']}  {row['channel']:8} {row['campaign']}  {row['status']}"
        + (f"  ({row['name']})" if row["name"] else "")
    ]
    for event in row["history"]:
        said = f' "{event["text"]}"' if event["text"] else ""
        lines.append(f"    {event['at']}  {event['kind']} by {event['method']}{said}")
    return "\n".join(lines)


@subscribers.command(
    help="Invite NUMBER (double opt-in): one text saying who invites them and "
    "how to join; they are on the list only once they reply. With --from-campaign instead of "
    "NUMBER, invite every friend of that earlier campaign to this one (never anyone who said STOP)."
)
@click.argument("number", required=False)
@click.option("--name", default=None, help="Their name, for your own list.")
@CAMPAIGN
@click.option("--whatsapp", is_flag=True, help="Invite on WhatsApp instead of SMS.")
@click.option(
    "--from-campaign",
    default=None,
    help="Invite that campaign's friends back, each on the channel they used (e.g. advent-2026).",
)
def invite(
    number: str | None, name: str | None, campaign: str | None, whatsapp: bool, from_campaign: str | None
) -> None:
    if (number is None) == (from_campaign is None):
        raise click.UsageError("Give either NUMBER or --from-campaign.")
    if from_campaign is not None:
        _invite_back(from_campaign, campaign)
        return
    assert number is not None
    rt = runtime()
    phone, channel = _number(number), ("whatsapp" if whatsapp else "sms")
    schedule = rt.schedule(campaign)
    if whatsapp and not schedule.whatsapp_invite_template_sid:
        raise click.ClickException(
            "Not invited: WhatsApp lets a business start a conversation only with an approved "
            "template. Set whatsapp_invite_template_sid in the schedule, or invite by SMS."
        )
    moment = now()
    text = _words(schedule, moment)(phone, channel)
    with rt.session() as session:
        try:
            prepared = prepare_invite(
                session,
                schedule,
                phone=phone,
                channel=channel,
                name=name,
                text=text,
                now=moment,
                cooldown_days=rt.settings.invite_cooldown_days,
            )
        except InviteRefused as why:
            raise click.ClickException(f"Not invited: {why}.") from None
    # Through the same sender as the day's posts: claimed once, paced, retried, receipted.
    sender = sender_for(rt)
    send_invites(sender, schedule)
    collect_receipts(sender.session, rt.provider, now())
    delivery = invite_status(sender, prepared.delivery_id)
    if delivery.status in NOT_SENT:
        raise click.ClickException(f"Invite recorded but not sent: {delivery.error_reason}")
    click.echo(f'Invited {mask(phone)} by {channel}: "{text}"')


def _words(schedule: Schedule, moment: datetime) -> Callable[[str, str], str]:
    settings = runtime().settings
    return lambda phone, channel: invite_words(settings, schedule, phone=phone, channel=channel, now=moment)


def _invite_back(from_campaign: str, campaign: str | None) -> None:
    rt = runtime()
    schedule = rt.schedule(campaign)
    moment = now()
    with rt.session() as session:
        try:
            asked = invite_back(
                session,
                schedule,
                from_campaign=from_campaign,
                words=_words(schedule, moment),
                now=moment,
                cooldown_days=rt.settings.invite_cooldown_days,
                whatsapp_allowed=bool(schedule.whatsapp_invite_template_sid),
            )
        except NothingToInvite as why:
            raise click.ClickException(f"Nobody invited: {why}.") from None
    # Sent as any invite is; one in a friend's night waits for their morning.
    sender = sender_for(rt)
    send_invites(sender, schedule)
    collect_receipts(sender.session, rt.provider, now())
    click.echo(asked.summary(from_campaign, schedule.campaign))
    if asked.invited:
        click.echo(f"Nobody is on {schedule.campaign}'s list until they reply {schedule.join_keyword}.")


@subscribers.command("remove", help="Take NUMBER off the list now (kept in the consent record).")
@click.argument("number")
@CAMPAIGN
def remove_command(number: str, campaign: str | None) -> None:
    rt = runtime()
    phone = _number(number)
    with rt.session() as session:
        query = select(Subscriber).where(Subscriber.phone == phone)
        if campaign:
            query = query.where(Subscriber.campaign == rt.schedule(campaign).campaign)
        found = [s for s in session.exec(query).all() if s.status != SubscriberStatus.REMOVED]
        if not found:
            raise click.ClickException(f"{mask(phone)} is not on any list.")
        for subscriber in found:
            remove(session, subscriber, now())
    click.echo(f"Removed {mask(phone)} from {', '.join(s.campaign for s in found)}.")
