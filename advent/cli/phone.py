"""`advent phone`: be a friend's phone on the simulated network."""

from __future__ import annotations

import click

from advent.cli.common import runtime, sender_for
from advent.people.phones import InvalidNumber, normalise_number
from advent.people.rehearsal import text_as_friend


@click.command(
    help="Play a text arriving from NUMBER and print the service's reply, as the "
    "phone would show it (on the built-in simulator only). "
    "Example: advent phone +447911123456 HAPPY"
)
@click.argument("number")
@click.argument("text", nargs=-1, required=True)
@click.option("--whatsapp", is_flag=True, help="Send it as a WhatsApp message instead of an SMS.")
def phone(number: str, text: tuple[str, ...], whatsapp: bool) -> None:
    rt = runtime()
    handset = rt.provider.phone
    if handset is None:
        raise click.ClickException(
            f"`advent phone` plays a friend's phone on the built-in simulator, and this service "
            f"sends through {rt.provider.name}: text the service from a real phone instead, or "
            "set ADVENT_PROVIDER=simulator to rehearse."
        )
    try:
        e164 = normalise_number(number, rt.settings.default_region, allow_drama_numbers=rt.provider.rehearsal)
    except InvalidNumber as error:
        raise click.BadParameter(str(error), param_hint="NUMBER") from None
    sender = sender_for(rt)
    with sender.session:
        texted = text_as_friend(
            sender,
            handset,
            e164,
            " ".join(text),
            whatsapp=whatsapp,
            schedules=rt.schedules,
            settings=rt.settings,
        )
    answer = texted.answer
    if answer.text:
        click.echo(f"reply: {answer.text}")
    else:
        click.echo(f"(no reply: {answer.why_silent or 'the service chose not to answer'})")
    for line in texted.sent_now:
        click.echo(f"sent now ({line})")


COMMANDS = [phone]
