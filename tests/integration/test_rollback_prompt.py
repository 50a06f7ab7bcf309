# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook run rollback` on a terminal, against a real test host: before it asks, it names
each host and its from -> to, read by the playbook's own read-only probe (--check); a host
it cannot reach is said as such and the question is still asked. Answering anything but
the scenario's name refuses (exit 4) and nothing on the host changed.

Needs the prepared test host of testbed/integration.sh (RUNBOOK_TEST_INVENTORY, RUNBOOK_TEST_HOST;
the app's work tree RUNBOOK_TEST_REPO_DIR, default /root/echoelmusic); skips without one.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostutil import on_host

pytestmark = pytest.mark.integration

QUESTION = b"Type 'rollback' to run it: "


def sha(container: str, name: str) -> str:
    repo = os.environ.get("RUNBOOK_TEST_REPO_DIR", "/root/echoelmusic")
    return on_host(container, "git", "-C", repo, "rev-parse", name + "^{commit}").stdout.strip()


def on_a_terminal(args: list[str], runs: Path, answer: bytes, timeout: float = 180) -> tuple[int, str]:
    """Run the CLI with stdin and stderr on a pseudo-terminal; answer once the question shows."""
    leader, follower = pty.openpty()
    env = dict(os.environ, RUNBOOK_RUNS_DIR=str(runs))
    proc = subprocess.Popen([sys.executable, "-m", "runbook", *args], stdin=follower, stdout=follower,
                            stderr=follower, env=env, close_fds=True)
    os.close(follower)
    seen, answered, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the CLI ended and closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and QUESTION in seen:
                os.write(leader, answer + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        return proc.wait(timeout=30), seen.decode("utf-8", "replace").replace("\r\n", "\n")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)


def test_the_prompt_names_each_host_and_from_to_and_a_no_changes_nothing(
        test_host: tuple[str, str], tmp_path: Path) -> None:
    inventory, container = test_host
    head = sha(container, "HEAD")
    target = sha(container, "HEAD~1")
    repo = os.environ.get("RUNBOOK_TEST_REPO_DIR", "/root/echoelmusic")
    on_host(container, "git", "-C", repo, "tag", "-f", "prompt-target", target)
    # the test host, and one that does not exist: said, and the question still comes
    ghost = tmp_path / "ghost.yml"
    ghost.write_text("app_servers:\n  hosts:\n    ghost-host:\n      ansible_connection: community.docker.docker\n"
                     "      ansible_host: runbook-no-such-container\n")
    try:
        code, out = on_a_terminal(["run", "rollback", "-i", inventory, "-i", str(ghost), "-e", "commit=prompt-target"],
                                  tmp_path / "runs", b"no")
    finally:
        on_host(container, "git", "-C", repo, "tag", "-d", "prompt-target")
    assert code == 4, out
    assert "rollback on " in out and "ghost-host" in out, out
    host_line = [line for line in out.splitlines() if "(tag prompt-target)" in line]
    assert len(host_line) == 1, out
    assert f"{head[:12]} (" in host_line[0] and f"-> {target[:12]} (tag prompt-target)" in host_line[0], out
    ghost_line = [line for line in out.splitlines() if line.strip().startswith("ghost-host:")]
    assert len(ghost_line) == 1 and ("cannot reach" in ghost_line[0] or "could not be probed" in ghost_line[0]), out
    assert QUESTION.decode() in out and "rollback not confirmed" in out, out
    # read-only: the tree, the ledger and the lock are as they were
    assert sha(container, "HEAD") == head
    assert not list((tmp_path / "runs").glob("*/run.json")), "a refused prompt keeps no run"


def test_a_refused_target_is_said_before_the_question(test_host: tuple[str, str], tmp_path: Path) -> None:
    inventory, container = test_host
    code, out = on_a_terminal(["run", "rollback", "-i", inventory, "-e", "commit=refs/tags/no-such-tag"],
                              tmp_path / "runs", b"no")
    assert code == 4, out
    line = [line for line in out.splitlines() if "refused: Refused target" in line]
    assert len(line) == 1 and "no tag no-such-tag pointing at a commit" in line[0], out
    assert QUESTION.decode() in out, out
