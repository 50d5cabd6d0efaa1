"""Content: the posts, the schedules, SMS segments, reply texts and their checks. Pure: no database,
no web framework."""
