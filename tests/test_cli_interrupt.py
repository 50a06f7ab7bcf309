# SPDX-License-Identifier: GPL-3.0-or-later
"""Ctrl-C, SIGTERM and SIGHUP during `runbook run`: the playbook and everything it
started stop, the run lock is given back with the run's token, run.json ends as
"interrupted", exit 130, and the private temporary folder is gone.

The CLI runs as a subprocess against this machine (connection local) with the
fixture project, whose playbooks/internal/release_lock.yml records the token it
received. TMPDIR and Ansible's temporary folders are under the test's tmp_path,
so leftovers of this run (folders, processes) can be told apart from others'.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import readable_events, released
from runbook.interrupt import Interrupt
from runbook.proctree import ProcessTree, alive, command_line, start_time

HAS_PROC = Path("/proc/self/stat").is_file()


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the running processes that mention text (a path under tmp_path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            line = command_line(int(entry.name))
            if text in line:
                found.append(f"{entry.name}: {line}")
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever reaps orphans here)."""
    return alive(pid) and start_time(pid) is not None


def as_on_a_terminal() -> None:
    """The CLI as an operator starts it: the signals at their defaults. A suite started in the
    background (SIGINT ignored) or under nohup (SIGHUP ignored) would otherwise pass that on,
    and the CLI rightly keeps ignoring what its caller ignores."""
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


def wait_for_the_waiting_task(runs: Path, proc: subprocess.Popen[str], tmp_path: Path) -> int:
    """Block until the playbook sits in its wait_for task; ansible-playbook's pid (from the events)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the run ended early: {proc.communicate()}")
        events = list(readable_events(runs))
        waiting = any(event.get("event_data", {}).get("task") == "Wait a little" for event in events)
        # the module process itself runs (from Ansible's temporary folder under tmp_path)
        if waiting and any("AnsiballZ_wait_for" in line for line in processes_mentioning(str(tmp_path))):
            return int(next(event["pid"] for event in events if event.get("pid")))
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the run never reached the waiting task")


@pytest.mark.skipif(not HAS_PROC, reason="looks for leftover processes in /proc")
@pytest.mark.parametrize(
    ("signum", "twice"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGHUP, False), (signal.SIGTERM, True)],
    ids=["SIGTERM", "SIGINT", "SIGHUP", "SIGTERM-twice"],
)
def test_a_signal_stops_the_run_gives_the_lock_back_and_leaves_nothing_behind(
    signum: signal.Signals, twice: bool, project: Path, runs: Path, inventory: Path, tmp_path: Path
) -> None:
    tmpdir, state = tmp_path / "tmp", tmp_path / "state-of-the-run"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "ANSIBLE_REMOTE_TMP": str(tmp_path / "ansible-remote"),
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local")}
    proc = subprocess.Popen([sys.executable, "-m", "runbook", "run", "scenario", "-i", str(inventory),
                             "-e", "sleep_seconds=30", "-e", f"runbook_state_dir={state}"],
                            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=as_on_a_terminal)
    playbook_pid = wait_for_the_waiting_task(runs, proc, tmp_path)
    assert list(tmpdir.glob("runbook-*")), "the private folder exists while the playbook runs"

    proc.send_signal(signum)
    if twice:  # the second signal kills the playbook and everything it started at once
        time.sleep(0.05)
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, out + err
    folder = next(runs.iterdir())
    record = json.loads((folder / "run.json").read_text())
    assert record["result"] == "interrupted" and record["exit_code"] == 130
    assert record["finished"] and (folder / "report.md").is_file()
    assert "**Interrupted (exit 130)**" in (folder / "report.md").read_text()
    # the release ran with this run's token and its contract variables (runbook_state_dir)
    token = record["lock_token"]
    assert released(state) == [{"token": token, "stale_only": False, "host": "localhost"}]
    assert f"released the run lock of token {token}" in (folder / "release.log").read_text()
    assert f"{signum.name} received: stopping the playbook" in out
    if twice:
        # The second signal lands wherever the run is by then (a loaded machine decides): the
        # playbook still running (stopped at once), already ended, or the lock being given back.
        # Each has its documented answer; exactly one of them is printed.
        answers = [f"{signum.name} received again: stopping the playbook now",
                   f"{signum.name} received: the playbook has ended, finishing its record",
                   f"{signum.name} received: giving the run lock back first, please wait"]
        assert sum(answer in out for answer in answers) == 1, out
    else:
        assert "received again" not in out
    assert "runbook: the run lock was given back" in out
    # nothing left: ansible-playbook, its workers, the module; the private temporary folder
    assert not running(playbook_pid)
    assert processes_mentioning(str(tmp_path)) == []
    assert list(tmpdir.glob("runbook-*")) == []


def test_handlers_are_restored_and_an_ignored_signal_stays_ignored() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        signal.signal(signal.SIGTERM, mine)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        interrupt = Interrupt()
        with interrupt.installed():
            assert signal.getsignal(signal.SIGTERM) == interrupt._on_signal
            assert signal.getsignal(signal.SIGINT) == interrupt._on_signal
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGTERM)  # handled: recorded, no playbook to stop
            assert interrupt.requested and interrupt.signal_name == "SIGTERM"
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def test_signals_while_shielded_are_ignored_with_a_notice() -> None:
    notices: list[str] = []
    interrupt = Interrupt(notify=notices.append)
    with interrupt.installed(), interrupt.shielded():
        os.kill(os.getpid(), signal.SIGTERM)
        assert not interrupt.keep_going()
    assert not interrupt.requested
    assert notices == ["SIGTERM received: giving the run lock back first, please wait"]


# A parent that starts a child in a session of its own (as ansible-playbook starts its
# workers), prints the child's pid and waits.
_PARENT = """\
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not HAS_PROC, reason="finds descendants through /proc")
def test_a_process_tree_ends_the_children_that_outlive_a_killed_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        tree = ProcessTree()
        tree.watch(parent.pid)
        assert tree.pids == sorted([parent.pid, child])
        os.killpg(parent.pid, signal.SIGKILL)  # what ansible-runner's cancel does
        parent.wait(timeout=10)
        assert running(child), "the child in its own session outlived its parent's group"
        assert tree.end() == []
        assert not running(child)
    finally:
        for pid in (parent.pid, child):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
