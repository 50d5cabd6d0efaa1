"""`advent hold` and `advent release`: stop a day's post before it goes out, and let it go."""

from __future__ import annotations

from datetime import date

import click

from advent.cli.common import CAMPAIGN, DATE, day_option, now, runtime


def _act(campaign: str | None, day: date | None, release: bool) -> None:
    from advent.sending.holds import HoldRefused, hold_day, release_day

    rt = runtime()
    schedule = rt.schedule(campaign)
    chosen = day_option(schedule, day)
    act = release_day if release else hold_day
    with rt.session() as session:
        try:
            said = act(session, schedule, chosen, now(), "advent release" if release else "advent hold")
        except HoldRefused as refused:
            raise click.ClickException(str(refused)) from None
    click.echo(said)


@click.command(
    help="Hold a day's post (today by default; --date for another): nothing of it goes out until "
    "`advent release`. A held day is recorded as held, and the organiser is told when it comes."
)
@CAMPAIGN
@DATE
def hold(campaign: str | None, day: date | None) -> None:
    _act(campaign, day, release=False)


@click.command(help="Let a held day's post go out again (today by default; --date for another).")
@CAMPAIGN
@DATE
def release(campaign: str | None, day: date | None) -> None:
    _act(campaign, day, release=True)
