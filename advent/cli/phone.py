"""`advent phone`: be a friend's phone on the simulated network."""

from __future__ import annotations

import click

from advent.cli.common import now, runtime, sender_for
from advent.people.conversations import Inbound, handle_inbound
from advent.people.phones import InvalidNumber, normalise_number
from advent.sending.days import sweep


@click.command(help="Play a text arriving from NUMBER and print the service's reply, as the "
                    "phone would show it. Example: advent phone +447911123456 HAPPY")
@click.argument("number")
@click.argument("text", nargs=-1, required=True)
@click.option("--whatsapp", is_flag=True, help="Send it as a WhatsApp message instead of an SMS.")
def phone(number: str, text: tuple[str, ...], whatsapp: bool) -> None:
    rt = runtime()
    try:
        e164 = normalise_number(number, rt.settings.default_region, allow_drama_numbers=rt.provider.rehearsal)
    except InvalidNumber as error:
        raise click.BadParameter(str(error), param_hint="NUMBER") from None
    sender = f"whatsapp:{e164}" if whatsapp else e164
    body = " ".join(text)
    with rt.session() as session:
        reply = handle_inbound(session, rt, Inbound(sender=sender, body=body), now())
    if reply:
        click.echo(f"reply: {reply}")
        record = getattr(rt.provider, "record_reply", None)
        if record:
            record(e164, "whatsapp" if whatsapp else "sms", reply)
    else:
        click.echo("(no reply from the service: Twilio answers this one itself)")
    if rt.provider.name != "simulator":
        return  # on a real network, the scheduler's sweep sends what is due, under its lease
    # On the simulator, a late joiner's post for today goes out now, as the sweep would do.
    sent = sweep(sender_for(rt), rt.schedules, rt.settings.messages_dir)
    for number_sent in sent:
        click.echo(f"today's post sent ({number_sent})")


COMMANDS = [phone]
