#!/usr/bin/env python3
"""The two Quick start commands, with nothing but Python 3.11+ and the package registry.

    python3 scripts/dev.py start   # set up .venv, prepare the database, run on the simulator
    python3 scripts/dev.py test    # set up .venv with the test tools, run the whole suite

Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*args: str | Path, **kwargs) -> None:  # type: ignore[no-untyped-def]
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, **kwargs)


def ensure_venv(extras: str = "") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this runs before anything checks the version)
        sys.exit(f"advent needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--editable", f".{extras}")


def start() -> None:
    ensure_venv()
    advent = BIN / "advent"
    run(advent, "db", "upgrade")
    run(advent, "content", "check")
    print("\nadvent is starting on the built-in phone-network simulator (no Twilio needed).")
    print("  Web:       http://127.0.0.1:5000/   health: http://127.0.0.1:5000/healthz")
    shown = advent.relative_to(ROOT)
    print(f"  Join:      {shown} phone +447911123456 HAPPY    (in another terminal)")
    print(f"  Send now:  {shown} send --date 2026-12-01")
    print(f"  Receipts:  {shown} stats")
    print("  Data:      instance/advent.db and instance/phone-network.db\n", flush=True)
    os.execv(str(advent), [str(advent), "run", "--host", "127.0.0.1", "--port", "5000"])


def test() -> None:
    ensure_venv("[test]")
    result = subprocess.run([str(BIN / "python"), "-m", "pytest", *sys.argv[2:]], cwd=ROOT)
    sys.exit(result.returncode)


if __name__ == "__main__":
    commands = {"start": start, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: python3 scripts/dev.py start | test [pytest options]")
    commands[sys.argv[1]]()
