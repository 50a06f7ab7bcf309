# SPDX-License-Identifier: GPL-3.0-or-later
"""Run molecule scenarios, time every step, print where the time went.

    python testbed/suite.py [--jobs N] [SCENARIO ...]

Runs `molecule test -s SCENARIO` for each scenario (all under molecule/ when
none is named), up to N at a time (default $RUNBOOK_TEST_JOBS, else 1). Each
scenario's output goes to .cache/molecule-logs/SCENARIO.log; the time of each
molecule step (create, prepare, converge, idempotence, check, verify, destroy)
is taken from when molecule announces it. At the end: one table, slowest
scenario first, and .cache/molecule-timings.json. A failing scenario's log tail
is printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".cache" / "molecule-logs"
TIMINGS = ROOT / ".cache" / "molecule-timings.json"
STEPS = ("create", "prepare", "converge", "idempotence", "check", "verify", "destroy")
# molecule announces each step as "<scenario> ➜ <step>: Executing" (with colours).
_STEP = re.compile(r"➜\s+(\w+):\s+Executing")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_print_lock = threading.Lock()


@dataclass
class Result:
    scenario: str
    ok: bool = False
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds (destroy: both runs added)


def scenarios() -> list[str]:
    return sorted(path.parent.name for path in (ROOT / "molecule").glob("*/molecule.yml"))


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def run_one(scenario: str) -> Result:
    """molecule test -s SCENARIO, its output to its own log, each step timed."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{scenario}.log"
    result = Result(scenario)
    say(f"=== molecule test -s {scenario} (log: {log_path.relative_to(ROOT)})")
    start = time.monotonic()
    step, step_start = "start", start
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(["molecule", "test", "-s", scenario], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            found = _STEP.search(_ANSI.sub("", line))
            if found:
                now = time.monotonic()
                result.steps[step] = result.steps.get(step, 0.0) + now - step_start
                step, step_start = found.group(1), now
        proc.wait()
    end = time.monotonic()
    result.steps[step] = result.steps.get(step, 0.0) + end - step_start
    result.seconds = end - start
    result.ok = proc.returncode == 0
    say(f"=== {scenario}: {'ok' if result.ok else 'FAILED'} in {result.seconds:.0f}s")
    return result


def table(results: list[Result], wall: float, jobs: int) -> str:
    head = f"{'scenario':<18}{'result':<8}{'total':>7}" + "".join(f"{step:>12}" for step in STEPS) + f"{'other':>8}"
    lines = ["", "molecule scenarios, slowest first (seconds):", head]
    for res in sorted(results, key=lambda r: r.seconds, reverse=True):
        shown = sum(res.steps.get(step, 0.0) for step in STEPS)
        cells = "".join(f"{res.steps.get(step, 0.0):>12.0f}" for step in STEPS)
        lines.append(f"{res.scenario:<18}{'ok' if res.ok else 'FAILED':<8}{res.seconds:>7.0f}{cells}"
                     f"{res.seconds - shown:>8.0f}")
    total = sum(res.seconds for res in results)
    mean = total / len(results) if results else 0.0
    lines.append(f"{len(results)} scenarios: {total:.0f}s of scenario time, {mean:.0f}s each on average; "
                 f"wall time {wall:.0f}s with {jobs} at a time")
    return "\n".join(lines)


def report() -> int:
    """The table of the last run (from .cache/molecule-timings.json)."""
    try:
        data = json.loads(TIMINGS.read_text())
    except (OSError, ValueError):
        print("suite: no timings kept yet (run the molecule scenarios first)")
        return 0
    print(table([Result(**item) for item in data["scenarios"]], data["wall"], data["jobs"]))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("RUNBOOK_TEST_JOBS", "1")))
    parser.add_argument("--report", action="store_true", help="print the last run's table again and exit")
    parser.add_argument("scenario", nargs="*")
    args = parser.parse_args(argv)
    if args.report:
        return report()
    names = args.scenario or scenarios()
    unknown = sorted(set(names) - set(scenarios()))
    if unknown:
        print(f"suite: no such molecule scenario: {', '.join(unknown)} (known: {', '.join(scenarios())})",
              file=sys.stderr)
        return 2
    jobs = max(1, args.jobs)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(run_one, names))
    wall = time.monotonic() - start
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps({"jobs": jobs, "wall": wall, "scenarios": [asdict(r) for r in results]}, indent=2))
    for res in results:
        if not res.ok:
            tail = (LOGS / f"{res.scenario}.log").read_text(encoding="utf-8", errors="replace").splitlines()[-80:]
            print(f"\n--- {res.scenario} failed; the end of its log:", *tail, sep="\n")
    print(table(results, wall, jobs))
    return 0 if all(res.ok for res in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
