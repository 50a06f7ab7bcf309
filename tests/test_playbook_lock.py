"""Two runs on one host never interleave: a run that finds the lock held waits,
then refuses with a clear message and changes nothing; a lock left by a dead
run is taken over. Runs the real playbook against the prepared test host."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("RUNBOOK_TEST_HOST", "")
INVENTORY = os.environ.get("RUNBOOK_TEST_INVENTORY", "")
LOCK = "/var/lib/runbook/run.lock"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (HOST and INVENTORY), reason="needs RUNBOOK_TEST_HOST and RUNBOOK_TEST_INVENTORY (make integration)"),
]


def on_host(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", HOST, *argv], capture_output=True, text=True)


def health() -> str:
    return on_host("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3",
                   "http://localhost:3000/health").stdout


def plant_lock(age_seconds: float) -> None:
    owner = {"owner": "another run", "started": "earlier", "epoch": time.time() - age_seconds}
    on_host("mkdir", "-p", LOCK)
    on_host("sh", "-c", f"echo '{json.dumps(owner)}' > {LOCK}/owner")


def run_outage(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, "playbooks/outage.yml", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture()
def api_stopped():
    on_host("docker", "stop", "backend-api-1")
    assert health() != "200"
    yield
    on_host("rm", "-rf", LOCK)
    on_host("docker", "start", "backend-api-1")


def test_second_run_refuses_and_changes_nothing(api_stopped):
    plant_lock(age_seconds=0)
    result = run_outage("-e", "runbook_lock_wait=4")
    assert result.returncode != 0
    assert "Refused: another runbook run holds the lock on this host (another run" in result.stdout
    # Nothing was touched: the api is still down, the foreign lock is still there.
    assert health() != "200"
    assert on_host("test", "-d", LOCK).returncode == 0


def test_lock_left_by_a_dead_run_is_taken_over(api_stopped):
    plant_lock(age_seconds=3 * 3600)
    result = run_outage()
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Taking over a stale lock" in result.stdout
    assert health() == "200"
    # The run gave its lock back.
    assert on_host("test", "-e", LOCK).returncode != 0
