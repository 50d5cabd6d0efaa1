"""`advent purge`: erase a finished campaign's numbers and texts, keeping the counts."""

from __future__ import annotations

import click

from advent.cli.common import CAMPAIGN, now, runtime
from advent.organiser.purge import DEFAULT_PURGE_DAYS, purge, purge_plan


@click.command(
    "purge",
    help="Some days after a campaign's last day, erase its people's numbers and texts the way "
    "the People page's Erase does, keeping anonymous counts (every day's stats stay). A "
    "number still on another campaign is kept. --dry-run says what would go.",
)
@CAMPAIGN
@click.option(
    "--days",
    default=DEFAULT_PURGE_DAYS,
    show_default=True,
    type=click.IntRange(min=0),
    help="Days after the campaign's last day before its data may go.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be erased; change nothing.")
def purge_command(campaign: str | None, days: int, dry_run: bool) -> None:
    rt = runtime()
    schedule = rt.schedule(campaign)
    moment = now()
    with rt.session() as session:
        plan = purge_plan(session, schedule, days, moment)
        what = f"{len(plan.people)} numbers and {plan.texts} texts of {plan.campaign}"
        kept = (
            f"; {plan.kept_for_other_campaigns} kept, as their numbers are on another campaign too"
            if plan.kept_for_other_campaigns
            else ""
        )
        if not plan.due:
            click.echo(
                f"Not yet: {plan.campaign}'s data may go from {plan.purge_from} "
                f"({days} days after its last day); {what} would go then{kept}."
            )
            raise click.exceptions.Exit(1)
        if dry_run:
            click.echo(f"Would erase {what}{kept}. Counts and statuses stay. Nothing changed (dry run).")
            return
        erased = purge(session, plan, moment)
    click.echo(
        f"Erased {erased} numbers and {plan.texts} texts of {plan.campaign}{kept}. Counts and statuses stay."
    )


COMMANDS = [purge_command]
