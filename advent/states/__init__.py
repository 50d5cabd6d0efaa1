"""The state machines: deliveries, subscribers and day runs.

Each module here is the only code that changes its table's `status`: it holds the states (a
StrEnum), the table of allowed moves, and writes the record beside every change. Everything
else reads statuses freely and asks these modules to change them.
"""
