"""`advent admin`: organiser accounts for the dashboard."""

from __future__ import annotations

import sys

import click

from advent.cli.common import now, runtime
from advent.organiser import accounts


def _password(ask: bool) -> tuple[str, bool]:
    """The password to set, and whether it was made here (and so must be printed once)."""
    if ask:
        if not sys.stdin.isatty():
            typed = sys.stdin.readline().rstrip("\n")
        else:
            typed = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        return typed, False
    return accounts.new_password(), True


def _done(name: str, password: str, made: bool, what: str) -> None:
    click.echo(f"{what} {name!r}.")
    if made:
        click.echo(f"One-time password (shown only now, write it down): {password}")
        click.echo(f"Change it whenever you like: advent admin set-password {name} --ask")


@click.group(help="Organiser accounts for the dashboard (sign in at /login).")
def admin() -> None:
    pass


@admin.command(
    help="Make an organiser account NAME. Prints a one-time password, or with --ask "
    "reads one (typed twice in a terminal, or one line on standard input)."
)
@click.argument("name")
@click.option("--ask", is_flag=True, help="Read the password instead of making one.")
@click.option("--if-none", is_flag=True, help="Do nothing if any account exists (for first start).")
def create(name: str, ask: bool, if_none: bool) -> None:
    rt = runtime()
    with rt.session() as session:
        if if_none and accounts.count(session):
            click.echo("An organiser account exists already; sign in with it.")
            return
        password, made = _password(ask)
        try:
            accounts.create(session, name, password, now())
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    _done(name, password, made, "Made the organiser account")


@admin.command("set-password", help="Give account NAME a new password (printed once, or --ask).")
@click.argument("name")
@click.option("--ask", is_flag=True, help="Read the password instead of making one.")
def set_password(name: str, ask: bool) -> None:
    rt = runtime()
    with rt.session() as session:
        password, made = _password(ask)
        try:
            accounts.set_password(session, name, password, now())
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    _done(name, password, made, "New password for")


COMMANDS = [admin]
