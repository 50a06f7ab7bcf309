# SPDX-License-Identifier: GPL-3.0-or-later
"""The drill's recovery of one host: `runbook triage --fix --yes --json`.

Triage diagnoses, runs the top verdict's scenario (with --yes: a staging host, a
drill), diagnoses again and says whether the symptom cleared; its circuit breaker
counts the drill's fixes as any other (runbook_triage_max_fixes per
runbook_triage_window on the host). This package's own CLI, run as a child with
the caller's environment (RUNBOOK_RUNS_DIR and all).
"""

from __future__ import annotations

import json
import os
import sys
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
    """Triage `host` and fix its top verdict; what was proposed, run, and how long each part took."""
    where: list[str] = []
    for source in inventory:
        where += ["-i", source]
    env = dict(os.environ, RUNBOOK_PROJECT_DIR=str(project))
    argv = [sys.executable, "-m", "runbook", "triage", "--fix", "--yes", "--json", *where, "--limit", host]
    fixed = call(argv, env, project, TRIAGE_TIMEOUT + FIX_TIMEOUT)
    found = Recovery()
    try:
        result = json.loads(fixed.stdout)["hosts"][host]
    except (ValueError, KeyError, TypeError):
        found.problem = f"triage gave no verdict (exit {fixed.exit_code}): {fixed.reason}"
        return found
    verdicts = result.get("verdicts") or []
    if not verdicts:
        found.problem = "triage found nothing to do"
        return found
    top = verdicts[0]
    found.scenario, found.command = str(top["scenario"]), str(top["command"])
    found.evidence = [str(line) for line in top.get("evidence", [])]
    detect = result.get("time_to_detect_s")
    found.detect_s = float(detect) if detect is not None else None
    fix = result.get("fix") or {}
    if fix:
        found.fix_exit_code = int(fix.get("exit_code", 1))
        found.fix_s = max(0.0, fixed.seconds - (found.detect_s or 0.0))
    if result.get("refused"):
        found.problem = f"triage did not fix it: {result['refused']}"
    elif not fix:
        found.problem = f"triage ran no fix (exit {fixed.exit_code})"
    elif found.fix_exit_code != 0:
        found.problem = f"runbook run {found.scenario} exited {found.fix_exit_code}"
    elif result.get("cleared") is False:
        found.problem = f"triage's re-diagnosis still shows it after {found.scenario}"
    return found
