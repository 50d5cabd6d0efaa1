"""`advent doctor`: check the whole loop before a friend notices something is wrong.

The database first (nothing works without it), then the provider's own set-up as the provider
sees it, then every day's post. Each check says in plain words what is wrong and how to fix it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from advent.config import Settings
from advent.content.check import check_campaign
from advent.content.posts import post_path, read_post_file
from advent.content.schedules import Schedule
from advent.organiser.whatsapp_templates import template_findings
from advent.people.phones import mask
from advent.providers.base import Finding, Provider, fail, ok, warn
from advent.store.database import make_engine
from advent.store.journal import Journal
from advent.store.migrate import current_and_head
from advent.store.tables import utcnow

__all__ = ["Finding", "database_findings", "failed", "fail", "ok", "run_doctor", "warn"]


def failed(findings: list[Finding]) -> bool:
    return any(finding.level == "FAIL" for finding in findings)


def _where(database_url: str) -> str:
    """The database named without its password, for a line the organiser may paste anywhere."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except SQLAlchemyError:  # an unreadable URL is reported by the connection attempt below
        return "the database in DATABASE_URL"


def database_findings(database_url: str) -> list[Finding]:
    """Reachable, and its schema is the one this code needs."""
    where = _where(database_url)
    try:
        engine = make_engine(database_url)
        try:
            current, head = current_and_head(engine)
        finally:
            engine.dispose()
    except (SQLAlchemyError, OSError, ValueError, ImportError) as error:
        said = str(getattr(error, "orig", None) or error).strip()
        reason = said.splitlines()[0] if said else type(error).__name__
        return [
            fail(
                f"database: cannot reach {where} ({reason}); check DATABASE_URL "
                "and that the database server is running"
            )
        ]
    if current != head:
        found = "empty" if current is None else f"at revision {current}"
        return [
            fail(
                f"database: {where} is {found}, and this code needs revision {head}; run `advent db upgrade`"
            )
        ]
    return [ok(f"database: {where} is reachable and its schema is current ({head})")]


def journal_findings(instance_dir: Path) -> list[Finding]:
    """Webhooks kept while the database was busy: waiting to be stored, or kept aside."""
    journal = Journal(instance_dir / "journal")
    waiting, aside = len(journal.waiting()), len(journal.kept_aside())
    findings = []
    if waiting:
        findings.append(
            warn(
                f"journal: {waiting} webhook(s) kept while the database was busy wait in {journal.folder}; "
                "the next web request or the clock's tick stores them (is the database reachable?)"
            )
        )
    if aside:
        findings.append(
            fail(
                f"journal: {aside} webhook(s) could not be stored and are kept aside in "
                f"{journal.aside_folder}; read them, fix the cause, and move them back to replay them"
            )
        )
    return findings


def _day_ranges(days: list[int]) -> str:
    """[1, 2, 3, 5] -> "1-3, 5": short enough to read for a whole calendar."""
    spans: list[list[int]] = []
    for day in sorted(days):
        if spans and day == spans[-1][1] + 1:
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _days_without_template(settings: Settings, schedule: Schedule, approved: set[date]) -> list[int]:
    if schedule.whatsapp_template_sid:
        return []
    missing = []
    for number, day in enumerate(schedule.days(), start=1):
        if day in approved:  # `advent templates` made one and Meta approved it
            continue
        post = read_post_file(post_path(settings.messages_dir, schedule, number), schedule.campaign)
        if post.post is not None and not post.post.template_sid:
            missing.append(number)
    return missing


def content_findings(
    settings: Settings, schedule: Schedule, *, needs_template: bool, approved: set[date] | None = None
) -> list[Finding]:
    reports = check_campaign(settings.messages_dir, schedule)
    broken = [r for r in reports if r.errors and r.day]
    findings = [fail(f"content: {schedule.campaign} day {r.day:02d}: {'; '.join(r.errors)}") for r in broken]
    if not broken:
        findings.append(
            ok(f"content: every day of {schedule.campaign} has a post ({schedule.number_of_days} days)")
        )
    if "whatsapp" not in schedule.channels:
        return findings
    missing = _days_without_template(settings, schedule, approved or set())
    if not missing:
        findings.append(ok(f"WhatsApp templates: every day of {schedule.campaign} has one"))
        return findings
    text = (
        f"WhatsApp template: {schedule.campaign} day(s) {_day_ranges(missing)} have no "
        "approved template, so friends who have not written in the last 24 hours will not "
        f"get them; run `advent templates create --campaign {schedule.campaign}` and then "
        "`advent templates submit`, or add template_sid to those posts or whatsapp_template_sid to "
        f"{settings.schedules_dir / (schedule.name + '.toml')}"
    )
    findings.append(fail(text) if needs_template else warn(text))
    return findings


def _template_findings(
    settings: Settings, schedule: Schedule, provider: Provider, now: datetime
) -> tuple[list[Finding], set[date]]:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return template_findings(session, provider, schedule, now)
    finally:
        engine.dispose()


def organiser_phone_findings(settings: Settings, provider: Provider | None) -> list[Finding]:
    """Whether what needs the organiser now (a reply that may signal distress, a failed or
    missed day) can reach their own phone, or only waits on the dashboard."""
    if not settings.organiser_phone:
        return [
            warn(
                "organiser's phone: not set, so alerts wait on the dashboard until you look; set "
                "ADVENT_ORGANISER_PHONE (your own number, in full) to be texted what needs you now"
            )
        ]
    shown = mask(settings.organiser_phone)
    if (
        settings.organiser_channel == "whatsapp"
        and provider is not None
        and provider.enforces_whatsapp_window
    ):
        return [
            warn(
                f"organiser's phone: {shown} on WhatsApp, where a text reaches you only within 24 "
                "hours of your last message to the service's number; set ADVENT_ORGANISER_CHANNEL=sms "
                "to be reached whenever it matters"
            )
        ]
    return [ok(f"organiser's phone: {shown} by {settings.organiser_channel}; urgent alerts are texted there")]


def run_doctor(
    settings: Settings,
    schedules: list[Schedule] | None,
    provider: Provider | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """Every check, in the order a person would fix them; schedules None: could not be read.

    Without a provider (it could not be built from the settings), its checks are skipped."""
    findings = database_findings(settings.database_url)
    database_ok = not failed(findings)
    findings += journal_findings(settings.instance_dir)
    if provider is not None:
        findings += provider.setup_findings(settings)
    findings += organiser_phone_findings(settings, provider)
    if schedules is None:
        return findings
    if not schedules:
        findings.append(
            fail(f"schedules: none found in {settings.schedules_dir}; add one TOML file per campaign")
        )
    needs_template = provider is not None and provider.enforces_whatsapp_window
    for schedule in schedules:
        approved: set[date] = set()
        if database_ok and provider is not None and "whatsapp" in schedule.channels:
            listed, approved = _template_findings(settings, schedule, provider, now or utcnow())
            findings += listed
        findings += content_findings(settings, schedule, needs_template=needs_template, approved=approved)
    return findings
