# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for integration tests that act on the prepared test host (a container).

The host comes from RUNBOOK_TEST_HOST / RUNBOOK_TEST_INVENTORY (testbed/integration.sh
sets both); the `test_host` fixture in conftest.py hands them to a test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run inside the host: prints the status /health answers (raises when nothing answers).
HEALTH = ("import urllib.request; "
          "print(urllib.request.urlopen('http://localhost:3000/health', timeout=10).status)")


def on_host(container: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", container, *command], text=True, capture_output=True,
                          timeout=120, check=check)


def healthy(container: str) -> bool:
    return on_host(container, "python3", "-c", HEALTH, check=False).stdout.strip() == "200"


STATE_DIR = "/var/lib/runbook"  # the fixture's runbook_state_dir (the contract's default)


def failing_before(name: str, marker: str, dest: Path) -> Path:
    """A copy of playbooks/<name> with one failing task inserted before the task named `marker`
    (at its indentation): a failure at that exact step of the real playbook. The copy lives in
    `dest`; run it from ROOT so the repository's ansible.cfg finds the roles and collections."""
    lines = (ROOT / "playbooks" / name).read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {marker}")
    pad = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    task = [f"{pad}- name: Fail here (a failure injected by the test)\n",
            f"{pad}  ansible.builtin.fail:\n",
            f"{pad}    msg: injected failure before {marker}\n",
            f"{pad}  tags: [always]\n\n"]
    copy = dest / name
    copy.write_text("".join(lines[:at] + task + lines[at:]))
    return copy


@contextmanager
def state_dir_kept(container: str, state_dir: str = STATE_DIR) -> Iterator[None]:
    """Put the host's runbook state folder back as it was after the block: the run lock's files, the
    release ledger, triage's fix log (the circuit breaker counts it). Gone again when it was not there;
    else its copy, taken before, replaces it. Later tests on the shared host see what they expect."""
    kept = f"/root/.state-kept-{Path(state_dir).name}"
    existed = on_host(container, "test", "-d", state_dir, check=False).returncode == 0
    if existed:
        on_host(container, "rm", "-rf", kept)
        on_host(container, "cp", "-a", state_dir, kept)
    try:
        yield
    finally:
        on_host(container, "rm", "-rf", state_dir)
        if existed:
            on_host(container, "mv", kept, state_dir)


def interrupt_playbook(proc: subprocess.Popen, first_wait: float = 20, second_wait: float = 60) -> None:
    """Ctrl-C a bare ansible-playbook and wait for it to end.

    ansible-core 2.19 can take one SIGINT as "stop this task" and go on with the next
    (ansible/ansible#86078; seen once in CI): a second one stops it, as an operator
    would press Ctrl-C again. Raises subprocess.TimeoutExpired if even that does not.
    """
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=first_wait)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=second_wait)


def run_testhost(*args: str) -> None:
    """testbed/testhost.py up NAME INVENTORY or down NAME: a test host of a test module's own."""
    subprocess.run([sys.executable, "testbed/testhost.py", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
