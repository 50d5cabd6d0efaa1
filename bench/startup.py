"""How long `advent` commands take to start, what `advent stats` spends it on, and memory.

    .venv/bin/python bench/startup.py [--runs 15] [--requests 600]

On a fresh migrated SQLite database in a temporary folder, with three friends who texted JOIN
on the simulator: runs each command --runs times in a subprocess and prints the median and p90
of the wall time, the CPU time (user + system, less disturbed by other work on the machine) and
the peak resident memory of each; then the imports that take longest in `advent stats`
(`python -X importtime`, each module's own time added up by package); then the peak
resident memory of the clock process (`advent scheduler`, after its start and catch-up) and of
each gunicorn web worker (the Procfile's web process) after --requests signed webhooks.
A benchmark, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import Plan, advent, environment, fire, free_port, gunicorn  # noqa: E402

PYTHON = sys.executable
STEPS = {
    "python -c pass (the floor)": [PYTHON, "-c", "pass"],
    "advent --help": ["advent", "--help"],
    "advent stats": ["advent", "stats"],
    "advent doctor": ["advent", "doctor"],
    "import advent.web": [PYTHON, "-c", "import advent.web"],
    "create_app() (a web worker's start)": [PYTHON, "-c", "from advent import create_app; create_app()"],
}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak resident KiB of one run, from the child's own rusage."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, cwd=env["ADVENT_INSTANCE_DIR"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = 0  # reaped above; stops Popen from waiting again
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def start_up(env: dict[str, str], runs: int) -> None:
    print(f"\nStart-up, {runs} runs each        wall median / p90     CPU median / p90    peak RSS")
    for name, command in STEPS.items():
        results = [timed(command, env) for _ in range(runs)]
        wall = [1000 * r[0] for r in results]
        cpu = [1000 * r[1] for r in results]
        rss = statistics.median(r[2] for r in results) / 1024
        print(
            f"  {name:36} {statistics.median(wall):5.0f} / {p90(wall):5.0f} ms  "
            f"{statistics.median(cpu):5.0f} / {p90(cpu):5.0f} ms  {rss:5.0f} MB"
        )


def top_imports(env: dict[str, str], count: int = 12) -> None:
    done = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "advent.cli", "stats"],
        env=env,
        cwd=env["ADVENT_INSTANCE_DIR"],
        capture_output=True,
        text=True,
    )
    # Each module's own time, added up by top-level package: where the start-up goes, no overlap.
    packages: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if found:
            package = found.group(2).split(".")[0]
            packages[package] = packages.get(package, 0.0) + int(found.group(1)) / 1000
    total = sum(packages.values())
    print(f"\n`advent stats`: import time by package (python -X importtime, one run; {total:.0f} ms in all)")
    for package, ms in sorted(packages.items(), key=lambda item: -item[1])[:count]:
        print(f"  {ms:6.0f} ms  {package}")


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(now, peak) resident memory of a live process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    value = {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]
    return value["VmRSS"] / 1024, value["VmHWM"] / 1024


def clock_memory(env: dict[str, str], seconds: float) -> None:
    clock = subprocess.Popen(
        ["advent", "scheduler"],
        env=env,
        cwd=env["ADVENT_INSTANCE_DIR"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        for line in clock.stdout or []:
            if line.startswith("Scheduler running"):
                break
        time.sleep(seconds)  # its catch-up job and first tick
        now, peak = peak_rss_mb(clock.pid)
        print(
            f"\nClock process (advent scheduler), {seconds:.0f} s after start: "
            f"{now:.0f} MB resident, peak {peak:.0f} MB"
        )
    finally:
        clock.terminate()
        clock.wait(timeout=30)


def web_memory(env: dict[str, str], port: int, requests: int) -> None:
    with gunicorn(env, port) as server:
        plan = Plan(run=90)
        for i in range(requests):
            plan.add(i)
        outcome = fire(port, plan, rate=100, threads=16)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        print(
            f"Web workers (gunicorn, Procfile), after {requests} signed webhooks at 100/s "
            f"({sum(outcome.errors.values())} errors):"
        )
        for pid in children:
            now, peak = peak_rss_mb(int(pid))
            print(f"  worker {pid}: {now:.0f} MB resident, peak {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--requests", type=int, default=600, help="Webhooks sent to gunicorn before its memory is read."
    )
    parser.add_argument("--clock-seconds", type=float, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = environment(Path(tmp), port, "simulator")
        advent(env, "db", "upgrade")
        for n in range(3):
            advent(env, "phone", f"+44791112345{n}", "JOIN")
        load = os.getloadavg()[0]
        print(
            f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, load average {load:.1f} when started"
        )
        start_up(env, args.runs)
        top_imports(env)
        clock_memory(env, args.clock_seconds)
        web_memory(env, port, args.requests)


if __name__ == "__main__":
    main()
