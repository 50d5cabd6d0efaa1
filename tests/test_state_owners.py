"""One owner per state machine: no module outside advent/states/ writes a status.

A status written from anywhere is how the six-file rules of the past came about: a new rule
then means reading every writer. This test reads the code (with `ast`) and names each writer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ADVENT = Path(__file__).resolve().parent.parent / "advent"
OWNERS = ADVENT / "states"
# Migrations rewrite stored values once, as the schema's history; they run no state machine.
MIGRATIONS = ADVENT / "store" / "migrations"
# The tables with a state machine; `status=` given to one of them creates a row in a state.
MODELS = {"Delivery", "Subscriber", "DayRun"}
RAW_SQL = re.compile(
    r"\b(update\s+(delivery|subscriber|day_run)\b.*\bset\b.*\bstatus\b"
    r"|insert\s+into\s+(delivery|subscriber|day_run)\b.*\bstatus\b)",
    re.IGNORECASE | re.DOTALL,
)


def _callee(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _copies_a_status(value: ast.expr | None) -> bool:
    """`{"status": p.status}` shows a status that is already there (a listing, JSON): a read."""
    return isinstance(value, ast.Attribute) and value.attr == "status"


def _targets(node: ast.Assign | ast.AugAssign | ast.AnnAssign) -> list[ast.expr]:
    found = list(node.targets) if isinstance(node, ast.Assign) else [node.target]
    flat = []
    while found:
        target = found.pop()
        if isinstance(target, ast.Tuple | ast.List):
            found.extend(target.elts)
        else:
            flat.append(target)
    return flat


def _call_writes(node: ast.Call) -> str | None:
    name = _callee(node.func)
    if (
        name == "setattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value == "status"
    ):
        return "sets status with setattr()"
    for keyword in node.keywords:
        if keyword.arg != "status":
            continue
        if name in MODELS:
            return f"creates a {name} with status="
        if name == "values":
            return "writes status= in an UPDATE's or INSERT's .values()"
        if name == "dict" and not _copies_a_status(keyword.value):
            return "puts a status into a row with dict(status=...)"
    return None


def status_writes(source: str) -> list[tuple[int, str]]:
    """(line, what) for every status this code writes, in any of the ways a row gets one."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in _targets(node)):
                found.append((node.lineno, "assigns .status"))
        elif isinstance(node, ast.Call):
            what = _call_writes(node)
            if what:
                found.append((node.lineno, what))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "status" and not _copies_a_status(value):
                    found.append((node.lineno, 'puts a "status" key into a row'))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and RAW_SQL.search(node.value):
            found.append((node.lineno, "writes status in raw SQL"))
    return sorted(found)


def _modules() -> list[Path]:
    return sorted(
        path for path in ADVENT.rglob("*.py") if OWNERS not in path.parents and MIGRATIONS not in path.parents
    )


def test_no_module_outside_the_state_machines_writes_a_status():
    writers = [
        f"advent/{path.relative_to(ADVENT)}:{line} {what}"
        for path in _modules()
        for line, what in status_writes(path.read_text())
    ]
    assert not writers, (
        "only advent/states/ may change a status; ask the state machine "
        "(advent.states.deliveries, .subscribers, .day_runs) instead:\n" + "\n".join(writers)
    )


def test_the_check_reads_every_module_of_the_package():
    names = {str(path.relative_to(ADVENT)) for path in _modules()}
    assert {"receipts.py", "sending/dispatch.py", "people/subscriptions.py"} <= names
    assert not any(name.startswith("states/") for name in names)


@pytest.mark.parametrize(
    "source",
    [
        "delivery.status = 'sent'",
        "run.status, run.started_at = 'sending', now",
        "setattr(subscriber, 'status', 'active')",
        "update(Delivery).values(status='claimed')",
        "insert(Delivery).values(status='pending')",
        "Subscriber(phone=p, status='new')",
        "DayRun(campaign=c, status=DayRunStatus.DUE)",
        "rows = [{'subscriber_id': s.id, 'status': 'pending'} for s in people]",
        "rows = [dict(campaign=c, day=d, status='due')]",
        "session.execute(text(\"UPDATE delivery SET status = 'cancelled' WHERE id = 1\"))",
        "op.execute('INSERT INTO day_run (campaign, day, status) VALUES (1, 2, 3)')",
    ],
    ids=lambda source: source[:40],
)
def test_each_way_of_writing_a_status_is_caught(source):
    assert status_writes(source), source


@pytest.mark.parametrize(
    "source",
    [
        "if delivery.status == DeliveryStatus.PENDING: pass",
        "select(Delivery).where(Delivery.status.in_(PROBLEMS))",
        "row = {'number': p.phone, 'status': p.status}",
        "jsonify(status='ok')",
        "StatusReport(sid=s, status=reported)",
        "DeliveryEvent(delivery_id=1, status=report.status)",
    ],
    ids=lambda source: source[:40],
)
def test_reading_a_status_is_not_writing_one(source):
    assert status_writes(source) == []
