"""`advent templates`: make, submit and check the WhatsApp templates a campaign needs."""

from __future__ import annotations

import sys

import click

from advent.cli.common import CAMPAIGN, now, runtime
from advent.content.posts import load_posts
from advent.providers.base import ProviderError
from advent.sending.templates import (
    DAILY,
    TemplateRefused,
    create_templates,
    describe,
    refresh_templates,
    submit_templates,
    templates_of,
)
from advent.store.tables import WhatsAppTemplate

# What Meta's categories mean for price and approval; the sources are in docs/whatsapp-templates.md.
CATEGORY_HELP = """\
About the category (Meta has the last word, and may move a template to the other one):
  utility    non-promotional messages a friend asked for about something of theirs (an order,
             an account, a booking). Cheaper, and free inside the 24-hour window; Meta rejects
             or re-files as marketing anything that reads as promotion or general content.
  marketing  everything else, including newsletters and daily content such as these posts.
             Paid for every message delivered, inside the window too, at a higher rate per
             country; Meta does not deliver marketing templates to US (+1) numbers.
The default is marketing, the honest fit for a daily kind thought; --category utility is
cheaper if Meta agrees. Sources: docs/whatsapp-templates.md."""


@click.group(help="WhatsApp templates: make them, submit them for Meta's approval, and check.")
def templates() -> None:
    pass


def _line(row: WhatsAppTemplate) -> str:
    what = "every post as {{1}}" if row.purpose == DAILY else f"the post of {row.day}"
    return f"{row.friendly_name} ({row.sid}, {row.campaign}, {what})"


@templates.command(
    "create",
    help="Make the campaign's WhatsApp template: a fixed opening naming ADVENT_ORGANISER_NAME and "
    "the schedule's title, the day's post as the variable, in ADVENT_WHATSAPP_LANGUAGE. With "
    "--per-post, one template per post with its text fixed instead. Records each and prints "
    "the next step; nothing is sent to WhatsApp for approval until `advent templates submit`.",
)
@CAMPAIGN
@click.option("--per-post", is_flag=True, help="One template per post (its text fixed, no variable).")
@click.option(
    "--category",
    type=click.Choice(["utility", "marketing"], case_sensitive=False),
    default="marketing",
    show_default=True,
    help="Meta's category, which sets the price and how Meta reviews it (see the note printed).",
)
def create(campaign: str | None, per_post: bool, category: str) -> None:
    rt = runtime()
    schedule = rt.schedule(campaign)
    posts = load_posts(rt.settings.messages_dir, schedule)
    with rt.session() as session:
        try:
            made = create_templates(
                session,
                rt.provider,
                schedule,
                posts,
                organiser=rt.settings.organiser_name,
                language=rt.settings.whatsapp_language,
                category=category.lower(),
                per_post=per_post,
                now=now(),
                quick_reply=schedule.whatsapp_quick_reply,
            )
        except (TemplateRefused, ProviderError) as error:
            raise click.ClickException(_reason(error)) from None
    if not made:
        click.echo(f"Every post of {schedule.campaign} already has its own template; nothing to make.")
    for row in made:
        click.echo(f"made {_line(row)}: {row.category}, language {row.language}, not yet submitted")
    click.echo("")
    click.echo(CATEGORY_HELP)
    click.echo("")
    click.echo(f"Next: advent templates submit --campaign {schedule.campaign}")


def _reason(error: Exception) -> str:
    return error.reason if isinstance(error, ProviderError) else str(error)


@templates.command(
    "submit",
    help="Ask WhatsApp (Meta) to approve the campaign's templates not yet submitted, each under "
    "its name in lowercase with underscores and the category chosen at `create`.",
)
@CAMPAIGN
def submit(campaign: str | None) -> None:
    rt = runtime()
    schedule = rt.schedule(campaign)
    with rt.session() as session:
        submitted, refused = submit_templates(session, rt.provider, schedule.campaign, now())
    for row in submitted:
        click.echo(f"submitted {_line(row)}: {describe(row)}")
    for row, reason in refused:
        click.echo(f"NOT submitted {_line(row)}: {reason}")
    if not submitted and not refused:
        click.echo(
            f"No template of {schedule.campaign} is waiting to be submitted; make one with "
            f"`advent templates create --campaign {schedule.campaign}`, or see "
            f"`advent templates status --campaign {schedule.campaign}`."
        )
    if submitted:
        click.echo(
            f"Meta usually answers within hours. Check with: advent templates status --campaign "
            f"{schedule.campaign}. Once approved, advent uses it by itself: no SID to copy."
        )
    if refused:
        sys.exit(1)


@templates.command(
    "status",
    help="Ask the provider for each template's approval (approved, pending, rejected with "
    "Meta's reason, ...), say it in plain words, and record it.",
)
@CAMPAIGN
def status(campaign: str | None) -> None:
    rt = runtime()
    chosen = rt.schedule(campaign).campaign if campaign else None
    with rt.session() as session:
        checks = refresh_templates(session, rt.provider, chosen, now())
        if not checks:
            named = chosen or (rt.schedules[0].campaign if len(rt.schedules) == 1 else "NAME")
            click.echo(
                f"No WhatsApp templates made for {chosen or 'any campaign'} on {rt.provider.name} "
                f"yet; make one with `advent templates create --campaign {named}`."
            )
            return
        for check in checks:
            row = check.template
            if check.error:
                click.echo(f"could not ask about {_line(row)}: {check.error} (last known: {row.approval})")
            else:
                click.echo(f"{_line(row)}: {describe(row)}")
        approved = {
            r.campaign for r in templates_of(session, rt.provider.name, chosen) if r.approval == "approved"
        }
    for name in sorted(approved):
        click.echo(f"{name}: WhatsApp friends outside the 24-hour window now get the approved template.")
    if any(check.error for check in checks):
        sys.exit(1)


COMMANDS = [templates]
