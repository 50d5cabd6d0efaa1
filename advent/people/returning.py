"""Last year's friends, asked back: an invite to each for the new campaign (double opt-in).

Consent is per campaign: a friend of advent-2026 said yes to advent-2026, not to whatever comes
next, so nothing of the new campaign reaches them until they reply to this invite with its join
word. Each invite is recorded through `prepare_invite` (the same checks as inviting one number:
the cooldown, one a day, never after a STOP), and sent like any invite. Nobody who said STOP,
on any campaign on that channel, is asked, nor anyone the organiser took off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from advent.content.schedules import Schedule
from advent.people.invites import Invite, InviteRefused, prepare_invite
from advent.states.subscribers import SubscriberStatus as S
from advent.store.tables import Subscriber

# Who of the old list is asked back: those who were on it (or on its waiting list) to the end.
ASKED_BACK = (S.ACTIVE, S.WAITING)
# Why each of the others is not, in the organiser's words.
LEFT_OUT = {
    S.STOPPED: "said STOP; never invited again",
    S.REMOVED: "you took them off the list",
    S.INVALID: "the number cannot receive messages",
    S.INVITED: "were invited last time but never joined",
}


class NothingToInvite(Exception):
    """The campaign named has nobody to ask back, or is the new one itself; says why."""


@dataclass
class AskedBack:
    invited: list[Invite] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # why -> how many

    def summary(self, from_campaign: str, campaign: str) -> str:
        lines = [f"Invited {len(self.invited)} of {from_campaign}'s friends to {campaign}."]
        lines += [f"Not invited: {n} {why}." for why, n in self.skipped.most_common()]
        return "\n".join(lines)


def invite_back(
    session: Session,
    schedule: Schedule,
    *,
    from_campaign: str,
    words: Callable[[str, str], str],
    now: datetime,
    cooldown_days: int,
    whatsapp_allowed: bool,
) -> AskedBack:
    """Record an invite to `schedule`'s campaign for each friend of `from_campaign`; each one's
    text is `words(phone, channel)`. `whatsapp_allowed`: the schedule has an approved invite
    template (WhatsApp lets a business open a conversation with nothing else). Commits each."""
    if from_campaign == schedule.campaign:
        raise NothingToInvite(f"{from_campaign} is the campaign they would be invited to")
    old = session.exec(
        select(Subscriber).where(Subscriber.campaign == from_campaign).order_by(col(Subscriber.id))
    ).all()
    if not old:
        raise NothingToInvite(f"nobody was ever on {from_campaign}'s list")
    stopped = _said_stop_anywhere(session, {s.phone for s in old})
    done = AskedBack()
    for friend in old:
        why = _left_out(friend, schedule, stopped, whatsapp_allowed)
        if why is None:
            try:
                done.invited.append(
                    prepare_invite(
                        session,
                        schedule,
                        phone=friend.phone,
                        channel=friend.channel,
                        name=friend.name,
                        text=words(friend.phone, friend.channel),
                        now=now,
                        cooldown_days=cooldown_days,
                    )
                )
                continue
            except InviteRefused as refused:
                why = _in_short(str(refused))
        done.skipped[why] += 1
    session.commit()
    return done


def _said_stop_anywhere(session: Session, phones: set[str]) -> set[tuple[str, str]]:
    """(phone, channel) of these numbers that said STOP on any campaign: that choice stands."""
    rows = session.exec(
        select(Subscriber.phone, Subscriber.channel).where(
            col(Subscriber.phone).in_(phones), Subscriber.status == S.STOPPED
        )
    ).all()
    return {(phone, channel) for phone, channel in rows}


def _left_out(
    friend: Subscriber, schedule: Schedule, stopped: set[tuple[str, str]], whatsapp_allowed: bool
) -> str | None:
    if friend.status not in ASKED_BACK:
        return LEFT_OUT.get(S(friend.status), friend.status)
    if (friend.phone, friend.channel) in stopped:
        return LEFT_OUT[S.STOPPED]
    if friend.channel not in schedule.channels:
        return f"joined on {friend.channel}, which {schedule.campaign} does not use"
    if friend.channel == "whatsapp" and not whatsapp_allowed:
        return "on WhatsApp, which needs the schedule's whatsapp_invite_template_sid to invite"
    return None


def _in_short(refusal: str) -> str:
    # The one-number refusals name a date ("already invited on 2027-11-02; ..."): grouped by
    # their kind, so the summary stays a few lines whatever the list's size.
    if refusal.startswith("already invited"):
        return "already invited recently (ADVENT_INVITE_COOLDOWN_DAYS)"
    if refusal.startswith("already on the list"):
        return "already on the new list"
    return refusal
