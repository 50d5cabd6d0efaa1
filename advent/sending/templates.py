"""A campaign's WhatsApp templates: made, submitted for Meta's approval, checked, then used.

Outside a friend's 24-hour window WhatsApp delivers only a template Meta approved. The organiser
makes one per campaign (the day's post goes in as its one variable) or one per post (the post's
text fixed), submits it, and once it is approved the sender picks it up from the
`whatsapp_template` table, so no SID is ever copied by hand. Everything goes through
`provider.templates`, so it works the same on the simulator and on Twilio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from advent.content.posts import Post
from advent.content.schedules import Schedule
from advent.content.whatsapp import variable_text
from advent.providers.base import Provider, ProviderError, TemplateDraft, TemplateState
from advent.store.tables import WhatsAppTemplate

DAILY = "daily"  # one template for every post: the post is its variable {{1}}
DAY = "day"  # one post's own template: its text fixed, no variable
CATEGORIES = ("utility", "marketing")
# A template in one of these states will never be sent again: a new one may replace it.
DEAD = {"rejected", "disabled"}
# Meta refuses a variable longer than this (Twilio docs, using variables with the Content API).
VARIABLE_LIMIT = 255
CLOSING = "Reply STOP to stop these messages."
UNNAMED = {"", "the organiser"}  # the setting's default: not the organiser's own words


class TemplateRefused(Exception):
    """A template that cannot be made or submitted as asked; `str()` says why and what to do."""


@dataclass(frozen=True)
class ApprovedTemplate:
    """The approved template the sender uses for a day, found in the table."""

    sid: str
    purpose: str

    def variables(self, post: Post) -> dict[str, str]:
        # A post's own template has its text fixed; the campaign's takes the post as {{1}}, on
        # one line, as Meta takes a variable (content check warns about what folding does).
        if self.purpose != DAILY:
            return {}
        whole = variable_text(post.text)
        if post.closing and len(whole) > VARIABLE_LIMIT:
            # Meta refuses a longer variable: the last post goes without its closing line
            # rather than not at all (content check says so, and how short it must be).
            return {"1": variable_text(post.own_text)}
        return {"1": whole}


@dataclass(frozen=True)
class TemplateCheck:
    """One template after asking the provider: the row as now recorded, or why it could not ask."""

    template: WhatsAppTemplate
    error: str | None = None


def opening(organiser: str, schedule: Schedule) -> str:
    return f"Today's kind thought from {organiser} ({schedule.title}):"


def sample_text(text: str) -> str:
    """A post as a sample value Meta accepts: one line, single spaces, at most 255 characters."""
    folded = variable_text(text)
    if len(folded) <= VARIABLE_LIMIT:
        return folded
    cut = folded[: VARIABLE_LIMIT - 1].rsplit(" ", 1)[0]
    return cut + "…"


def daily_draft(
    schedule: Schedule, first: Post, organiser: str, language: str, quick_reply: str | None = None
) -> TemplateDraft:
    # Fixed text before and after {{1}}: Meta rejects a body that starts or ends with one.
    body = f"{opening(organiser, schedule)}\n\n{{{{1}}}}\n\n{CLOSING}"
    return TemplateDraft(
        friendly_name=f"{schedule.campaign}_daily".replace("-", "_"),
        language=language,
        body=body,
        samples={"1": sample_text(first.text)},
        quick_reply=quick_reply,
    )


def day_draft(schedule: Schedule, post: Post, organiser: str, language: str) -> TemplateDraft:
    return TemplateDraft(
        friendly_name=f"{schedule.campaign}_day_{post.day:02d}".replace("-", "_"),
        language=language,
        body=f"{opening(organiser, schedule)}\n\n{post.text.strip()}\n\n{CLOSING}",
        samples={},
    )


def approval_name(friendly_name: str) -> str:
    """The name WhatsApp knows a template by: lowercase letters, digits and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", friendly_name.lower()).strip("_")


def templates_of(session: Session, provider: str, campaign: str | None = None) -> list[WhatsAppTemplate]:
    query = select(WhatsAppTemplate).where(WhatsAppTemplate.provider == provider)
    if campaign:
        query = query.where(WhatsAppTemplate.campaign == campaign)
    return list(session.exec(query.order_by(WhatsAppTemplate.campaign, col(WhatsAppTemplate.id))).all())


def _live(rows: list[WhatsAppTemplate], purpose: str, day: date | None) -> WhatsAppTemplate | None:
    return next((r for r in rows if r.purpose == purpose and r.day == day and r.approval not in DEAD), None)


def _unique(name: str, rows: list[WhatsAppTemplate]) -> str:
    # A rejected template's name stays taken at Meta, so a replacement gets a number.
    taken = {r.friendly_name for r in rows}
    number = 1
    while (candidate := name if number == 1 else f"{name}_{number}") in taken:
        number += 1
    return candidate


def create_templates(
    session: Session,
    provider: Provider,
    schedule: Schedule,
    posts: list[Post],
    *,
    organiser: str,
    language: str,
    category: str,
    per_post: bool,
    now: datetime,
    quick_reply: str | None = None,
) -> list[WhatsAppTemplate]:
    """Make the campaign's template (or one per post still without one) and record each.

    Each is committed as soon as the provider made it, so a failure half-way leaves a record of
    what exists and running the command again makes only the rest."""
    if organiser.strip().lower() in UNNAMED:
        raise TemplateRefused(
            "set ADVENT_ORGANISER_NAME first: every friend reads the template's opening, which "
            "says who the kind thought is from"
        )
    if category not in CATEGORIES:
        raise TemplateRefused(f"category must be one of {', '.join(CATEGORIES)}, not {category!r}")
    if not posts:
        raise TemplateRefused(f"{schedule.campaign} has no posts to make a template from")
    rows = templates_of(session, provider.name, schedule.campaign)
    wanted: list[tuple[TemplateDraft, str, date | None]] = []
    if per_post:
        for post in posts:
            day = schedule.days()[post.day - 1]
            if _live(rows, DAY, day) is None:
                wanted.append((day_draft(schedule, post, organiser, language), DAY, day))
    else:
        existing = _live(rows, DAILY, None)
        if existing is not None:
            raise TemplateRefused(
                f"{schedule.campaign} already has its daily template {existing.friendly_name} "
                f"({existing.sid}, {existing.approval}); see `advent templates status --campaign "
                f"{schedule.campaign}`. A new one can be made once it is rejected or disabled"
            )
        wanted.append((daily_draft(schedule, posts[0], organiser, language, quick_reply), DAILY, None))
    made = []
    for draft, purpose, day in wanted:
        name = _unique(draft.friendly_name, rows)
        draft = TemplateDraft(name, draft.language, draft.body, draft.samples, draft.quick_reply)
        state = provider.templates.create(draft)
        row = WhatsAppTemplate(
            provider=provider.name,
            campaign=schedule.campaign,
            purpose=purpose,
            day=day,
            sid=state.sid,
            friendly_name=state.friendly_name or name,
            language=language,
            category=category.upper(),
            approval=state.approval,
            created_at=now,
        )
        session.add(row)
        session.commit()
        rows.append(row)
        made.append(row)
    return made


def _record(row: WhatsAppTemplate, state: TemplateState, now: datetime) -> None:
    row.approval = state.approval
    row.rejection_reason = state.rejection_reason
    row.category = state.category or row.category
    row.checked_at = now


def submit_templates(
    session: Session, provider: Provider, campaign: str, now: datetime
) -> tuple[list[WhatsAppTemplate], list[tuple[WhatsAppTemplate, str]]]:
    """Ask WhatsApp to approve every template of the campaign not yet submitted.

    Returns those submitted, and those the provider refused with its reason."""
    submitted, refused = [], []
    for row in templates_of(session, provider.name, campaign):
        if row.approval != "not_submitted":
            continue
        try:
            state = provider.templates.submit(
                row.sid, approval_name(row.friendly_name), row.category or "UTILITY"
            )
        except ProviderError as error:
            refused.append((row, error.reason))
            continue
        _record(row, state, now)
        session.add(row)
        session.commit()
        submitted.append(row)
    return submitted, refused


def refresh_templates(
    session: Session, provider: Provider, campaign: str | None, now: datetime
) -> list[TemplateCheck]:
    """Each template's approval as the provider says now, written to the table."""
    checks = []
    for row in templates_of(session, provider.name, campaign):
        try:
            state = provider.templates.status(row.sid)
        except ProviderError as error:
            checks.append(TemplateCheck(row, error.reason))
            continue
        _record(row, state, now)
        session.add(row)
        session.commit()
        checks.append(TemplateCheck(row))
    return checks


def approved_template(session: Session, provider: str, campaign: str, day: date) -> ApprovedTemplate | None:
    """The template the sender uses for `day`: the post's own approved one, else the campaign's."""
    rows = [r for r in templates_of(session, provider, campaign) if r.approval == "approved"]
    session.commit()  # end the read: the sender claims rows in its own write transactions
    own = [r for r in rows if r.purpose == DAY and r.day == day]
    daily = [r for r in rows if r.purpose == DAILY]
    chosen = own or daily
    if not chosen:
        return None
    newest = chosen[-1]  # should a replacement be approved too, the newest wins
    return ApprovedTemplate(newest.sid, newest.purpose)


def describe(row: WhatsAppTemplate) -> str:
    """A template's approval in plain words, with what to do next."""
    make_new = f"make a new one with `advent templates create --campaign {row.campaign}`"
    words = {
        "not_submitted": "made, not yet sent for approval: run "
        f"`advent templates submit --campaign {row.campaign}`",
        "received": "sent to WhatsApp; waiting for Meta to start its review",
        "pending": "Meta is reviewing it (usually within hours, sometimes a day or two)",
        "approved": "approved: friends outside the 24-hour window get it",
        "paused": "paused by Meta after friends blocked or reported it; nothing is sent with it "
        "until Meta lifts the pause",
        "disabled": f"disabled by Meta after repeated complaints; {make_new}",
    }
    if row.approval == "rejected":
        reason = (row.rejection_reason or "Meta gave no reason").rstrip(". ")
        return f"rejected by Meta: {reason}. Change the wording if needed and {make_new}"
    return words.get(row.approval, f"in a state advent does not know ({row.approval})")
