"""`advent reconcile` and `advent doctor`: keep the loop through the provider honest."""

from __future__ import annotations

import sys

import click

from advent.cli.common import CAMPAIGN, runtime, sender_for
from advent.config import ConfigError, Settings, load_settings
from advent.content.schedules import Schedule, ScheduleError, load_schedules
from advent.organiser.doctor import Finding, fail, failed, run_doctor
from advent.providers import make_provider
from advent.providers.base import Provider
from advent.runtime import Runtime
from advent.sending.reconcile import reconcile_deliveries


@click.command(
    help="Settle deliveries left without a final status: ask the provider for the "
    "status of ones stuck in queued/sent for ADVENT_STUCK_AFTER_MINUTES, and "
    "resolve sends a crash interrupted by asking what it really sent. "
    "Never sends anything twice."
)
@CAMPAIGN
def reconcile(campaign: str | None) -> None:
    rt = runtime()
    schedules = [rt.schedule(campaign)] if campaign else rt.schedules
    sender = sender_for(rt)
    summary = reconcile_deliveries(
        sender, schedules, rt.settings.messages_dir, campaign=schedules[0].campaign if campaign else None
    )
    for line in summary.lines(rt.provider.name):
        click.echo(line)


def _setup() -> tuple[Settings | None, list[Schedule] | None, Provider | None, list[Finding]]:
    """Settings, schedules and the provider, or FAIL lines saying why they could not be had.

    Built here rather than through the runtime: the runtime refuses a database that is behind,
    and saying so (with the rest) is the doctor's job."""
    root = click.get_current_context().find_root()
    if isinstance(root.obj, Runtime):
        return root.obj.settings, root.obj.schedules, root.obj.provider, []
    try:
        settings = load_settings()
    except ConfigError as error:
        lines = str(error).splitlines()[1:]
        return None, None, None, [fail(f"settings: {line.strip()}") for line in lines]
    provider = make_provider(settings)
    try:
        return settings, load_schedules(settings.schedules_dir), provider, []
    except ScheduleError as error:
        return (
            settings,
            None,
            provider,
            [fail(f"schedules: {line.strip()}") for line in str(error).splitlines() if line.strip()],
        )


@click.command(
    help="Check the whole loop and say in plain words what is wrong and how to fix "
    "it: settings, the database (reachable, schema current), the provider's "
    "set-up (for Twilio: credentials, the sender number, its inbound webhook, "
    "PUBLIC_BASE_URL), and every day's post and WhatsApp template. "
    'Says "All good" only when every check passed. Exit status 1 if any check fails.'
)
def doctor() -> None:
    settings, schedules, provider, findings = _setup()
    if settings is not None:
        findings += run_doctor(settings, schedules, provider)
    for finding in findings:
        click.echo(finding.line())
    if failed(findings):
        sys.exit(1)
    click.echo("All good.")


COMMANDS = [reconcile, doctor]
