"""The journal: webhooks kept on disk while the database could not take them in time.

One file per request in the instance folder's `journal/`, named so that sorting the names sorts
them by arrival. Each is written to a temporary name, flushed to the disk and renamed into place,
so a crash leaves a whole entry or none, and several web workers can add entries at once without
a lock: no two share a name. An entry is removed only after its write committed; one that keeps
failing moves to `journal/aside/`, where the organiser can read it.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUFFIX = ".json"


@dataclass
class Entry:
    """One webhook as the provider posted it, already verified."""

    path: Path
    kind: str  # "inbound" or "status"
    form: dict[str, str]
    received_at: str  # ISO 8601, UTC
    answered: str | None = None  # what the friend was told while the database was away
    reference: str | None = None  # a status callback's ?delivery=
    headers: dict[str, str] | None = None
    failures: int = 0
    last_error: str = ""

    def fields(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "form": self.form,
            "received_at": self.received_at,
            "answered": self.answered,
            "reference": self.reference,
            "headers": self.headers or {},
            "failures": self.failures,
            "last_error": self.last_error,
        }


class UnreadableEntry(Exception):
    """A file in the journal that is not an entry (edited by hand, or not ours)."""


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.aside_folder = self.folder / "aside"

    def keep(self, kind: str, form: dict[str, str], received_at: str, **more: Any) -> Entry:
        """Add an entry durably; returns it once it is on the disk."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # Nanoseconds first, so names sort by arrival; pid and random bits keep names apart.
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        entry = Entry(self.folder / name, kind, form, received_at, **more)
        _write_durably(entry.path, entry.fields())
        return entry

    def waiting(self) -> list[Path]:
        """Entries still to replay, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.suffix == SUFFIX and p.is_file())

    def kept_aside(self) -> list[Path]:
        if not self.aside_folder.is_dir():
            return []
        return sorted(p for p in self.aside_folder.iterdir() if p.suffix == SUFFIX)

    def read(self, path: Path) -> Entry:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return Entry(path=path, **raw)
        except (ValueError, TypeError) as error:
            raise UnreadableEntry(f"{path.name} is not a journal entry ({error})") from None

    def note_failure(self, entry: Entry, reason: str) -> None:
        entry.failures += 1
        entry.last_error = reason[:500]
        _write_durably(entry.path, entry.fields())

    def set_aside(self, path: Path) -> Path:
        self.aside_folder.mkdir(parents=True, exist_ok=True)
        moved = self.aside_folder / path.name
        os.replace(path, moved)
        _sync_folder(self.folder)
        return moved

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        _sync_folder(self.folder)

    @contextmanager
    def replaying(self) -> Iterator[bool]:
        """True while this process alone replays; False when another process is at it already.

        A lock on a file, so it is let go when the process dies, however it dies.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".replay.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _write_durably(path: Path, fields: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(fields, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)  # the rename itself survives a power cut only once the folder is synced


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
