"""Numbers a person types: the UK's drama numbers work on the simulator, never for real."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlmodel import select

from advent.cli import main
from advent.people.phones import InvalidNumber, normalise_number
from advent.store.tables import Subscriber

DRAMA = "+44 7700 900123"


def test_a_drama_number_is_refused_unless_asked_for():
    with pytest.raises(InvalidNumber):
        normalise_number(DRAMA)
    assert normalise_number(DRAMA, allow_drama_numbers=True) == "+447700900123"
    assert normalise_number("07700 900999", allow_drama_numbers=True) == "+447700900999"
    with pytest.raises(InvalidNumber):  # just outside the range: not a drama number
        normalise_number("+44 7700 901000", allow_drama_numbers=True)


def test_on_the_simulator_a_drama_number_joins(runtime):
    result = CliRunner().invoke(main, ["phone", DRAMA, "HAPPY"], obj=runtime)
    assert result.exit_code == 0, result.output
    assert "reply:" in result.output
    with runtime.session() as session:
        [person] = session.exec(select(Subscriber)).all()
    assert person.phone == "+447700900123" and person.status == "active"


def test_with_twilio_a_drama_number_is_refused(tw):
    """Typed by the organiser for a live list, a drama number is refused: nobody would get it."""
    result = CliRunner().invoke(main, ["subscribers", "invite", DRAMA], obj=tw.runtime)
    assert result.exit_code == 2
    assert "not a valid phone number" in result.output
    with tw.runtime.session() as session:
        assert session.exec(select(Subscriber)).all() == []
