"""`advent replies`: what friends wrote back, as the Replies page shows it."""

from __future__ import annotations

from datetime import date

import click

from advent.cli.common import CAMPAIGN, now, parse_date, runtime, show_rows
from advent.organiser.replies import ReplyFilter, list_replies, mark_read, unread_count


@click.command(
    help="List what friends wrote back (every text that was not JOIN, STOP or HELP), newest "
    "first, with the day each answers and who sent it (numbers masked)."
)
@CAMPAIGN
@click.option(
    "--day",
    default=None,
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Only replies to the post of this date.",
)
@click.option("--unread", is_flag=True, help="Only replies not marked read yet.")
@click.option("--json", "as_json", is_flag=True, help="JSON, for scripts.")
@click.option(
    "--mark-read",
    "mark_read_",
    is_flag=True,
    help="Mark the replies listed as read (as the page's button does).",
)
def replies(campaign: str | None, day: date | None, unread: bool, as_json: bool, mark_read_: bool) -> None:
    rt = runtime()
    wanted = ReplyFilter(
        campaign=rt.schedule(campaign).campaign if campaign else None, day=day, unread=unread
    )
    with rt.session() as session:
        found = list_replies(session, rt.schedules, wanted)
        marked = mark_read(session, [r.id for r in found if r.unread], now()) if mark_read_ else 0
        left = unread_count(session, wanted.campaign)
    show_rows(
        [r.to_json() for r in found],
        as_json=as_json,
        empty="No replies match." if (day or unread) else "No replies yet.",
        line=_line,
    )
    if not as_json:
        if marked:
            click.echo(f"Marked {marked} as read.")
        click.echo(f"{left} unread.")


def _line(row: dict) -> str:
    who = f"{row['from']} {row['number']}" if row["from"] else row["number"]
    day = f"day of {row['day']}" if row["day"] else "before the first post"
    mark = "" if row["read"] else "  (unread)"
    if row["needs_care"]:
        mark += "  (needs care: mark it handled on the Replies page)"
    return f"{row['received_at']}  {who}  [{day}]{mark}\n    {row['text']}"


COMMANDS = [replies]
