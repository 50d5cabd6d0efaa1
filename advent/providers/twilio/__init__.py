"""Twilio: the provider on the official library (provider.py), its error codes (errors.py), and
its set-up checks. Nothing outside this package knows a Twilio code or calls its API."""
