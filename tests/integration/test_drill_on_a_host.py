# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook drill` against the real shared test host: refused while the inventory does not mark it
runbook_staging: true (exit 2, the host untouched), then the api-stopped drill on a copy of the
inventory that marks it: triage proposes outage, the host recovers, the report and chart are written,
and the host is left as found (the drill compares its snapshots; this test checks the api itself).
About a minute and a half: one drill. `make drill` runs them all on a host of its own.
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
import yaml
from hostutil import healthy, on_host, state_dir_kept

pytestmark = pytest.mark.integration

API = os.environ.get("RUNBOOK_TEST_APP_CONTAINER", "backend-api-1")


def drill(inventory: Path | str, runs: Path, *words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", "drill", *words, "-i", str(inventory)],
                          env=dict(os.environ, RUNBOOK_RUNS_DIR=str(runs)), text=True, capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=900)


def api_started(container: str) -> str:
    return on_host(container, "docker", "inspect", "-f", "{{.State.StartedAt}} {{.State.Status}}", API).stdout.strip()


def marked(inventory: str, folder: Path) -> Path:
    """A copy of the test inventory whose app_servers hosts carry runbook_staging: true."""
    data: dict[str, Any] = yaml.safe_load(Path(inventory).read_text())
    for values in data["app_servers"]["hosts"].values():
        values["runbook_staging"] = True
    copy = folder / "staging.yml"
    copy.write_text(yaml.safe_dump(data))
    return copy


def test_an_unmarked_host_is_refused_with_exit_2_and_left_untouched(test_host: tuple[str, str],
                                                                   tmp_path: Path) -> None:
    inventory, container = test_host
    assert healthy(container), "the test host is not healthy to start with"
    before = api_started(container)
    done = drill(inventory, tmp_path / "runs", "--all")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("runbook: error: refused: not marked runbook_staging: true in the inventory: ")
    assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert api_started(container) == before and healthy(container)  # not stopped, not restarted
    assert not (tmp_path / "runs").exists()


def test_the_api_stopped_drill_recovers_reports_and_leaves_the_host_as_found(test_host: tuple[str, str],
                                                                             tmp_path: Path) -> None:
    inventory, container = test_host
    assert healthy(container), "the test host is not healthy to start with"
    start = time.monotonic()
    # triage --fix's circuit breaker records the fix on the host: later tests count on the folder as it was
    with state_dir_kept(container):
        done = drill(marked(inventory, tmp_path), tmp_path / "runs", "api-stopped", "--json")
    took = time.monotonic() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = json.loads(done.stdout)
    (result,) = found["drills"]
    assert (result["drill"], result["expected"], result["proposed"]) == ("api-stopped", "outage", "outage")
    assert result["passed"] and result["left_as_found"] and result["differences"] == []
    assert 0 < result["detect_s"] <= result["recover_s"] <= 900
    assert "inject api_stopped" in done.stderr and "undo api_stopped" in done.stderr
    report = Path(found["report"]).read_text()
    assert "| api-stopped |" in report and "| pass | y |" in report
    assert Path(found["chart"]).read_text().startswith("<svg ")
    # the recovery really ran outage, as a kept run
    runs = [json.loads(path.read_text()) for path in (tmp_path / "runs").glob("*/run.json")]
    assert ("outage", "ok") in {(run["scenario"], run["result"]) for run in runs}
    assert healthy(container) and api_started(container).endswith(" running")
    print(f"the api-stopped drill took {took:.1f}s (detect {result['detect_s']}s, recover {result['recover_s']}s)")
