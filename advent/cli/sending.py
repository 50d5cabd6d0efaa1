"""`advent send` and `advent stats`: one day on demand, and how the days went."""

from __future__ import annotations

import json
from datetime import date

import click

from advent.cli.common import CAMPAIGN, DATE, day_option, now, runtime, sender_for, show_rows
from advent.content.posts import load_post
from advent.content.schedules import Schedule
from advent.content.segments import count_segments
from advent.organiser.stats import day_stats, invite_stats, problems
from advent.people.subscriptions import active_count
from advent.receipts import collect_receipts
from advent.sending.days import send_day


def _campaign_day(campaign: str | None, day: date | None) -> tuple[Schedule, date]:
    schedule = runtime().schedule(campaign)
    chosen = day_option(schedule, day)
    if not schedule.runs_on(chosen):
        raise click.UsageError(
            f"{chosen} is not a day of {schedule.campaign} "
            f"({schedule.first_day} to {schedule.last_day}); pass --date inside it"
        )
    return schedule, chosen


@click.command(help="Send one day's post now (today by default), through the same sender as the "
                    "scheduler. Safe to repeat: nobody gets a day twice.")
@CAMPAIGN
@DATE
@click.option("--dry-run", is_flag=True, help="Show what would be sent, and to how many; send nothing.")
def send(campaign: str | None, day: date | None, dry_run: bool) -> None:
    rt = runtime()
    schedule, chosen = _campaign_day(campaign, day)
    post = load_post(rt.settings.messages_dir, schedule, chosen)
    if dry_run:
        cost = count_segments(post.text)
        with rt.session() as session:
            people = active_count(session, schedule.campaign)
        click.echo(f"{schedule.campaign} {chosen} (day {post.day}), {cost.encoding}, "
                   f"{cost.segments} SMS segment(s), {people} on the list:\n")
        click.echo(post.text)
        click.echo("\nDry run: nothing sent.")
        return
    sender = sender_for(rt, progress=True)
    result = send_day(sender, schedule, chosen, post)
    collect_receipts(sender.session, rt.provider, now())
    summary = ", ".join(f"{n} {s}" for s, n in sorted(result.counts.items())) or "nobody on the list"
    click.echo(f"{schedule.campaign} {chosen}: {result.planned} newly planned, "
               f"{result.handled} handed over now; {summary}.")
    if not result.finished:
        click.echo("Some deliveries are still waiting for a retry; run `advent send` again later, "
                   "or leave it to the scheduler.")


@click.command(help="Deliveries per day and how many are in each status (queued, sent, "
                    "delivered, read, failed, ...).")
@CAMPAIGN
@DATE
@click.option("--json", "as_json", is_flag=True, help="One JSON object per day, for scripts.")
@click.option("--problems", "show_problems", is_flag=True,
              help="Instead, list each delivery that failed, needs a template or is unknown, "
                   "and why.")
def stats(campaign: str | None, day: date | None, as_json: bool, show_problems: bool) -> None:
    rt = runtime()
    with rt.session() as session:
        collect_receipts(session, rt.provider, now())
        rows = day_stats(session, campaign, day)
        invites = [] if day else invite_stats(session, campaign)
        found = problems(session, campaign, day) if show_problems else []
    if show_problems:
        _print_problems(found, as_json)
        return
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows] + [i.to_json() for i in invites], indent=2))
        return
    if not rows and not invites:
        click.echo("No deliveries yet.")
    for row in rows:
        parts = ", ".join(f"{n} {s}" for s, n in row.counts.items())
        state = f" [{row.run}]" if row.run else ""
        click.echo(f"{row.campaign} {row.day}{state}: {row.total} deliveries ({parts or 'none'})")
    for invited in invites:
        click.echo(invited.line())


def _print_problems(found: list, as_json: bool) -> None:
    show_rows([p.to_json() for p in found], as_json=as_json,
              empty="No failed, unknown or template-less deliveries.", line=_problem_line)


def _problem_line(p: dict) -> str:
    code = f" ({p['code']})" if p["code"] else ""
    what = " invite" if p["kind"] == "invite" else ""
    return (f"{p['campaign']} {p['day']}{what} {p['number']} {p['channel']}: {p['status']}{code}: "
            f"{p['reason']}")


COMMANDS = [send, stats]
