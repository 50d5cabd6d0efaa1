"""Texts and receipts that arrive while the database cannot take them are kept, answered, and
stored later, each exactly once, in order, by the next process that can write."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from advent import create_app
from advent.held_webhooks import RECEIVED, replay_waiting
from advent.runtime import Runtime, build_runtime
from advent.store.database import READ_ONLY
from advent.store.tables import ConsentEvent, InboundMessage, OrganiserAlert, Subscriber
from tests import served
from tests.helpers import FRIENDS, add_friends, replay_all
from tests.webhook_helpers import reply_text, text_from

NEW = ["+447911000001", "+447911000002"]


def _form(number: str, body: str, sid: str) -> dict[str, str]:
    return {"From": number, "To": "+15005550006", "Body": body, "NumMedia": "0", "MessageSid": sid}


# JOIN, STOP, HELP, a reply, and the JOIN's retry with the same MessageSid.
TEXTS = [
    _form(NEW[0], "HAPPY", "SMjoin"),
    _form(FRIENDS[0], "STOP", "SMstop"),
    _form(NEW[1], "HELP", "SMhelp"),
    _form(FRIENDS[1], "Thank you, lovely", "SMreply"),
    _form(NEW[0], "HAPPY", "SMjoin"),
]


def _reading(runtime: Runtime) -> Session:
    """A session that only reads: it need not wait for a write lock held on purpose."""
    return Session(runtime.db.execution_options(**{READ_ONLY: True}))


def _stored(runtime: Runtime) -> Counter[str | None]:
    with _reading(runtime) as session:
        return Counter(m.provider_sid for m in session.exec(select(InboundMessage)).all())


def _status(runtime: Runtime, phone: str) -> str | None:
    with runtime.session() as session:
        found = session.exec(select(Subscriber.status).where(Subscriber.phone == phone)).first()
    return None if found is None else str(found)


def _check_everything_applied(runtime: Runtime) -> None:
    assert _stored(runtime) == Counter({"SMjoin": 1, "SMstop": 1, "SMhelp": 1, "SMreply": 1, "SMlater": 1})
    assert _status(runtime, NEW[0]) == "active"
    assert _status(runtime, FRIENDS[0]) == "stopped"
    assert _status(runtime, FRIENDS[1]) == "active"
    with runtime.session() as session:
        consents = Counter((c.phone, c.kind) for c in session.exec(select(ConsentEvent)).all())
    assert consents[(NEW[0], "opt_in")] == 1
    assert consents[(FRIENDS[0], "opt_out")] == 1
    assert runtime.journal().waiting() == []


def _answers_while_locked(base: str) -> list[tuple[int, str]]:
    barrier = threading.Barrier(len(TEXTS))

    def fire(form: dict[str, str]) -> tuple[int, str]:
        barrier.wait()
        return served.post(base, "/twilio/inbound", form)

    with ThreadPoolExecutor(len(TEXTS)) as pool:
        return list(pool.map(fire, TEXTS))


def _check_answers(answers: list[tuple[int, str]]) -> None:
    assert [status for status, _ in answers] == [200] * len(TEXTS)
    join, stop, help_, reply, again = (body for _, body in answers)
    assert RECEIVED in join and RECEIVED in reply and RECEIVED in again
    assert "unsubscribed" in stop  # confirmed at once, from the text alone
    assert "STOP" in help_ and RECEIVED not in help_


def _wait_for_replay(runtime: Runtime, base: str) -> None:
    """A text after the lock is gone goes through live, and its worker replays the journal."""
    assert served.post(base, "/twilio/inbound", _form(FRIENDS[1], "hello again", "SMlater"))[0] == 200
    deadline = time.monotonic() + 60
    while runtime.journal().waiting() and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.mark.sqlite_only("holds SQLite's write lock from another process")
def test_texts_while_another_process_holds_the_write_lock_for_a_minute_are_all_answered_and_stored(
    runtime: Runtime, schedule, settings, project: Path
) -> None:
    add_friends(runtime, schedule)
    runtime.db.dispose()
    served.far_ahead(settings.schedules_dir)
    path = make_url(settings.database_url).database
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n"
            "db.execute('COMMIT')\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        # The workers start while the lock is held: start-up only reads.
        with served.gunicorn(settings, project) as base:
            _check_answers(_answers_while_locked(base))
            assert len(runtime.journal().waiting()) == len(TEXTS)
            assert _stored(runtime) == Counter()  # nothing could be written yet
            holder.wait(timeout=90)
            _wait_for_replay(runtime, base)
    finally:
        holder.kill()
        holder.wait()
    _check_everything_applied(runtime)
    print(
        f"\nwrite lock held 60 s: {len(TEXTS)} of {len(TEXTS)} posts answered 200 while held; all stored once"
    )


def test_texts_while_a_table_is_locked_past_the_budget_are_answered_then_stored(
    runtime: Runtime, schedule, settings, project: Path
) -> None:
    """On PostgreSQL another connection holds the table; on SQLite another holds the file."""
    add_friends(runtime, schedule)
    runtime.db.dispose()
    served.far_ahead(settings.schedules_dir)
    url = settings.database_url
    locker = create_engine(
        url if "+" in url or url.startswith("sqlite") else url.replace("://", "+psycopg://", 1)
    )
    with locker.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("LOCK TABLE inbound_message IN EXCLUSIVE MODE")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        with served.gunicorn(settings, project, ADVENT_WEBHOOK_WRITE_SECONDS="2") as base:
            _check_answers(_answers_while_locked(base))
            assert len(runtime.journal().waiting()) == len(TEXTS)
            time.sleep(3)  # held a few seconds past the budget
            connection.exec_driver_sql("COMMIT")
            _wait_for_replay(runtime, base)
    locker.dispose()
    _check_everything_applied(runtime)


def _keep(runtime: Runtime, form: dict[str, str], answered: str | None = RECEIVED) -> Path:
    """An entry as the webhook keeps it while the database is busy."""
    return runtime.journal().keep("inbound", form, runtime.clock().isoformat(), answered=answered).path


def test_a_replayed_entry_written_before_a_crash_is_not_stored_twice(runtime: Runtime, schedule) -> None:
    add_friends(runtime, schedule)
    entry = _keep(runtime, _form(FRIENDS[0], "STOP", "SMcrash"))
    copy = entry.read_bytes()
    assert replay_waiting(runtime).stored == 1
    entry.write_bytes(copy)  # the process died after the commit, before removing the entry
    assert replay_waiting(runtime).stored == 1
    assert _stored(runtime) == Counter({"SMcrash": 1})
    with runtime.session() as session:
        opt_outs = session.exec(select(ConsentEvent).where(ConsentEvent.kind == "opt_out")).all()
        stored = session.exec(select(InboundMessage)).one()
    assert len(opt_outs) == 1
    assert stored.reply_text == RECEIVED  # what the friend was actually told


def test_entries_are_replayed_in_the_order_they_arrived(runtime: Runtime, schedule) -> None:
    add_friends(runtime, schedule)
    _keep(runtime, _form(FRIENDS[0], "STOP", "SMfirst"))
    _keep(runtime, _form(FRIENDS[0], "HAPPY", "SMsecond"))  # changed their mind
    _keep(runtime, _form(FRIENDS[1], "HAPPY", "SMthird"))
    _keep(runtime, _form(FRIENDS[1], "STOP", "SMfourth"))
    assert replay_waiting(runtime).stored == 4
    assert _status(runtime, FRIENDS[0]) == "active"
    assert _status(runtime, FRIENDS[1]) == "stopped"


def test_an_entry_that_cannot_be_stored_is_kept_aside_with_an_alert_and_the_rest_go_on(
    runtime: Runtime, schedule
) -> None:
    journal = runtime.journal()
    journal.folder.mkdir(parents=True, exist_ok=True)
    broken = journal.folder / "00000000000000000001-1-broken.json"
    broken.write_text('{"kind": "inbound", "form": ', encoding="utf-8")
    unknown = _keep(runtime, _form(NEW[0], "hello", "SMunknown"))
    raw = json.loads(unknown.read_text(encoding="utf-8"))
    unknown.write_text(json.dumps({**raw, "kind": "fax"}), encoding="utf-8")
    _keep(runtime, _form(NEW[1], "HAPPY", "SMgood"))
    done = replay_waiting(runtime)
    assert (done.stored, done.kept_aside) == (1, 2)
    assert journal.waiting() == []
    assert sorted(p.name for p in journal.kept_aside()) == sorted([broken.name, unknown.name])
    with runtime.session() as session:
        alerts = session.exec(select(OrganiserAlert).where(OrganiserAlert.kind == "journal")).all()
    assert len(alerts) == 2 and all("kept in" in a.message for a in alerts)
    assert _stored(runtime) == Counter({"SMgood": 1})


def test_webhooks_at_once_under_gunicorn_are_each_stored_once_and_all_answered(
    runtime: Runtime, settings, project: Path
) -> None:
    """120 posts at once: 40 new numbers joining, each text posted three times (the retries)."""
    runtime.db.dispose()
    served.far_ahead(settings.schedules_dir)
    numbers = [f"+4479110{n:05d}" for n in range(40)]
    forms = [_form(number, "HAPPY", f"SMgun{n:030d}") for n, number in enumerate(numbers) for _ in range(3)]
    barrier = threading.Barrier(len(forms))

    with served.gunicorn(settings, project) as base:

        def fire(form: dict[str, str]) -> int:
            barrier.wait()
            return served.post(base, "/twilio/inbound", form, timeout=60)[0]

        with ThreadPoolExecutor(len(forms)) as pool:
            answers = list(pool.map(fire, forms))
        # A post the database could not take in time was kept in the journal; let it be stored.
        deadline = time.monotonic() + 60
        while runtime.journal().waiting() and time.monotonic() < deadline:
            served.post(base, "/twilio/inbound", _form(FRIENDS[0], "hi", "SMnudge"))
            time.sleep(0.5)
    assert answers == [200] * len(forms)
    stored = _stored(runtime)
    assert {sid: stored[sid] for sid in {f["MessageSid"] for f in forms}} == {
        f["MessageSid"]: 1 for f in forms
    }
    with runtime.session() as session:
        joined = Counter(s.phone for s in session.exec(select(Subscriber)).all())
        opt_ins = Counter(c.phone for c in session.exec(select(ConsentEvent)).all() if c.kind == "opt_in")
    assert joined == Counter(numbers)
    assert opt_ins == Counter(numbers)
    print(  # the figures docs/reliability.md reports (pytest -s)
        f"\ngunicorn -w 2, {runtime.db.dialect.name}: {answers.count(200)} of {len(forms)} posts answered "
        f"200; {len({f['MessageSid'] for f in forms})} distinct texts stored once each; "
        f"{len(joined)} joined, {len(opt_ins)} opt-ins"
    )


class Relay:
    """A TCP relay on a loopback port in front of the real PostgreSQL server; closed, the port
    refuses connections as a server that is down does."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.links: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.links += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        # shutdown first: a close alone leaves the thread blocked in accept() still accepting.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for link in self.links:
            with contextlib.suppress(OSError):
                link.shutdown(socket.SHUT_RDWR)
                link.close()


def test_a_text_while_the_postgresql_server_refuses_connections_is_kept_and_stored_when_it_is_back(
    settings, simulator
) -> None:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("about a PostgreSQL server; on SQLite the file away is in test_webhooks_errors")
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(port=relay.port).render_as_string(hide_password=False)
    runtime = build_runtime(settings.model_copy(update={"database_url": through}), provider=simulator)
    client = create_app(runtime=runtime).test_client()
    relay.close()  # the server is down: connections refused
    response = text_from(client, NEW[0], "STOP", sid="SMdown")
    assert response.status_code == 200
    assert "unsubscribed" in reply_text(response)
    assert len(runtime.journal().waiting()) == 1
    # The next process that can reach the server (a worker restarted, or the clock) stores it.
    working = build_runtime(settings, provider=simulator)
    replay_all(working)
    assert _stored(working) == Counter({"SMdown": 1})
