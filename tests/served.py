"""The app served by gunicorn as the Procfile runs it, on a loopback port, in its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from advent.config import Settings
from tests.helpers import simulator_env  # noqa: I001

ROOT = Path(__file__).resolve().parent.parent


def far_ahead(schedules_dir: Path) -> None:
    """Move the shipped campaign centuries ahead: the server reads the wall clock, and a JOIN
    must subscribe whatever today's date is (an ended campaign takes nobody)."""
    for path in schedules_dir.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        text = text.replace("first_day = 2026-12-01", "first_day = 2998-12-01")
        path.write_text(text.replace("last_day = 2026-12-24", "last_day = 2998-12-24"), encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(settings: Settings, cwd: Path, **env: str) -> Iterator[str]:
    """`gunicorn --workers 2 'advent:create_app()'`; yields its base URL once it answers."""
    port = _free_port()
    environment = {
        **os.environ,
        **simulator_env(settings),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    log = open(cwd / "gunicorn.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "advent:create_app()",
        ],
        cwd=cwd,  # the test's own folder, so a developer's .env is never read
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (cwd / "gunicorn.log").read_text()
            try:
                # A GET the webhook refuses (405) without touching the database, which may be
                # locked on purpose: a worker is up and routing requests.
                urllib.request.urlopen(f"{base}/twilio/inbound", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "gunicorn did not answer within a minute"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def post(base: str, path: str, form: dict[str, str], timeout: float = 15) -> tuple[int, str]:
    """POST a form; the timeout is Twilio's: an answer later than that is as good as none."""
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(f"{base}{path}", data=data, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
