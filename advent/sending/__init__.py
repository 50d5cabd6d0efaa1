"""Sending: plan a day, claim each delivery once, dispatch at the carrier's pace, recover what a
crash left behind, and keep a record of every day."""
