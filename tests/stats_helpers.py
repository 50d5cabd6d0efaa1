"""A campaign as the Stats page and /api/stats meet it: five friends (three on SMS, two on
WhatsApp), 1 December sent, one friend says STOP, 2 December sent, two replies, receipts in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from click.testing import CliRunner

from advent.cli import main
from advent.receipts import collect_receipts
from advent.runtime import Runtime
from tests.helpers import add_people, approved_whatsapp_template

JOINED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SMS = ["+447911100000", "+447911100001", "+447911100002"]
WHATSAPP = ["+447911200000", "+447911200001"]
# A reply a spreadsheet would run as a formula if it were written as it came.
FORMULA = '=HYPERLINK("http://evil.example","click me")'


def advent(runtime: Runtime, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), obj=runtime, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def two_days_sent(runtime: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    approved_whatsapp_template(runtime, clock)  # the WhatsApp friends joined days ago
    schedule = runtime.schedule()
    add_people(runtime.session(), schedule, 3, JOINED, channel="sms", start=100000)
    add_people(runtime.session(), schedule, 2, JOINED, channel="whatsapp", start=200000)
    advent(runtime, "send", "--date", "2026-12-01")
    advent(runtime, "phone", SMS[2], "STOP")
    advent(runtime, "send", "--date", "2026-12-02")
    advent(runtime, "phone", SMS[0], FORMULA)
    advent(runtime, "phone", "--whatsapp", WHATSAPP[0], "Thank you, lovely")
    clock.advance(60)  # the simulator's receipts are due 2, 4 and 6 seconds after each send
    with runtime.session() as session:
        collect_receipts(session, runtime.provider, clock())
        session.commit()


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The body rows of one table, as the cells' text."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table, f"no table {table_id}"
    body = table.group(1).split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]
