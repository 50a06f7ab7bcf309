# SPDX-License-Identifier: GPL-3.0-or-later
"""A non-root login plus become recovers the outage on a real test host.

The test host gets a user `deployer` with passwordless sudo, whose sudo calls are
logged to their own file; the api container is stopped (an outage). Then:
- `runbook run outage -u deployer` (no -b) fails cleanly: exit 1 at the run lock,
  the reason shown, nothing on the host changed;
- `runbook run outage -u deployer -b` recovers it, and the sudo log proves each
  task ran as deployer through sudo: its lines carry this run's lock token.
The host uses the docker connection, where -u is `docker exec --user`.

Needs RUNBOOK_TEST_INVENTORY and RUNBOOK_TEST_HOST (see tests/integration/test_outage.py);
the user and its sudoers file are removed afterwards.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostutil import HEALTH, healthy, on_host

pytestmark = pytest.mark.integration

USER = "deployer"
SUDOERS = f"/etc/sudoers.d/runbook-test-{USER}"
SUDO_LOG = f"/var/log/sudo-{USER}.log"
STATE_DIR = "/var/lib/runbook"



def runbook(*args: str, runs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", *args], env=dict(os.environ, RUNBOOK_RUNS_DIR=str(runs)),
                          text=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=1200)


def container_state(container: str, app: str) -> str:
    return on_host(container, "docker", "inspect", "-f", "{{.State.Status}} {{.State.StartedAt}}", app).stdout.strip()


def sudo_log(container: str) -> str:
    return on_host(container, "cat", SUDO_LOG, check=False).stdout


def state_dir_listing(container: str) -> str:
    return on_host(container, "sh", "-c", f"ls -la --time-style=+%s {STATE_DIR} 2>&1 || true").stdout


def only_record(runs: Path) -> dict[str, object]:
    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    return json.loads((folder / "run.json").read_text())


@pytest.fixture
def become_host(test_host: tuple[str, str]) -> Iterator[tuple[str, str, str]]:
    """(inventory, container, api container) of a host with a sudo user; the app stopped."""
    inventory, container = test_host
    app = os.environ.get("RUNBOOK_TEST_APP_CONTAINER", "backend-api-1")
    assert on_host(container, "sh", "-c", "command -v sudo", check=False).returncode == 0, (
        "the test host has no sudo: rebuild the image (make images)")
    on_host(container, "useradd", "--create-home", "--shell", "/bin/bash", USER)
    try:
        on_host(container, "sh", "-c",
                f"printf '%s\\n' '{USER} ALL=(ALL) NOPASSWD: ALL' 'Defaults:{USER} logfile={SUDO_LOG}' > {SUDOERS}"
                f" && chmod 0440 {SUDOERS} && visudo -cf {SUDOERS}")
        on_host(container, "docker", "stop", app)
        assert not healthy(container), "the host is not broken"
        yield inventory, container, app
    finally:
        on_host(container, "docker", "start", app, check=False)
        on_host(container, "rm", "-f", SUDOERS, SUDO_LOG, check=False)
        on_host(container, "userdel", "--remove", USER, check=False)


def test_without_become_a_non_root_login_fails_cleanly_and_changes_nothing(
    become_host: tuple[str, str, str], tmp_path: Path
) -> None:
    inventory, container, app = become_host
    runs = tmp_path / "runs"
    before = (container_state(container, app), state_dir_listing(container), sudo_log(container))

    run = runbook("run", "outage", "-i", inventory, "-u", USER, runs=runs)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert re.search(r"Take the run lock.* failed.*Cannot write the run lock under /var/lib/runbook as deployer \(Permission denied\): log in as root or add become", output), output[-3000:]
    assert "Failed (exit 1)" in output
    record = only_record(runs)
    assert record["result"] == "failed" and record["exit_code"] == 1
    assert f"-u {USER}" in str(record["command"]) and " -b" not in str(record["command"])

    # the login really was deployer (refused where root is not), and nothing moved on the host
    assert (container_state(container, app), state_dir_listing(container), sudo_log(container)) == before
    assert container_state(container, app).startswith("exited")
    assert not healthy(container)


def test_a_non_root_login_with_become_recovers_the_outage(become_host: tuple[str, str, str], tmp_path: Path) -> None:
    inventory, container, _ = become_host
    runs = tmp_path / "runs"

    run = runbook("run", "outage", "-i", inventory, "-u", USER, "-b", "--yes", runs=runs)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert healthy(container)
    record = only_record(runs)
    assert record["result"] == "ok" and record["hosts"] == [container]
    assert f"-u {USER}" in str(record["command"]) and " -b" in str(record["command"])

    # The run's modules reached the host as deployer and went through sudo to root: sudo logged
    # them with the run's own lock token, which only this run's tasks carry (RUNBOOK_RUN_TOKEN).
    # (4 or more: the diagnosis, which also polls the check before the fix and takes the lock, the compose
    # start, the health gate and the lock's release; set_fact, debug and imports run on the controller.)
    token = str(record["lock_token"])
    entries = re.split(r"\n(?=\S)", sudo_log(container))
    ours = [entry for entry in entries if f"RUNBOOK_RUN_TOKEN={token}" in entry]
    assert len(ours) >= 4, entries[-5:]
    assert all(re.search(rf": {USER} : .*USER=root ; COMMAND=/bin/sh -c 'echo\s+BECOME-SUCCESS-", entry, re.S)
               for entry in ours), ours[:3]

    # giving a lock back (unlock-stale) logs in the same way and reaches the host too
    logged = len(entries)
    unlock = runbook("unlock-stale", "-i", inventory, "-u", USER, "-b", runs=runs)
    assert unlock.returncode == 0, unlock.stdout[-2000:] + unlock.stderr[-2000:]
    assert len(re.split(r"\n(?=\S)", sudo_log(container))) > logged
