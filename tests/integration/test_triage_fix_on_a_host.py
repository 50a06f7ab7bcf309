# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook triage --fix` against a real test host: a stopped api is fixed (outage) and reported cleared, with the
times in run.json; and the circuit breaker, pre-seeded on the host with three recent outage fixes, refuses a
fourth, names the contacts, and runs nothing.

Needs a prepared, healthy host (RUNBOOK_TEST_INVENTORY, RUNBOOK_TEST_HOST, RUNBOOK_TEST_APP_CONTAINER as in
test_triage_on_a_host.py). The host is left as it was found: the api runs, the fix log holds what it held (or is
gone, with the state folder when the test made it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostutil import healthy, on_host, state_dir_kept

pytestmark = pytest.mark.integration

STATE_DIR = "/var/lib/runbook"
FIX_LOG = f"{STATE_DIR}/triage-fixes.jsonl"


def triage_fix(inventories: list[str], host: str, runs: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    """The command line `runbook drill` uses: triage --fix --yes --json -i INV --limit HOST."""
    words = [sys.executable, "-m", "runbook", "triage", "--fix", "--yes", "--json"]
    for inventory in inventories:
        words += ["-i", inventory]
    done = subprocess.run([*words, "--limit", host], env=dict(os.environ, RUNBOOK_RUNS_DIR=str(runs)), text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=600)
    return done, json.loads(done.stdout)


@pytest.fixture
def stopped_api(test_host: tuple[str, str]) -> Iterator[tuple[str, str, str]]:
    """(inventory, container, host name) with the api stopped; afterwards the api runs and the fix log and the
    state folder are as they were."""
    inventory, container = test_host
    app = os.environ.get("RUNBOOK_TEST_APP_CONTAINER", "backend-api-1")
    assert healthy(container), "the test host is not healthy to start with"
    on_host(container, "docker", "stop", app)
    try:
        with state_dir_kept(container, STATE_DIR):  # the fix log, the breaker's run lock files
            yield inventory, container, container
    finally:
        on_host(container, "docker", "start", app, check=False)
        for _ in range(30):
            if healthy(container):
                break
            time.sleep(1)


def test_triage_fix_recovers_a_stopped_api_and_reports_it_cleared(stopped_api: tuple[str, str, str],
                                                                    tmp_path: Path) -> None:
    inventory, container, host = stopped_api
    start = time.monotonic()
    done, found = triage_fix([inventory], host, tmp_path / "runs")
    took = time.monotonic() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    result = found["hosts"][host]
    assert [verdict["scenario"] for verdict in result["verdicts"]] == ["outage"]
    assert result["fix"]["scenario"] == "outage" and result["fix"]["exit_code"] == 0
    assert result["cleared"] is True and result["refused"] is None
    assert 0 < result["time_to_detect_s"] < result["time_to_recover_s"] < took
    assert healthy(container)
    # one fix recorded on the host, by its clock
    (entry,) = [json.loads(line) for line in on_host(container, "cat", FIX_LOG).stdout.splitlines()[-1:]]
    assert entry["scenario"] == "outage" and abs(entry["epoch"] - int(on_host(container, "date", "+%s").stdout)) < 300

    # the diagnosis's run.json and report keep the triage: verdict, fix run, re-diagnosis, times
    kept = json.loads((Path(found["run_dir"]) / "run.json").read_text())["triage"]
    assert kept["diagnosis_run_id"] == found["run_id"] and kept["rediagnosis_run_id"] == found["rediagnosis_run_id"]
    assert kept["diagnosis_age_s"] <= 60
    assert kept["hosts"][host]["fix"] == result["fix"] and kept["hosts"][host]["cleared"] is True
    assert kept["hosts"][host]["time_to_recover_s"] == result["time_to_recover_s"]
    fix_record = json.loads((tmp_path / "runs" / result["fix"]["run_id"] / "run.json").read_text())
    assert (fix_record["scenario"], fix_record["result"], fix_record["limit"]) == ("outage", "ok", host)
    report = Path(found["report"]).read_text()
    assert "## Triage and fix" in report and result["fix"]["run_id"] in report
    print(f"triage --fix of a stopped api took {took:.1f}s (TTD {result['time_to_detect_s']} s, "
          f"TTR {result['time_to_recover_s']} s)")


def test_the_breaker_refuses_a_fourth_fix_within_the_window_and_names_the_contacts(
        stopped_api: tuple[str, str, str], tmp_path: Path) -> None:
    inventory, container, host = stopped_api
    now = int(on_host(container, "date", "+%s").stdout)
    seeded = "".join(json.dumps({"epoch": now - minutes * 60, "scenario": "outage", "operator": "test@seed",
                                 "token": "seed"}) + "\n" for minutes in (50, 20, 5))
    on_host(container, "mkdir", "-p", STATE_DIR)
    # exactly these three, whatever an earlier run left (the fixture puts the log back afterwards)
    on_host(container, "python3", "-c", "import sys; open(sys.argv[1], 'w').write(sys.argv[2])", FIX_LOG, seeded)
    contacts = tmp_path / "contacts.yml"
    contacts.write_text("app_servers:\n  vars:\n    runbook_escalation_contacts:\n      hosting:\n"
                        "        name: Hosting on-call\n        contact: +49 30 1234567\n")
    runs = tmp_path / "runs"

    start = time.monotonic()
    done, found = triage_fix([inventory, str(contacts)], host, runs)
    took = time.monotonic() - start
    assert done.returncode == 4, done.stdout[-3000:] + done.stderr[-3000:]
    result = found["hosts"][host]
    assert result["fix"] is None and result["cleared"] is None
    assert "circuit breaker: outage was already run 3 times" in result["refused"]
    assert "escalate to Hosting on-call: +49 30 1234567" in done.stderr
    assert [item["name"] for item in result["escalate"]] == ["Hosting on-call"]
    # nothing ran: only the diagnosis is kept, the api is still down, no fourth entry
    assert [run.name.split("-", 2)[-1] for run in runs.iterdir()] == ["diagnose"]
    assert not healthy(container)
    assert on_host(container, "cat", FIX_LOG).stdout.count('"scenario": "outage"') == 3
    print(f"triage --fix refused by the breaker in {took:.1f}s")
