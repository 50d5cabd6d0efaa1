"""People: keywords, numbers, who is on the list, conversations and invites."""
