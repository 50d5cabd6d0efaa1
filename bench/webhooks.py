"""How fast signed webhooks are answered under gunicorn, at a fixed pace, and that nothing is lost.

    .venv/bin/python bench/webhooks.py [--rates 100 200] [--seconds 30] [--threads 64]
                                       [--provider twilio|simulator]

Starts gunicorn exactly as the Procfile's web process runs it (two workers) on loopback, on a
fresh SQLite database in a temporary folder, with the twilio provider as a live service runs it
(a made-up account whose Auth Token signs the requests; webhooks never call Twilio's API, and
its address is a closed local port). Every request carries Twilio's signature, made with the
library's RequestValidator. With --provider simulator, each request also carries
X-Forwarded-For, so the simulator does not take it as a local one and checks the signature with
the instance's secret key; the simulator then also notes each text in its own phone-network
file, which a live service does not do. The requests are inbound texts (JOIN from new numbers, a reply, HELP,
STOP from numbers that joined a few seconds before) and status callbacks, in a fixed rotation.

Open loop: request i is due at start + i / rate whatever the earlier answers, and its latency
is counted from when it was due, so a server that falls behind shows it. At the end it counts
the rows: every inbound text stored, one consent event per JOIN and per STOP, every status
callback kept. A benchmark, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhooks-secret"
KINDS = ("join", "status", "reply", "help", "stop")  # the rotation: one of each per 5 requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(folder: Path, port: int, provider: str = "twilio") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("TWILIO_")}
    env.update(
        ADVENT_PROVIDER=provider,
        ADVENT_INSTANCE_DIR=str(folder),
        ADVENT_MESSAGES_DIR=str(ROOT / "messages"),
        ADVENT_SCHEDULES_DIR=str(ROOT / "schedules"),
        ADVENT_SECRET_KEY=SECRET,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    if provider == "twilio":
        # Webhooks never call Twilio's API; were one to, it would meet a closed port, not Twilio.
        env.update(
            TWILIO_ACCOUNT_SID="AC" + "0" * 32,
            TWILIO_AUTH_TOKEN=SECRET,
            TWILIO_FROM="+447700900000",
            TWILIO_API_BASE_URL="http://127.0.0.1:9",
        )
    return env


def advent(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["advent", *args], env=env, cwd=env["ADVENT_INSTANCE_DIR"], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"advent {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@contextmanager
def gunicorn(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The Procfile's web process (its --workers 2, no access log: a log line a request would be
    measured too), on loopback; yields once /healthz answers."""
    server = subprocess.Popen(
        ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "advent:create_app()"],
        env=env,
        cwd=env["ADVENT_INSTANCE_DIR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:  # not listening yet, or busy starting
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start; run it by hand to see why") from None
                time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Plan:
    """What request i is, and what the database must hold afterwards."""

    run: int
    joins: int = 0
    stops: int = 0
    texts: int = 0
    callbacks: int = 0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def number(self, n: int) -> str:
        return f"+4479{self.run:02d}{n:06d}"

    def add(self, i: int) -> None:
        kind = KINDS[i % len(KINDS)]
        cycle = i // len(KINDS)
        sid = f"SM{self.run:02d}{i:030d}"
        if kind == "status":
            form = {"MessageSid": f"SM{self.run:02d}{i:030d}", "MessageStatus": "delivered"}
            self.callbacks += 1
            self.requests.append(("/twilio/status", form))
            return
        # Replies and STOPs come from numbers that joined a few seconds of requests earlier.
        joined = cycle - 50 if kind in ("reply", "stop") else cycle
        if joined < 0:
            joined, kind = cycle, "help"
        body = {"join": "JOIN", "reply": "Thank you, that made my morning", "help": "HELP", "stop": "STOP"}[
            kind
        ]
        self.joins += kind == "join"
        self.stops += kind == "stop"
        self.texts += 1
        form = {"MessageSid": sid, "From": self.number(joined), "To": "+447700900000", "Body": body}
        self.requests.append(("/twilio/inbound", form))


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def fire(port: int, plan: Plan, rate: float, threads: int) -> Outcome:
    """Each request sent at its due time by whichever thread is free; latency from the due time."""
    validator = RequestValidator(SECRET)
    base = f"http://127.0.0.1:{port}"
    # Signed and encoded before the clock starts: the load generator shares the two cores with
    # the server, and signing during the run would take its time from the server's.
    ready = []
    for path, form in plan.requests:
        signature = validator.compute_signature(base + path, form)
        headers = {"X-Twilio-Signature": signature, "X-Forwarded-For": "203.0.113.7"}
        ready.append((base + path, urllib.parse.urlencode(form).encode(), headers))
    outcome = Outcome()
    next_index = iter(range(len(plan.requests)))
    take = threading.Lock()
    start = time.perf_counter() + 0.5

    def worker() -> None:
        while True:
            with take:
                i = next(next_index, None)
            if i is None:
                return
            url, data, headers = ready[i]
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            try:
                request = urllib.request.Request(url, data=data, headers=headers)
                with urllib.request.urlopen(request, timeout=30) as answer:
                    answer.read()
                    problem = None if answer.status == 200 else str(answer.status)
            except urllib.error.HTTPError as error:
                problem = str(error.code)
            except OSError as error:
                problem = type(error).__name__
            with outcome.lock:
                outcome.latencies.append(time.perf_counter() - due)
                if problem:
                    outcome.errors[problem] = outcome.errors.get(problem, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcome


def stored(database: Path, plan: Plan) -> dict[str, tuple[int, int]]:
    """(found, expected) for each kind of row this run's numbers should have left."""
    prefix = plan.number(0)[:7] + "%"  # this run's numbers only, not the warm-up's
    with sqlite3.connect(database) as db:
        count = lambda sql: db.execute(sql, (prefix,)).fetchone()[0]  # noqa: E731
        texts = count("SELECT count(*) FROM inbound_message WHERE phone LIKE ?")
        consent = (
            "SELECT count(*) FROM consent_event JOIN subscriber"
            " ON subscriber.id = consent_event.subscriber_id "
            "WHERE subscriber.phone LIKE ? AND consent_event.kind = "
        )
        joins, stops = count(consent + "'opt_in'"), count(consent + "'opt_out'")
        callbacks = count(
            f"SELECT count(*) FROM delivery_event WHERE provider_sid LIKE 'SM{plan.run:02d}%' AND ? != ''"
        )
    return {
        "inbound texts": (texts, plan.texts),
        "JOIN consent events": (joins, plan.joins),
        "STOP consent events": (stops, plan.stops),
        "status callbacks": (callbacks, plan.callbacks),
    }


def server_cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """User + system CPU of gunicorn's master and its workers so far (Linux's /proc)."""
    pids = [server.pid]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a worker that has just gone
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 200])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=64, help="Senders; enough that none is late.")
    parser.add_argument("--provider", choices=("twilio", "simulator"), default="twilio")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, port = Path(tmp), free_port()
        env = environment(folder, port, args.provider)
        advent(env, "db", "upgrade")
        print(
            f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; gunicorn --workers 2 on loopback, "
            f"{args.provider} provider; load average {' '.join(f'{n:.1f}' for n in os.getloadavg())}"
        )
        lost = False
        with gunicorn(env, port) as server:
            warm_up = Plan(0)
            for i in range(40):  # each worker's first requests open its database connections
                warm_up.add(i)
            fire(port, warm_up, 20, 4)
            for run, rate in enumerate(args.rates, 1):
                plan = Plan(run)
                for i in range(int(rate * args.seconds)):
                    plan.add(i)
                server_before, own_before = server_cpu_seconds(server), time.process_time()
                outcome = fire(port, plan, rate, args.threads)
                server_ms = 1000 * (server_cpu_seconds(server) - server_before) / len(plan.requests)
                own_ms = 1000 * (time.process_time() - own_before) / len(plan.requests)
                ms = [1000 * s for s in outcome.latencies]
                errors = sum(outcome.errors.values())
                print(
                    f"{rate:.0f} requests/s for {args.seconds:.0f} s ({len(ms)} requests): "
                    f"p50 {statistics.median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
                    f"max {max(ms):.0f} ms, errors {errors}" + (f" {outcome.errors}" if errors else "")
                )
                print(
                    f"    CPU a request: server {server_ms:.1f} ms, load generator {own_ms:.1f} ms; "
                    f"load average {os.getloadavg()[0]:.1f}"
                )
                for what, (found, expected) in stored(
                    folder / ("advent.db" if args.provider == "twilio" else "rehearsal.db"), plan
                ).items():
                    lost |= found != expected
                    print(
                        f"    {what}: {found} stored of {expected}{'' if found == expected else '  <- LOST'}"
                    )
        if lost:
            sys.exit(1)


if __name__ == "__main__":
    main()
