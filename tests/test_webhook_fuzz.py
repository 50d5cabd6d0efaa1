"""Whatever a webhook is sent, it answers 200, keeps the text or receipt, and never moves a
status backwards: NUL bytes, huge values and odd numbers are cleaned, not refused.

Property-based (hypothesis), on the simulator, whose webhooks take unsigned posts from this
machine; the fields are the ones Twilio posts. Runs on both databases (see tests/postgres_mode.py).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from advent.content.posts import load_post
from advent.sending.days import send_day
from advent.states.deliveries import FAILURES, RANK
from advent.store.tables import Delivery, DeliveryEvent, InboundMessage
from tests.helpers import add_people

DAY = date(2026, 12, 3)
# 150 examples each on every run (on SQLite and on PostgreSQL in CI); FUZZ_EXAMPLES=3000 for a
# long run, as docs/reliability.md reports.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any character a form can carry (lone surrogates cannot be UTF-8 encoded to post at all),
# NUL bytes made likely.
CHARACTERS = st.characters(blacklist_categories=("Cs",)) | st.just("\x00")
odd_text = st.one_of(
    st.text(CHARACTERS, max_size=80),
    st.builds(lambda piece, n: piece * n, st.text(CHARACTERS, min_size=1, max_size=3), st.integers(1, 6000)),
)
odd_number = st.one_of(
    st.integers(-(2**70), 2**70).map(str), st.sampled_from(["", "-0", "1e9", "١٢", "0x10", " 7 "]), odd_text
)
TWILIO_STATUSES = [
    "queued", "sending", "sent", "failed", "delivered", "undelivered", "receiving", "received",
    "accepted", "scheduled", "read", "partially_delivered", "canceled",
]  # fmt: skip


def _count(runtime, model) -> int:  # type: ignore[no-untyped-def]
    with runtime.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _clean(value: str) -> str:
    return value.replace("\x00", "")


@pytest.fixture
def posted() -> set[str]:
    """The MessageSids posted so far (hypothesis runs every example against one database)."""
    return set()


@FUZZ
@given(
    sender=st.one_of(st.sampled_from(["+447911123456", "whatsapp:+447911123457"]), odd_text),
    body=odd_text,
    button=st.none() | odd_text,
    sid=st.none() | odd_text,
    extra=st.fixed_dictionaries(
        {},
        optional={
            "To": odd_text,
            "NumMedia": odd_number,
            "ProfileName": odd_text,
            "OptOutType": st.sampled_from(["STOP", "START", "HELP", "stop", "\x00"]) | odd_text,
        },
    ),
)
def test_an_inbound_text_is_always_answered_and_kept(
    client, runtime, posted, sender, body, button, sid, extra
):
    form = {"From": sender, "Body": body, **extra}
    if button is not None:
        form["ButtonText"] = button
    if sid is not None:
        form["MessageSid"] = sid
    before = _count(runtime, InboundMessage)

    response = client.post("/twilio/inbound", data=form)

    assert response.status_code == 200
    added = _count(runtime, InboundMessage) - before
    key = _clean(sid or "").strip()
    if key in posted:
        assert added == 0  # the same MessageSid again: a retry, answered and not stored twice
        return
    if key:
        posted.add(key)
    assert added == 1
    with runtime.session() as session:
        newest = session.exec(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert newest is not None
    assert newest.body == _clean(body or button or "")[:4000]


@pytest.fixture
def sent(sender, schedule, runtime):  # type: ignore[no-untyped-def]
    add_people(sender.session, schedule, 1, datetime(2026, 11, 30, tzinfo=UTC))
    send_day(sender, schedule, DAY, load_post(runtime.settings.messages_dir, schedule, DAY))
    delivery = sender.session.exec(select(Delivery)).one()
    sender.session.commit()  # release the database for the webhook
    return delivery


@FUZZ
@given(
    which=st.sampled_from(["ours", "ours", "odd"]),
    odd_sid=odd_text,
    status=st.sampled_from(TWILIO_STATUSES) | odd_text,
    error_code=st.none() | odd_number,
    reference=st.none() | odd_number | st.just("ours"),
    # A header value: no line breaks, and HTTP carries it as Latin-1.
    token=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=300),
)
def test_a_receipt_is_always_answered_kept_and_never_moves_a_status_back(
    client, runtime, sent, which, odd_sid, status, error_code, reference, token
):
    sid = sent.provider_sid if which == "ours" else odd_sid
    form = {"MessageSid": sid, "MessageStatus": status}
    if error_code is not None:
        form["ErrorCode"] = error_code
    query = {} if reference is None else {"delivery": str(sent.id) if reference == "ours" else reference}
    headers = {"I-Twilio-Idempotency-Token": token} if token is not None else {}
    with runtime.session() as session:
        was = session.get_one(Delivery, sent.id).status
        seen = {(e.provider_sid, e.status) for e in session.exec(select(DeliveryEvent)).all()}
    before = _count(runtime, DeliveryEvent)

    response = client.post("/twilio/status", query_string=query, data=form, headers=headers)

    assert response.status_code == 200
    with runtime.session() as session:
        now = session.get_one(Delivery, sent.id).status
    if was in FAILURES:
        assert now == was  # a failure is final
    else:
        assert now in FAILURES or RANK[now] >= RANK[was]
    status_key = _clean(status).strip().lower()[:32]
    plain = sid == sent.provider_sid and status_key and token is None
    if plain and (sid, status_key.replace("canceled", "cancelled")) not in seen:
        assert _count(runtime, DeliveryEvent) == before + 1  # a new receipt is always kept
