# SPDX-License-Identifier: GPL-3.0-or-later
"""Notifications and the report's evidence through the CLI against a real test host.

Needs a prepared host in group app_servers (see tests/integration/test_outage.py):
RUNBOOK_TEST_INVENTORY (the test skips when unset) and RUNBOOK_TEST_HOST.
The webhook is a local receiver on 127.0.0.1 in this process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_notify import Receiver

pytestmark = pytest.mark.integration



def runbook(*args: str, runs: Path, notify_url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RUNBOOK_RUNS_DIR=str(runs), RUNBOOK_NOTIFY_URL=notify_url)
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run([sys.executable, "-m", "runbook", *args], env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=600)


def test_diagnose_posts_start_and_end_and_reports_the_evidence(test_host: tuple[str, str],
                                                               tmp_path: Path) -> None:
    inventory, host = test_host
    runs = tmp_path / "runs"
    with Receiver() as receiver:
        done = runbook("run", "diagnose", "-i", inventory, "--incident", "INC-77", runs=runs, notify_url=receiver.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stderr
    start, end = receiver.texts
    assert start.startswith(":arrow_forward: runbook started *diagnose*") and "Incident: INC-77" in start
    assert end.startswith(":white_check_mark: runbook finished *diagnose*: Succeeded (exit 0)")
    assert f"Hosts: {host}" in end.splitlines()

    (folder,) = runs.iterdir()
    assert f"Run: {folder.name}" in end and f"Report: {folder / 'report.md'}" in end
    report = (folder / "report.md").read_text()
    evidence = report.split("## Evidence before the fix")[1].split("## Result")[0]
    assert f"### {host}" in evidence
    assert "| Container | State | Since | Restarts | Health |" in evidence and "| backend-api-1 | running |" in evidence
    assert "| Mount | Size | Used | Avail | Use% |" in evidence
    assert "| / |" in evidence
    assert "Memory: total " in evidence
    assert json.loads((folder / "run.json").read_text())["incident"] == "INC-77"


def test_with_the_receiver_down_the_run_still_succeeds(test_host: tuple[str, str], tmp_path: Path) -> None:
    inventory, _ = test_host
    with Receiver() as receiver:
        dead_url = receiver.url  # closed when the block ends: nothing listens on that port any more
    done = runbook("run", "diagnose", "-i", inventory, runs=tmp_path / "runs", notify_url=dead_url)
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = done.stderr.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("runbook: warning: the notify webhook at http://127.0.0.1:")
    assert "/services/" not in done.stderr
