# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook triage` against a real test host: a stopped api is an outage, with the command to run.

Needs a prepared, healthy host (see test_outage.py: RUNBOOK_TEST_INVENTORY, RUNBOOK_TEST_HOST,
RUNBOOK_TEST_APP_CONTAINER). The host is left as it was found: the api is started again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hostutil import healthy, on_host

pytestmark = pytest.mark.integration


# A test host shares the machine's kernel and CPUs with every other test: its host-wide CPU, load and kernel log
# (OOM kills) are the machine's. This test is about the api, so those limits are out of reach here (a second
# inventory, as an operator sets them per group).
MACHINE_WIDE = "all:\n  vars:\n    diagnose_cpu_pct_max: 101\n    diagnose_oom_window: 0\n"


def triage(inventory: str, runs: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], float]:
    """`runbook triage --json` with the test host's inventory and MACHINE_WIDE, its JSON and how long it took."""
    limits = runs.parent / "limits.yml"
    limits.write_text(MACHINE_WIDE, encoding="utf-8")
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "runbook", "triage", "-i", inventory, "-i", str(limits), "--json"],
                          env=dict(os.environ, RUNBOOK_RUNS_DIR=str(runs)), text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    took = time.monotonic() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads(done.stdout), took


def test_triage_names_outage_for_a_stopped_api_and_nothing_once_it_runs(test_host: tuple[str, str],
                                                                        tmp_path: Path) -> None:
    inventory, container = test_host
    app = os.environ.get("RUNBOOK_TEST_APP_CONTAINER", "backend-api-1")
    runs = tmp_path / "runs"
    assert healthy(container), "the test host is not healthy to start with"
    on_host(container, "docker", "stop", app)
    try:
        _, found, took = triage(inventory, runs)
    finally:
        on_host(container, "docker", "start", app)

    ((host, result),) = found["hosts"].items()
    assert result["diagnosed"] is True
    (verdict,) = result["verdicts"]
    assert (verdict["severity"], verdict["scenario"], verdict["rules"]) == ("P0", "outage",
                                                                           ["container-down", "api-unhealthy"])
    assert verdict["evidence"][0] == f"container {app}: exited (restarts: 0)"
    assert verdict["command"] == f"runbook run outage -i {inventory} -i {runs.parent / 'limits.yml'} --limit {host}"
    # the diagnosis is kept as a run, like `runbook run diagnose`, with what was typed
    record = json.loads((Path(found["run_dir"]) / "run.json").read_text())
    assert (record["scenario"], record["result"]) == ("diagnose", "ok")
    assert record["command"] == f"runbook triage -i {inventory} -i {runs.parent / 'limits.yml'}"
    assert Path(found["report"]).is_file()
    print(f"triage of a stopped api took {took:.1f}s")

    for _ in range(30):  # the api answers again within seconds of its start
        if healthy(container):
            break
        time.sleep(1)
    done, found, _ = triage(inventory, runs)
    assert found["hosts"][host] == {"diagnosed": True, "verdicts": []}, done.stdout
