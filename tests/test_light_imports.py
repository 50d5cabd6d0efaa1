"""Pure modules stay pure: importing one loads no web framework and no database, so the
content checks and the keyword rules run (and are tested) without either."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("flask", "sqlalchemy", "sqlmodel", "alembic", "twilio", "apscheduler")
PURE = [
    "advent.people.keywords",
    "advent.people.phones",
    "advent.content.posts",
    "advent.content.schedules",
    "advent.content.segments",
    "advent.content.replies",
    "advent.content.promises",
    "advent.content.check",
    "advent.content.replies_check",
    "advent.config",
]


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_no_framework_and_no_database(module: str) -> None:
    probe = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == [], f"importing {module} loads {', '.join(loaded)}"
