"""`advent purge`: a finished campaign's numbers and texts go after a set number of days;
the counts stay."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from sqlmodel import func, select

from advent.cli.purge import purge_command
from advent.runtime import Runtime
from advent.store.tables import InboundMessage, Subscriber
from tests.webhook_helpers import text_from

FRIENDS = ["+447911123456", "+447911123457", "+447911123458"]


def _join_and_write(client) -> None:  # noqa: ANN001
    for phone in FRIENDS:
        text_from(client, phone, "HAPPY")
    text_from(client, FRIENDS[0], "Thank you, that made my morning")


def _rows(runtime: Runtime) -> tuple[int, list[str], list[str]]:
    with runtime.session() as session:
        people = session.exec(select(func.count()).select_from(Subscriber)).one()
        phones = sorted(session.exec(select(Subscriber.phone)).all())
        bodies = sorted(session.exec(select(InboundMessage.body)).all())
    return people, phones, bodies


def test_purge_waits_until_the_days_after_the_campaign_have_passed(client, runtime: Runtime) -> None:
    _join_and_write(client)
    before = _rows(runtime)
    result = CliRunner().invoke(purge_command, [], obj=runtime)  # 3 December: the campaign runs
    assert result.exit_code == 1
    assert "Not yet" in result.output and "from 2027-01-23" in result.output
    assert _rows(runtime) == before


def test_a_dry_run_says_what_would_go_and_changes_nothing(client, runtime: Runtime, clock) -> None:  # noqa: ANN001
    _join_and_write(client)
    before = _rows(runtime)
    clock.now = datetime(2027, 1, 23, 9, 0, tzinfo=UTC)  # 30 days after 24 December
    result = CliRunner().invoke(purge_command, ["--dry-run"], obj=runtime)
    assert result.exit_code == 0, result.output
    assert "Would erase 3 numbers and 4 texts of advent-2026" in result.output
    assert _rows(runtime) == before


def test_purge_erases_numbers_and_texts_and_keeps_the_counts(client, runtime: Runtime, clock) -> None:  # noqa: ANN001
    _join_and_write(client)
    clock.now = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    result = CliRunner().invoke(purge_command, ["--days", "7"], obj=runtime)
    assert result.exit_code == 0, result.output
    assert "Erased 3 numbers and 4 texts" in result.output
    people, phones, bodies = _rows(runtime)
    assert people == 3 and all(phone.startswith("erased-") for phone in phones)
    assert bodies == ["", "", "", ""]  # every text kept as a count, none of its words
