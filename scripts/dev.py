#!/usr/bin/env python3
"""The two Quick start commands, with nothing but Python 3.11+ and the package registry.

    python3 scripts/dev.py start   # set up .venv, prepare the database, run on the simulator
    python3 scripts/dev.py test    # set up .venv with the test tools, run the whole suite

Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
# What the last successful install was made from; inside .venv, so a new .venv starts afresh.
INSTALL_STAMP = VENV / ".advent-install"
NAME_UNSET = (
    "  Your name is not set: texts say 'the organiser'. Set ADVENT_ORGANISER_NAME in .env "
    "(copy .env.example) and start again."
)


def install_fingerprint(pyproject: bytes, extras: str) -> str:
    """Changes whenever a pip install could install something different."""
    return hashlib.sha256(pyproject + b"\0" + extras.encode()).hexdigest()


def needs_install(stamp: Path, fingerprint: str) -> bool:
    try:
        return fingerprint not in stamp.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return True


def remember_install(stamp: Path, fingerprint: str) -> None:
    # `start` and `test` install different extras; remember both, and only recent ones.
    kept = [] if not stamp.exists() else stamp.read_text(encoding="utf-8").split()
    stamp.write_text("\n".join([*kept[-3:], fingerprint]) + "\n", encoding="utf-8")


def ensure_venv(extras: str = "") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this runs before anything checks the version)
        sys.exit(f"advent needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    fingerprint = install_fingerprint((ROOT / "pyproject.toml").read_bytes(), extras)
    if (BIN / "advent").exists() and not needs_install(INSTALL_STAMP, fingerprint):
        print("+ pip install skipped: pyproject.toml unchanged since the last install", flush=True)
        return
    command = [
        BIN / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--editable",
        f".{extras}",
    ]
    if show_and_run(command).returncode != 0:
        sys.exit(
            "\nInstalling advent's packages failed (pip says why above); check the connection "
            "to the package registry and run this again."
        )
    remember_install(INSTALL_STAMP, fingerprint)


def show_and_run(command: list[str | Path], capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a step from the project folder; its failure is the caller's to explain, never raised."""
    print("+", " ".join(str(part) for part in command), flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT, text=True, capture_output=capture)
    if capture:
        print(result.stdout, end="", flush=True)
        print(result.stderr, end="", file=sys.stderr, flush=True)
    return result


def content_note(returncode: int, output: str) -> str | None:
    """What to say after `advent content check`; None when there is nothing to add."""
    if returncode == 0:
        return None
    found = re.search(r"(\d+) errors?,", output)
    if returncode == 1 and found:
        count = int(found.group(1))
        errors = "1 error" if count == 1 else f"{count} errors"
        return (
            f"\ncontent check found {errors} (above); starting anyway so you can try the "
            "rest: fix it before December."
        )
    return "\ncontent check could not run (above); starting anyway, but fix that before December."


def database_location(upgrade_output: str) -> str | None:
    """The database `advent db upgrade` named, such as instance/rehearsal.db."""
    found = re.search(r"^Database (.+?) (?:already at|upgraded from)", upgrade_output, re.MULTILINE)
    return found.group(1) if found else None


def organiser_name_set(environ: Mapping[str, str], env_text: str | None) -> bool:
    """Whether ADVENT_ORGANISER_NAME is set in the environment or in .env."""
    if environ.get("ADVENT_ORGANISER_NAME", "").strip():
        return True
    for line in (env_text or "").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "ADVENT_ORGANISER_NAME" and value.strip().strip("'\""):
            return True
    return False


def banner(advent: str, next_day: str | None, database: str | None, name_set: bool) -> str:
    """What `start` prints before the service runs: where to look and what to try."""
    if next_day:
        send = [
            f"  Send now:  {advent} send --date {next_day}    (the next day still to send)",
            "             a day sent by hand counts as sent: the scheduler will not send it again",
        ]
    else:
        send = [f"  Send now:  no day left to send (`{advent} next-day` says why)"]
    lines = [
        "",
        "advent is starting on the built-in phone-network simulator (no Twilio needed).",
        "  Try first: http://127.0.0.1:5000/phone   be a friend: text HAPPY and watch the ticks",
        "  Dashboard: http://127.0.0.1:5000/   sign in as 'organiser' (its password is printed above,",
        f"             once; forgot it? {advent} admin set-password organiser)",
        f"  Terminal:  {advent} phone +447700900123 HAPPY    (the same, in another terminal)",
        *send,
        f"  Receipts:  {advent} stats",
        f"  Data:      {database or 'the instance folder'} and the simulator's phone-network.db "
        '(a rehearsal: going live starts a fresh database, see README "Going live")',
    ]
    if not name_set:
        lines.append(NAME_UNSET)
    return "\n".join(lines) + "\n"


def ask_next_day(advent: Path) -> str | None:
    result = subprocess.run([str(advent), "next-day"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        return None  # the banner then says so, and `advent next-day` tells why
    return result.stdout.strip() or None


def start() -> None:
    ensure_venv()
    advent = BIN / "advent"
    upgraded = show_and_run([advent, "db", "upgrade"], capture=True)
    if upgraded.returncode != 0:
        sys.exit(
            "\nThe database could not be prepared (the line above says why); fix that and "
            "run `python3 scripts/dev.py start` again."
        )
    # The dashboard needs an account: the first start makes one and prints its password once.
    show_and_run([advent, "admin", "create", "organiser", "--if-none"])
    checked = show_and_run([advent, "content", "check"], capture=True)
    note = content_note(checked.returncode, checked.stdout)
    if note:
        print(note, flush=True)
    env_file = ROOT / ".env"
    env_text = env_file.read_text(encoding="utf-8") if env_file.exists() else None
    print(
        banner(
            str(advent.relative_to(ROOT)),
            ask_next_day(advent),
            database_location(upgraded.stdout),
            organiser_name_set(os.environ, env_text),
        ),
        flush=True,
    )
    os.execv(str(advent), [str(advent), "run", "--host", "127.0.0.1", "--port", "5000"])


def pytest_runs(given: list[str]) -> list[list[str]]:
    """The suite spreads over every core (pytest-xdist): each test has its own folder and
    database, so they run side by side safely. Then the tests marked `timing` (they measure
    when requests reach a carrier, across real processes) run on their own, so the rest of the
    suite's load on the cores does not skew what they measure. Options that choose the workers,
    the markers or only collecting make it one run, as given."""
    chooses = any(
        a in ("-n", "-m") or a.startswith(("-n", "-m", "--numprocesses", "--collect-only")) for a in given
    )
    if chooses:
        return [given]
    return [["-n", "auto", "-m", "not timing", *given], ["-n", "0", "-m", "timing", *given]]


def outcome(returncodes: list[int]) -> int:
    """One exit code for the runs: the first failure's, else success. pytest's 5 (no tests
    collected) fails only when every run found none: a file with no timing test is fine."""
    if all(code == 5 for code in returncodes):
        return 5
    return next((code for code in returncodes if code not in (0, 5)), 0)


def test() -> None:
    ensure_venv("[test]")
    codes = [
        subprocess.run([str(BIN / "python"), "-m", "pytest", *args], cwd=ROOT).returncode
        for args in pytest_runs(sys.argv[2:])
    ]
    sys.exit(outcome(codes))


if __name__ == "__main__":
    commands = {"start": start, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: python3 scripts/dev.py start | test [pytest options]")
    commands[sys.argv[1]]()
