"""Stats: the day-by-day funnel, joins and stops, replies; CSV exports and the JSON API.

Charts are pygal's SVG, drawn here and inlined in the page (no JavaScript, nothing fetched):
its backgrounds are transparent and its colours are CSS variables from static/stats.css, so
one chart reads in the light and the dark scheme alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date

import pygal
from flask import Blueprint, Response, abort, render_template, request
from markupsafe import Markup
from pygal.style import Style
from sqlmodel import Session

from advent.organiser import exports
from advent.organiser.report import report
from advent.web import db_session, runtime
from advent.web.headers import allow_inline_styles

blueprint = Blueprint("stats", __name__)

# currentColor: axis text and lines take the page's text colour, whichever scheme it is in.
CHART_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="currentColor",
    foreground_strong="currentColor",
    foreground_subtle="currentColor",
    font_family="inherit",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=15,
    opacity=".9",
    opacity_hover="1",
    colors=tuple(f"var(--chart-{n})" for n in range(1, 5)),
)
PYGAL_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
EXPORTS: dict[str, Callable[[Session], str]] = {
    "deliveries": exports.deliveries_csv,
    "people": exports.people_csv,
    "replies": exports.replies_csv,
}


def _campaign() -> str | None:
    """?campaign=NAME narrows everything to one campaign; a name we do not know is a 404."""
    name = request.args.get("campaign") or None
    if name is not None and name not in {s.campaign for s in runtime().schedules}:
        abort(404, description=f"There is no campaign called {name!r}.")
    return name


def _label(day: date, campaign: str | None, several: bool) -> str:
    text = f"{day.day} {day:%b}"
    return f"{campaign} {text}" if several and campaign else text


def bar_chart(title: str, labels: Sequence[str], series: dict[str, list[int]]) -> Markup:
    """One inline SVG bar chart; the page names it and gives its numbers as a table."""
    chart = pygal.Bar(
        style=CHART_STYLE,
        js=[],  # pygal's tooltips come from a CDN: none here
        width=800,
        height=360,
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        x_label_rotation=-45 if len(labels) > 8 else 0,
        show_minor_x_labels=len(labels) <= 16,
        x_labels_major_every=max(1, len(labels) // 8),
        truncate_label=-1,
        min_scale=1,
        show_y_guides=True,
        print_values=False,
        title=None,
        disable_xml_declaration=True,
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, values)
    # pygal always writes an inline <script> with its config for its tooltip JS, which is not
    # loaded here: dropped, so the page runs no script (and a strict CSP needs no exception).
    svg = PYGAL_SCRIPT.sub("", chart.render(is_unicode=True))
    # The figure around it is named for screen readers; the numbers follow as a table.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(title)}" ', 1)
    return Markup(svg)  # noqa: S704 - pygal's own SVG, with every label escaped by its XML writer


@blueprint.get("/stats")
def index():  # type: ignore[no-untyped-def]
    campaign = _campaign()
    found = report(db_session(), campaign)
    allow_inline_styles()  # pygal's charts style themselves inline (see advent/web/headers.py)
    several = len({f.campaign for f in found.funnel}) > 1
    charts = {}
    if found.funnel:
        charts["funnel"] = bar_chart(
            "Each day's post: planned, sent, delivered and read",
            [_label(f.day, f.campaign, several) for f in found.funnel],
            {
                "planned": [f.planned for f in found.funnel],
                "sent": [f.sent for f in found.funnel],
                "delivered": [f.delivered for f in found.funnel],
                "read": [f.read for f in found.funnel],
            },
        )
    if found.people:
        charts["people"] = bar_chart(
            "Joins and stops by date",
            [_label(p.day, None, False) for p in found.people],
            {"joined": [p.joins for p in found.people], "stopped": [p.stops for p in found.people]},
        )
    if found.replies:
        charts["replies"] = bar_chart(
            "Replies by date",
            [_label(r.day, None, False) for r in found.replies],
            {"replies": [r.replies for r in found.replies]},
        )
    campaigns = sorted(s.campaign for s in runtime().schedules)
    return render_template(
        "dashboard/stats.html",
        report=found,
        charts=charts,
        campaigns=campaigns,
        campaign=campaign,
        several=several,
    )


@blueprint.get("/stats/<what>.csv")
def export(what: str):  # type: ignore[no-untyped-def]
    make = EXPORTS.get(what)
    if make is None:
        abort(404, description="The exports are deliveries.csv, people.csv and replies.csv.")
    stamp = runtime().clock().date().isoformat()
    return Response(
        make(db_session()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="advent-{what}-{stamp}.csv"',
            # Friends' numbers and texts: not for a shared cache.
            "Cache-Control": "no-store",
        },
    )


@blueprint.get("/api/stats")
def api():  # type: ignore[no-untyped-def]
    """The page's numbers for scripts: signed in, or with ADVENT_API_TOKEN (see signin.py)."""
    campaign = request.args.get("campaign") or None
    if campaign is not None and campaign not in {s.campaign for s in runtime().schedules}:
        return {"error": f"there is no campaign called {campaign!r}"}, 404
    body = report(db_session(), campaign).to_json()
    body["at"] = runtime().clock().isoformat(timespec="seconds")
    return body, 200, {"Cache-Control": "no-store"}
