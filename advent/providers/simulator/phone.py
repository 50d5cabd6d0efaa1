"""The simulated phones: a friend texting the service, and reading what came back.

`advent phone` plays one and so does the dashboard's phone page: the text is recorded on the
simulated network as Twilio would record it, the service answers it like any inbound text, and
the answer lands on the phone beside the posts and invites it received.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime

from advent.providers.base import Inbound, PhoneMessage

SERVICE_NUMBER = "+15005550006"  # the simulated network's number for the service


class SimulatedPhone:
    def __init__(self, connect: Callable[[], sqlite3.Connection], clock: Callable[[], datetime]) -> None:
        self._connect = connect
        self._clock = clock

    def text_service(self, number: str, body: str, *, whatsapp: bool = False) -> Inbound:
        prefix = "whatsapp:" if whatsapp else ""
        # A network id, as a real network gives one: a repeated webhook is then answered once.
        return Inbound(
            sender=prefix + number,
            body=body,
            to=prefix + SERVICE_NUMBER,
            message_sid="SMphone" + uuid.uuid4().hex,
        )

    def receive_reply(self, inbound: Inbound, text: str) -> None:
        number = inbound.sender.removeprefix("whatsapp:")
        with closing(self._connect()) as db:
            db.execute(
                "INSERT INTO sent (sid, to_number, channel, kind, body, sent_at)"
                " VALUES (?, ?, ?, 'reply', ?, ?)",
                (
                    "SM" + uuid.uuid4().hex,
                    number,
                    inbound.channel,
                    text,
                    self._clock().astimezone(UTC).isoformat(),
                ),
            )

    def messages_to(self, number: str) -> list[PhoneMessage]:
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT kind, channel, body, media_url, sent_at, reference, quick_reply FROM sent"
                " WHERE to_number = ? ORDER BY sent_at, rowid",
                (number,),
            ).fetchall()
        return [
            PhoneMessage(
                kind=r["kind"],
                channel=r["channel"],
                body=r["body"],
                media_url=r["media_url"],
                sent_at=datetime.fromisoformat(r["sent_at"]),
                reference=r["reference"],
                quick_reply=r["quick_reply"],
            )
            for r in rows
        ]
