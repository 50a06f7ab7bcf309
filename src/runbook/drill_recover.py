# SPDX-License-Identifier: GPL-3.0-or-later
"""The drill's recovery of one host: triage names the scenario, the drill runs it.

One small function, so that it can switch to `runbook triage --fix --yes --json`
(which diagnoses, runs the top verdict and re-diagnoses by itself) once that
exists: today it is `runbook triage --json` for the verdict, then `runbook run
SCENARIO --yes` with the verdict's -e values. Both are this package's own CLI,
run as children with the caller's environment (RUNBOOK_RUNS_DIR and all).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from runbook.drill_host import call

TRIAGE_TIMEOUT = 300.0
FIX_TIMEOUT = 1200.0


@dataclass
class Recovery:
    scenario: str = ""  # the top verdict's scenario; "" when triage proposed nothing
    command: str = ""  # what triage proposed
    detect_s: float | None = None  # from the call to the verdict
    fix_exit_code: int | None = None  # the scenario run's exit code; None when nothing ran
    fix_s: float | None = None
    problem: str = ""  # why no verdict or no fix, or ""
    evidence: list[str] = field(default_factory=list)


def recover(project: Path, inventory: list[str], host: str) -> Recovery:
    """Diagnose `host`, run its top verdict's scenario (with --yes: a staging host, a drill)."""
    runbook = [sys.executable, "-m", "runbook"]
    where: list[str] = []
    for source in inventory:
        where += ["-i", source]
    env = dict(os.environ, RUNBOOK_PROJECT_DIR=str(project))
    start = time.monotonic()
    triage = call([*runbook, "triage", "--json", *where, "--limit", host], env, project, TRIAGE_TIMEOUT)
    found = Recovery(detect_s=time.monotonic() - start)
    try:
        verdicts = json.loads(triage.stdout)["hosts"][host]["verdicts"]
    except (ValueError, KeyError, TypeError):
        found.problem = f"triage gave no verdict (exit {triage.exit_code}): {triage.reason}"
        return found
    if not verdicts:
        found.problem = "triage found nothing to do"
        return found
    top = verdicts[0]
    found.scenario, found.command = str(top["scenario"]), str(top["command"])
    found.evidence = [str(line) for line in top.get("evidence", [])]
    extra: list[str] = []
    for name, value in (top.get("vars") or {}).items():
        extra += ["-e", f"{name}={value}"]
    fix = call([*runbook, "run", found.scenario, "--yes", *where, "--limit", host, *extra], env, project,
               FIX_TIMEOUT)
    found.fix_exit_code, found.fix_s = fix.exit_code, fix.seconds
    if fix.exit_code != 0:
        found.problem = f"runbook run {found.scenario} exited {fix.exit_code}"
    return found

