"""`advent alerts`: what the organiser must see (posts not delivered, missed days, a full list)."""

from __future__ import annotations

import click

from advent.cli.common import now, runtime, show_rows
from advent.organiser.alerts import read_alerts
from advent.organiser.watch import watch
from advent.organiser.watchdog import Limits
from advent.receipts import collect_receipts


@click.command(
    help="Show what needs the organiser's attention: posts not delivered or never "
    "handed over, receipts that never came, missed or failed days, a full list, "
    "numbers that cannot receive, set-up problems. Each alert is shown once; it "
    "stays open until its cause clears, and is then resolved."
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Every alert, also those shown before and those resolved, marked as such.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON, for scripts.")
def alerts(show_all: bool, as_json: bool) -> None:
    rt = runtime()
    moment = now()
    with rt.session() as session:
        # Receipts and the watch here too, so the list is current when the clock is not running.
        collect_receipts(session, rt.provider, moment)
        watch(session, rt.schedules, moment, Limits.of(rt.settings))
        rows, left_out = read_alerts(session, moment, everything=show_all)
        session.commit()
    show_rows(rows, as_json=as_json, empty="Nothing needs your attention.", line=_line)
    if left_out and not as_json:
        click.echo(
            f"Still open, shown before: {left_out} alert{'s' if left_out != 1 else ''} "
            "(`advent alerts --all` lists every alert)."
        )


def _line(row: dict) -> str:
    mark = {"new": "", "seen": " (seen)", "resolved": f" (resolved {row['resolved_at']})"}[row["state"]]
    return f"{row['at']}  {row['kind']}{mark}: {row['message']}"


COMMANDS = [alerts]
