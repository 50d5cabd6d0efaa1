"""The clock process: APScheduler wiring and the lease that keeps it to one."""
