"""The doctor's lines about the WhatsApp templates `advent templates` made: each one's approval,
asked afresh from the provider, and which days an approved one covers."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from advent.content.schedules import Schedule
from advent.providers.base import Finding, Provider, fail, ok, warn
from advent.sending.templates import DAILY, describe, refresh_templates
from advent.store.tables import WhatsAppTemplate

WAITING = {"not_submitted", "received", "pending"}


def _current(checks: list[tuple[WhatsAppTemplate, str | None]]) -> list[tuple[WhatsAppTemplate, str | None]]:
    """The newest template for each purpose and day: a replaced one is history, not a problem."""
    newest: dict[tuple[str, date | None], tuple[WhatsAppTemplate, str | None]] = {}
    for row, error in checks:
        newest[(row.purpose, row.day)] = (row, error)
    return list(newest.values())


def _finding(row: WhatsAppTemplate, error: str | None, provider: str, strict: bool) -> Finding:
    what = "every post" if row.purpose == DAILY else f"the post of {row.day}"
    name = f"WhatsApp template {row.friendly_name} ({row.campaign}, {what})"
    if error:
        return warn(f"{name}: could not ask {provider}: {error}; last known: {row.approval}")
    if row.approval == "approved":
        return ok(f"{name}: approved")
    if row.approval in WAITING:
        return warn(f"{name}: {describe(row)}")
    return (fail if strict else warn)(f"{name}: {describe(row)}")


def template_findings(
    session: Session, provider: Provider, schedule: Schedule, now: datetime
) -> tuple[list[Finding], set[date]]:
    """A line per template of the campaign, and the days an approved one covers."""
    checks = refresh_templates(session, provider, schedule.campaign, now)
    current = _current([(c.template, c.error) for c in checks])
    strict = provider.enforces_whatsapp_window
    findings = [_finding(row, error, provider.name, strict) for row, error in current]
    covered: set[date] = set()
    for row, _ in current:
        if row.approval != "approved":
            continue
        covered |= set(schedule.days()) if row.purpose == DAILY else {row.day} if row.day else set()
    return findings, covered
