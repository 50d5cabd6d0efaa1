"""A warning, once per process, when a rehearsal on the simulator answers another machine.

`advent run` knows the address it listens on and warns at start (advent/cli/clock.py); under
gunicorn the app cannot see its bind address, so the first request from elsewhere says it.
"""

from __future__ import annotations

import logging

from flask import Flask, request

from advent.providers.base import exposed_warning, is_loopback
from advent.runtime import Runtime

log = logging.getLogger(__name__)


def init_exposure_warning(app: Flask, runtime: Runtime) -> None:
    if not runtime.provider.rehearsal:
        return  # a live provider's webhooks prove themselves by signature, from anywhere
    warned: list[str] = []

    @app.before_request
    def _warn_once_if_reached_from_elsewhere() -> None:
        address = request.remote_addr
        if warned or not address or is_loopback(address):
            return
        warned.append(address)
        log.warning("%s", exposed_warning(f"a request came from {address}"))
