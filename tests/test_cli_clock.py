"""`advent scheduler` and `advent run`: help, and refusing to run a second scheduler."""

from __future__ import annotations

from datetime import timedelta

import click
import pytest
from click.testing import CliRunner

from advent.cli.clock import COMMANDS, run, scheduler
from advent.clock.lease import acquire_lease
from advent.runtime import Runtime


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_clock_command_has_help(runner: CliRunner, command: click.Command) -> None:
    result = runner.invoke(command, ["--help"])
    assert result.exit_code == 0, result.output
    assert command.help and len(command.help) > 40
    assert "Usage:" in result.output


def test_scheduler_help_says_what_it_does(runner: CliRunner) -> None:
    output = runner.invoke(scheduler, ["--help"]).output
    assert "send each schedule's post" in output and "Only one may run" in output


def test_run_help_lists_its_options(runner: CliRunner) -> None:
    output = runner.invoke(run, ["--help"]).output
    for option in ("--host", "--port", "--reload / --no-reload", "scheduler"):
        assert option in output


def test_scheduler_refuses_to_start_while_another_holds_the_clock(
    runner: CliRunner, runtime: Runtime
) -> None:
    with runtime.session() as session:  # the runtime's clock: 09:00 on 3 December 2026
        assert acquire_lease(session, "web-1 pid 42", runtime.clock() - timedelta(seconds=10))
    result = runner.invoke(scheduler, [], obj=runtime)
    assert result.exit_code == 1
    assert "another scheduler is already running (web-1 pid 42" in result.output
    assert "Only one may send" in result.output
