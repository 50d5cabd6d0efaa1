"""A day sent to more friends than fit on one page: the page shows them a page at a time, and
what it counts (friends, WhatsApp forms) still covers the whole day."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from advent.organiser.day import LINES_PER_PAGE
from advent.store.tables import Delivery, DeliveryEvent, InboundMessage, Subscriber
from tests.test_calendar import text_of
from tests.test_day_page import DEC_3, PAGE, rows

SENT_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
FRIENDS = 2 * LINES_PER_PAGE + 1  # two full pages and one friend on the third


@pytest.fixture
def many(runtime) -> None:
    """FRIENDS friends who each got day 3's post; every third on WhatsApp, as the template.
    Written in bulk: planning and sending a thousand posts one by one is another test's work."""
    people, posts, events = [], [], []
    for n in range(1, FRIENDS + 1):
        whatsapp = n % 3 == 0
        channel = "whatsapp" if whatsapp else "sms"
        phone = f"+447911{100000 + n:06d}"
        people.append(
            {
                "id": n,
                "phone": phone,
                "channel": channel,
                "campaign": "advent-2026",
                "status": "active",
                "name": f"Friend {n}",
                "created_at": SENT_AT,
                "joined_at": SENT_AT,
            }
        )
        posts.append(
            {
                "id": n,
                "subscriber_id": n,
                "campaign": "advent-2026",
                "day": DEC_3,
                "kind": "post",
                "channel": channel,
                "address": ("whatsapp:" if whatsapp else "") + phone,
                "status": "delivered",
                "attempts": 1,
                "provider_sid": f"SM{n:032x}",
                "used_template": whatsapp,
                "created_at": SENT_AT,
                "updated_at": SENT_AT,
            }
        )
        for step, status in enumerate(("queued", "sent", "delivered")):
            events.append(
                {
                    "delivery_id": n,
                    "provider_sid": f"SM{n:032x}",
                    "status": status,
                    "source": "simulator",
                    "applied": True,
                    "received_at": SENT_AT + timedelta(seconds=n % 60 + step),
                }
            )
    with runtime.session() as session:
        session.execute(insert(Subscriber), people)
        session.execute(insert(Delivery), posts)
        session.execute(insert(DeliveryEvent), events)
        session.execute(
            insert(InboundMessage),
            [
                {
                    "phone": people[-1]["phone"],
                    "channel": "sms",
                    "body": "Lovely, thank you",
                    "kind": "reply",
                    "subscriber_id": FRIENDS,
                    "campaign": "advent-2026",
                    "in_reply_to_day": DEC_3,
                    "received_at": SENT_AT + timedelta(hours=1),
                }
            ],
        )
        session.commit()


def test_a_day_of_many_friends_shows_them_a_page_at_a_time(organiser, many) -> None:
    first = organiser.get(PAGE).get_data(as_text=True)
    lines = rows(first)
    assert len(lines) == LINES_PER_PAGE
    assert "Friend 1 +44" in next(iter(lines))
    assert f"Friends 1 to {LINES_PER_PAGE} of {FRIENDS:,}" in text_of(first)
    assert f'href="{PAGE}?page=2"' in first and "page=0" not in first

    last = organiser.get(f"{PAGE}?page=3").get_data(as_text=True)
    (line,) = rows(last).values()
    # The last friend's own times and reply, though the page before holds a thousand others.
    assert (
        line == f"Friend {FRIENDS} +44•••••••{FRIENDS % 1000:03d} SMS ✓✓ delivered "
        "08:00:41 08:00:42 08:00:43 09:00:00 Lovely, thank you"
    )
    assert f"Friends {2 * LINES_PER_PAGE + 1:,} to {FRIENDS:,} of {FRIENDS:,}" in text_of(last)
    assert f'href="{PAGE}?page=2"' in last and "page=4" not in last


def test_the_counts_on_a_page_cover_the_whole_day(organiser, many) -> None:
    page = text_of(organiser.get(f"{PAGE}?page=2").get_data(as_text=True))
    on_whatsapp = FRIENDS // 3
    assert f"On WhatsApp: {on_whatsapp} got the approved template" in page
    assert re.search(rf"Friends {FRIENDS}\b", page)  # the summary counts everyone


@pytest.mark.parametrize("asked", ["0", "-1", "99", "two"])
def test_a_page_number_out_of_range_shows_the_nearest_page(organiser, many, asked: str) -> None:
    page = organiser.get(f"{PAGE}?page={asked}")
    assert page.status_code == 200
    assert len(rows(page.get_data(as_text=True))) in (1, LINES_PER_PAGE)
