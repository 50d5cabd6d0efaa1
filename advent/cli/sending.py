"""`advent send` and `advent stats`: one day on demand, and how the days went."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import click

from advent.cli.common import CAMPAIGN, DATE, day_option, now, runtime, sender_for, show_rows
from advent.organiser.stats import day_stats, invite_stats, problems
from advent.receipts import collect_receipts

if TYPE_CHECKING:
    from advent.content.schedules import Schedule
    from advent.runtime import Runtime

# What only `send` and `next-day` need is imported inside them, so `advent stats` starts quickly.


def _campaign_day(campaign: str | None, day: date | None) -> tuple[Schedule, date]:
    schedule = runtime().schedule(campaign)
    chosen = day_option(schedule, day)
    if not schedule.runs_on(chosen):
        raise click.UsageError(
            f"{chosen} is not a day of {schedule.campaign} "
            f"({schedule.first_day} to {schedule.last_day}); pass --date inside it"
        )
    return schedule, chosen


@click.command(
    help="Send one day's post now (today by default), through the same sender as the "
    "scheduler. Safe to repeat: nobody gets a day twice."
)
@CAMPAIGN
@DATE
@click.option("--dry-run", is_flag=True, help="Show what would be sent, and to how many; send nothing.")
def send(campaign: str | None, day: date | None, dry_run: bool) -> None:
    from advent.content.posts import load_post
    from advent.content.segments import count_segments
    from advent.people.subscriptions import active_count
    from advent.sending.days import send_day
    from advent.sending.holds import is_held
    from advent.sending.progress import people_handed_over

    rt = runtime()
    schedule, chosen = _campaign_day(campaign, day)
    post = load_post(rt.settings.messages_dir, schedule, chosen)
    if dry_run:
        cost = count_segments(post.text)
        with rt.session() as session:
            people = active_count(session, schedule.campaign)
        click.echo(
            f"{schedule.campaign} {chosen} (day {post.day}), {cost.encoding}, "
            f"{cost.segments} SMS segment(s), {people} on the list:\n"
        )
        click.echo(post.text)
        click.echo("\nDry run: nothing sent.")
        return
    with rt.session() as session:
        before = people_handed_over(session, schedule.campaign, chosen)
        if is_held(session, schedule, chosen):
            raise click.ClickException(
                f"{chosen} is held: nothing of it goes out; release it first with "
                f"`advent release --date {chosen}`"
            )
    sender = sender_for(rt, progress=True)
    result = send_day(sender, schedule, chosen, post)
    collect_receipts(sender.session, rt.provider, now())
    _print_sent(rt, schedule, chosen, result.planned, before)


def _print_sent(rt: Runtime, schedule: Schedule, day: date, planned: int, before: int) -> None:
    from advent.sending.plan import count_by_status
    from advent.sending.progress import held_for_morning, people_handed_over, waiting_for_retry

    # People, not attempts: a post refused as busy and tried again is still one person.
    with rt.session() as session:
        handed = people_handed_over(session, schedule.campaign, day) - before
        waiting = waiting_for_retry(session, schedule.campaign, day)
        counts = count_by_status(session, schedule.campaign, day)
        held = held_for_morning(session, schedule.campaign, day, now())
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nobody on the list"
    click.echo(
        f"{schedule.campaign} {day}: {planned} newly planned, "
        f"{_people(handed)} handed over now, {waiting} waiting for a retry; {summary}."
    )
    if waiting:
        click.echo(
            f"{_people(waiting)} still waiting for a retry: run `advent send` again later, "
            "or leave it to the scheduler."
        )
    if held:
        start, end = schedule.quiet_hours
        click.echo(
            f"{_people(len(held))} in their night ({start:%H:%M} to {end:%H:%M} their time): "
            f"their post waits for their morning, the first at {held[0]:%Y-%m-%d %H:%M} UTC; the "
            "clock (`advent scheduler`, or `advent run`) sends it then."
        )


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


@click.command(
    "next-day",
    help="Print the next day of the campaign still to be sent (YYYY-MM-DD), "
    "from today on; `scripts/dev.py start` suggests it.",
)
@CAMPAIGN
def next_day(campaign: str | None) -> None:
    from advent.sending.progress import next_day_to_send

    rt = runtime()
    schedule = rt.schedule(campaign)
    with rt.session() as session:
        found = next_day_to_send(session, schedule, schedule.local_date(now()))
    if found is None:
        click.echo(
            f"{schedule.campaign} has no day left to send ({schedule.first_day} to "
            f"{schedule.last_day}); add a schedule for the next campaign",
            err=True,
        )
        raise click.exceptions.Exit(1)
    click.echo(found.isoformat())


@click.command(
    help="Deliveries per day and how many are in each status (queued, sent, delivered, read, failed, ...)."
)
@CAMPAIGN
@DATE
@click.option("--json", "as_json", is_flag=True, help="One JSON object per day, for scripts.")
@click.option(
    "--problems",
    "show_problems",
    is_flag=True,
    help="Instead, list each delivery that failed, needs a template or is unknown, and why.",
)
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
    show_rows(
        [p.to_json() for p in found],
        as_json=as_json,
        empty="No failed, unknown or template-less deliveries.",
        line=_problem_line,
    )


def _problem_line(p: dict) -> str:
    code = f" ({p['code']})" if p["code"] else ""
    what = " invite" if p["kind"] == "invite" else ""
    return (
        f"{p['campaign']} {p['day']}{what} {p['number']} {p['channel']}: {p['status']}{code}: {p['reason']}"
    )


COMMANDS = [send, next_day, stats]
