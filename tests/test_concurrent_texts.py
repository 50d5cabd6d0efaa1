"""Texts arriving at the same moment are all kept and all answered.

A new number sending several texts at once (JOIN twice, a hello, a question) and the provider
retrying one MessageSid while the first try is still running: real threads against the app
served by werkzeug on a real SQLite file, as a web server with several workers would see them.
"""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select
from werkzeug.serving import make_server

from advent.store.tables import ConsentEvent, InboundMessage, Subscriber

NEW_NUMBER = "+447911123456"


@pytest.fixture
def served(app):
    """The app on a loopback port, one thread per request."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _post(base: str, form: dict[str, str]) -> int:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(f"{base}/twilio/inbound", data=data, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _texts() -> list[dict[str, str]]:
    """Eight distinct texts from one new number, each posted three times (the retries)."""
    bodies = ["HAPPY", "HAPPY", "hello!", "Thank you", "HELP", "HAPPY", "lovely", "🎄 yes"]
    distinct = [
        {"From": NEW_NUMBER, "To": "+15005550006", "Body": body, "MessageSid": f"SM{n:032d}"}
        for n, body in enumerate(bodies)
    ]
    return [form for form in distinct for _ in range(3)]


def test_texts_at_once_from_a_new_number_are_each_stored_once_and_all_answered(served, runtime):
    forms = _texts()
    barrier = threading.Barrier(len(forms))

    def fire(form: dict[str, str]) -> int:
        barrier.wait()  # all at once, not one after the other
        return _post(served, form)

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        answers = list(pool.map(fire, forms))

    assert answers == [200] * len(forms)
    with runtime.session() as session:
        stored = Counter(m.provider_sid for m in session.exec(select(InboundMessage)).all())
        subscribers = session.exec(select(Subscriber).where(Subscriber.phone == NEW_NUMBER)).all()
        consents = session.exec(select(ConsentEvent).where(ConsentEvent.phone == NEW_NUMBER)).all()
    assert stored == Counter({form["MessageSid"]: 1 for form in forms})
    # Three JOINs at once: one person on the list, with one opt-in on record.
    assert [s.status for s in subscribers] == ["active"]
    assert [c.kind for c in consents] == ["opt_in"]
