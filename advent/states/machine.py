"""What every state machine shares: a table of allowed moves, and a refusal that says why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)

# Where a row starts: a person or a day with no row yet.
NEW = "(new)"


class TransitionRefused(ValueError):
    """A status change the machine's table does not allow; the message says from, to and why."""


@dataclass(frozen=True)
class Table(Generic[S]):
    """The allowed moves of one machine: from each state (None: no row yet) to its next ones."""

    machine: str  # in the organiser's words: "a delivery", "a subscriber", "a day"
    # Keyed by str as well as S: a status read back from the database is a plain string.
    moves: Mapping[str | None, frozenset[S]]
    # Why a particular move is refused, where "it may only go to ..." would not explain it.
    reasons: Mapping[tuple[str | None, str], str] = field(default_factory=dict)

    def allows(self, current: str | None, target: str) -> bool:
        return target in self.moves.get(current, frozenset())

    def check(self, current: str | None, target: str) -> None:
        """Raise TransitionRefused unless the table allows `current` -> `target`."""
        if self.allows(current, target):
            return
        raise TransitionRefused(
            f"{self.machine} cannot go from {_name(current)} to "
            f"{_name(target)}: {self.why_not(current, target)}"
        )

    def why_not(self, current: str | None, target: str) -> str:
        if (current, target) in self.reasons:
            return self.reasons[(current, target)]
        onward = sorted(self.moves.get(current, frozenset()))
        if not onward:
            return f"{_name(current)} is final"
        return f"from {_name(current)} it may only go to {', '.join(onward)}"

    def pairs(self) -> list[tuple[str | None, S]]:
        """Every allowed move, for tests and documentation."""
        return sorted(
            ((a, b) for a, targets in self.moves.items() for b in targets),
            key=lambda pair: (str(pair[0]), str(pair[1])),
        )


def _name(state: object) -> str:
    return NEW if state is None else str(state)
