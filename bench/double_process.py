"""The local Twilio double in a process of its own, for the sending benchmark.

A carrier does not share the sender's process: run in the same one, the double's threads take
turns with the sender's for Python's interpreter lock, and the sender starts messages late for
it. Started by bench/sending.py, it prints its address, serves until its input is closed, and
answers `GET /_double` with what it saw (arrival times by its own clock, how many messages were
created, the most requests it served at once).

    .venv/bin/python bench/double_process.py ANSWER_SECONDS
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.twilio_double import TwilioDouble  # noqa: E402

SEEN = "/_double"


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the double's line per request
    double = TwilioDouble(answer_seconds=float(sys.argv[1]), send_callbacks=False)
    twilio = double.server.app
    assert twilio is not None

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != SEEN:
            return twilio(environ, start_response)
        seen = {"arrived": double.arrived, "created": len(double.created), "at_once": double.most_at_once}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(seen).encode()]

    double.server.app = app
    print(double.base_url, flush=True)
    sys.stdin.read()  # until the benchmark is done with it
    double.stop()


if __name__ == "__main__":
    main()
