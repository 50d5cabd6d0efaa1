"""Every delivery state has ticks a person reads the same way as in their messaging app."""

from __future__ import annotations

from advent.organiser.ticks import ticks_for
from advent.states.deliveries import DeliveryStatus


def test_sent_delivered_and_read_are_one_grey_two_grey_and_two_blue_ticks():
    assert (ticks_for("sent").marks, ticks_for("sent").css) == ("✓", "sent")
    assert (ticks_for("delivered").marks, ticks_for("delivered").css) == ("✓✓", "delivered")
    assert (ticks_for("read").marks, ticks_for("read").css) == ("✓✓", "read")


def test_every_state_has_words_and_nothing_unknown_looks_sent():
    for status in DeliveryStatus:
        assert ticks_for(status).label
    assert ticks_for("no such status").css == "waiting"
    assert ticks_for(None).css == "waiting"
    assert ticks_for("undelivered").css == ticks_for("failed").css == "failed"
