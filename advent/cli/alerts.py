"""`advent alerts`: what the organiser must see (missed days, a full list, blocked regions)."""

from __future__ import annotations

import click
from sqlmodel import select

from advent.cli.common import now, runtime, show_rows
from advent.store.tables import OrganiserAlert


@click.command(help="Show what needs the organiser's attention: missed or failed days, a full "
                    "list, numbers that cannot receive, set-up problems. Shown alerts are marked "
                    "seen.")
@click.option("--all", "show_all", is_flag=True, help="Include alerts already seen.")
@click.option("--json", "as_json", is_flag=True, help="JSON, for scripts.")
def alerts(show_all: bool, as_json: bool) -> None:
    rt = runtime()
    with rt.session() as session:
        query = select(OrganiserAlert).order_by(OrganiserAlert.id)
        if not show_all:
            query = query.where(OrganiserAlert.seen_at == None)  # noqa: E711
        found = session.exec(query).all()
        moment = now()
        for alert in found:
            alert.seen_at = alert.seen_at or moment
            session.add(alert)
        rows = [{"at": a.created_at.isoformat(timespec="seconds"), "campaign": a.campaign,
                 "kind": a.kind, "message": a.message} for a in found]
        session.commit()
    show_rows(rows, as_json=as_json, empty="Nothing needs your attention.",
              line=lambda row: f"{row['at']}  {row['kind']}: {row['message']}")


COMMANDS = [alerts]
