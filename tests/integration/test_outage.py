# SPDX-License-Identifier: GPL-3.0-or-later
"""The outage scenario through the CLI against a real test host.

Needs a prepared, healthy host in group app_servers (image from
testbed/build-images.sh):
  RUNBOOK_TEST_INVENTORY  inventory file for that host (the test skips when unset)
  RUNBOOK_TEST_HOST       its container name (for docker exec)
  RUNBOOK_TEST_APP_CONTAINER  the API container inside it (default backend-api-1)
  RUNBOOK_TEST_ENV_FILE   the app's .env inside it (default /root/echoelmusic/backend/.env)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hostutil import HEALTH, on_host

pytestmark = pytest.mark.integration

PLANTED = "sk_live_PLANTEDintegration0123456789"
SECTIONS = ["## Summary", "## Timeline", "## Root Cause", "## Impact", "## Resolution",
            "## Prevention", "## Action Items", "## Lessons Learned"]




def runbook(*args: str, runs: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RUNBOOK_RUNS_DIR=str(runs), STRIPE_SECRET_KEY=PLANTED)
    return subprocess.run([sys.executable, "-m", "runbook", *args], env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=1200)


def test_outage_recovers_a_broken_host(test_host: tuple[str, str], tmp_path: Path) -> None:
    inventory, container = test_host
    app = os.environ.get("RUNBOOK_TEST_APP_CONTAINER", "backend-api-1")
    env_file = os.environ.get("RUNBOOK_TEST_ENV_FILE", "/root/echoelmusic/backend/.env")
    runs = tmp_path / "runs"

    on_host(container, "sh", "-c", f"printf '\\nPLANTED_SECRET_KEY={PLANTED}\\n' >> {env_file}")
    try:
        on_host(container, "docker", "stop", app)
        assert on_host(container, "python3", "-c", HEALTH, check=False).returncode != 0, "the host is not broken"

        run = runbook("run", "outage", "-i", inventory, runs=runs)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert on_host(container, "python3", "-c", HEALTH).stdout.strip() == "200"

        (folder,) = [path for path in runs.iterdir() if path.is_dir()]
        record = json.loads((folder / "run.json").read_text())
        assert record["result"] == "ok" and record["exit_code"] == 0 and record["hosts"]
        report = (folder / "report.md").read_text()
        assert report.startswith("# Incident Report: Complete service outage")
        assert "**Severity:** P0" in report
        # the health_check role published when the api was first seen down and healthy again
        (seen,) = record["published"]["runbook_recovery"].values()
        assert seen["last_healthy"] is True and float(seen["down_at"]) < float(seen["healthy_at"])
        assert re.search(r"\*\*Time to recover:\*\* [0-9.]+s \(first seen down [0-9:]+, healthy again", report), report
        for section in SECTIONS:
            assert f"\n{section}\n" in report, section

        bad = runbook("run", "outage", "-i", inventory, "-e", "bogus=1", runs=runs)
        assert bad.returncode == 2
        assert bad.stderr.startswith("runbook: error: ") and bad.stderr.count("\n") == 1
        assert [path for path in runs.iterdir() if path.is_dir()] == [folder]

        kept = "\n".join(path.read_text(errors="replace") for path in runs.rglob("*") if path.is_file())
        for text in (kept, run.stdout, run.stderr):
            assert PLANTED not in text
    finally:
        on_host(container, "sed", "-i", f"/{PLANTED}/d", env_file, check=False)


def test_outage_resumes_a_paused_api_without_recreating_it(test_host: tuple[str, str], tmp_path: Path) -> None:
    """`docker compose up` refuses a paused container; the outage resumes it (same container)."""
    inventory, container = test_host
    app = os.environ.get("RUNBOOK_TEST_APP_CONTAINER", "backend-api-1")
    compose_dir = os.path.dirname(os.environ.get("RUNBOOK_TEST_ENV_FILE", "/root/echoelmusic/backend/.env"))
    # In step with the compose file and .env first (an earlier test edits .env), so that
    # only the pause is wrong and a recreate would show.
    on_host(container, "sh", "-c", f"cd {compose_dir} && docker compose up -d --wait")
    before = on_host(container, "docker", "inspect", "-f", "{{.Id}}", app).stdout.strip()
    on_host(container, "docker", "pause", app)
    try:
        assert on_host(container, "python3", "-c", HEALTH, check=False).returncode != 0, "the host is not broken"
        run = runbook("run", "outage", "-i", inventory, runs=tmp_path / "runs")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert on_host(container, "python3", "-c", HEALTH).stdout.strip() == "200"
        assert on_host(container, "docker", "inspect", "-f", "{{.Id}} {{.State.Status}}", app).stdout.split() == [
            before, "running"]
    finally:
        on_host(container, "docker", "unpause", app, check=False)
