# SPDX-License-Identifier: GPL-3.0-or-later
"""Two runs on one host never interleave, whatever the controllers' clocks and
time zones; a held lock makes the second run refuse and change nothing; a lock
whose run died (no heartbeat) is taken over, also one without its owner file;
an interrupted direct run's lock goes stale by itself once its processes end;
a run gives back only its own lock. Runs the real playbooks against the
prepared test host (make integration)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostutil import failing_before, interrupt_playbook

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("RUNBOOK_TEST_HOST", "")
INVENTORY = os.environ.get("RUNBOOK_TEST_INVENTORY", "")
STATE = "/var/lib/runbook"
LOCK = STATE + "/run.lock"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (HOST and INVENTORY), reason="needs RUNBOOK_TEST_HOST and RUNBOOK_TEST_INVENTORY (make integration)"),
]


def on_host(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", HOST, *argv], capture_output=True, text=True)


def health() -> str:
    return on_host("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3",
                   "http://localhost:3000/health").stdout


def plant_lock(token: str, heartbeat_age: int | None, owner_file: bool = True) -> None:
    """A lock as another run leaves it; its heartbeat (host clock) heartbeat_age seconds old."""
    on_host("mkdir", "-p", LOCK)
    if owner_file:
        owner = {"token": token, "owner": "someone@elsewhere", "scenario": "Another run", "started": "earlier"}
        on_host("sh", "-c", f"echo '{json.dumps(owner)}' > {LOCK}/owner && touch {LOCK}/heartbeat")
    if heartbeat_age is not None:
        for path in (LOCK, LOCK + "/owner", LOCK + "/heartbeat"):
            on_host("touch", "-c", "-d", f"@{int(on_host('date', '+%s').stdout) - heartbeat_age}", path)


def lock_owner() -> dict | None:
    out = on_host("cat", LOCK + "/owner")
    return json.loads(out.stdout) if out.returncode == 0 else None


def playbook(name: str | Path, *extra: str, tz: str = "UTC") -> list[str]:
    """name: a playbook of playbooks/, or the path of a copy elsewhere."""
    return ["ansible-playbook", "-i", INVENTORY, str(Path("playbooks") / name), *extra]


def run(name: str | Path, *extra: str, tz: str = "UTC", timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(playbook(name, *extra), cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, TZ=tz, ANSIBLE_NOCOLOR="1"))


def start(name: str, *extra: str, tz: str = "UTC") -> subprocess.Popen[str]:
    return subprocess.Popen(playbook(name, *extra), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, TZ=tz, ANSIBLE_NOCOLOR="1"))


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture()
def api_stopped():
    on_host("rm", "-rf", LOCK)
    on_host("docker", "stop", "backend-api-1")
    assert health() != "200"
    yield
    on_host("rm", "-rf", LOCK)
    on_host("docker", "start", "backend-api-1")


@pytest.fixture()
def api_hung():
    """The api's process is frozen: the outage run polls its health check for a while, lock held."""
    on_host("rm", "-rf", LOCK)
    on_host("docker", "kill", "-s", "STOP", "backend-api-1")
    yield
    on_host("docker", "kill", "-s", "CONT", "backend-api-1")
    wait_for(lambda: lock_owner() is None, 120, "the lock to be given back")
    on_host("docker", "start", "backend-api-1")


def test_second_run_refuses_and_changes_nothing(api_stopped):
    plant_lock("feedc0de", heartbeat_age=0)
    result = run("outage.yml", "-e", "runbook_lock_wait=4")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "Refused: another runbook run holds the lock on this host (someone@elsewhere, Another run" in out
    assert "runbook unlock-stale --token feedc0de" in out
    # Nothing was touched: the api is still down, the other run's lock is still there.
    assert health() != "200"
    assert lock_owner()["token"] == "feedc0de"


def task_section(out: str, name: str) -> str:
    """What ansible-playbook printed under one task's banner (up to the next banner)."""
    return out.split(f"TASK [{name}]", 1)[1].split("TASK [", 1)[0]


def test_the_diagnosis_takes_a_free_lock_and_a_run_that_waited_reads_the_host_again(api_stopped, tmp_path):
    # Free lock: the diagnosis's round trip takes it, the lock step of its own is skipped.
    first = run("outage.yml")
    assert first.returncode == 0, first.stdout[-3000:]
    assert "ok:" in task_section(first.stdout, "runbook_lock : Hold the run lock the probe took, as this role's own")
    assert "skipping:" in task_section(first.stdout, "Take the run lock (a second run waits here)")
    assert "skipping:" in task_section(first.stdout, "Diagnose again under the run lock, after waiting for another run")
    assert health() == "200"
    assert lock_owner() is None  # given back
    # Another run holds it: this run waits at the lock step, then diagnoses again under the lock.
    on_host("docker", "stop", "backend-api-1")
    plant_lock("feedc0de", heartbeat_age=0)
    log = tmp_path / "outage.log"
    with log.open("w") as out:
        waiting = subprocess.Popen(playbook("outage.yml", "-e", "runbook_lock_wait=240"), cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
        try:
            wait_for(lambda: "TASK [runbook_lock : Take the run lock (a second run waits here)]" in log.read_text(),
                     240, "the run to wait for the lock")
            assert lock_owner()["token"] == "feedc0de"  # the diagnosis did not take a held lock
            on_host("rm", "-rf", LOCK)  # the other run ends
            assert waiting.wait(timeout=300) == 0, log.read_text()[-3000:]
        finally:
            if waiting.poll() is None:
                waiting.kill()
    text = log.read_text()
    assert "included:" in task_section(text, "Diagnose again under the run lock, after waiting for another run")
    assert text.count("TASK [diagnose : Read the services, containers, disk, memory") == 2
    assert health() == "200"
    assert lock_owner() is None


def test_a_run_that_fails_right_after_the_diagnosis_took_the_lock_gives_it_back(api_stopped, tmp_path):
    """The diagnosis took the free lock, then the run failed before the lock role held it (a
    failing task inserted there in a copy of the real playbook): the lock is given back at
    once, not left to go stale (minutes), and nothing was fixed."""
    copy = failing_before("outage.yml", "Hold the run lock the diagnosis took", tmp_path)
    result = run(copy, "-e", "runbook_lock_stale_after=600")
    assert result.returncode != 0
    assert "injected failure before Hold the run lock the diagnosis took" in result.stdout, result.stdout[-3000:]
    assert "ok:" in task_section(result.stdout, "Hold the run lock the diagnosis took, when the run failed before it was handed over")
    assert "ok:" in task_section(result.stdout, "runbook_lock : Give the run lock back")  # not skipped
    assert on_host("test", "-e", LOCK).returncode != 0  # given back
    assert health() != "200"  # nothing fixed


@pytest.mark.parametrize("owner_file", [True, False], ids=["owner-file", "no-owner-file"])
def test_lock_of_a_dead_run_is_taken_over(api_stopped, owner_file):
    plant_lock("deadbeef", heartbeat_age=180, owner_file=owner_file)
    result = run("outage.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Took over a stale lock (no heartbeat for" in result.stdout + result.stderr  # a warning: stderr
    assert health() == "200"
    assert lock_owner() is None  # the run gave its own lock back


def test_runs_from_two_time_zones_never_both_hold_the_lock(api_hung):
    """The old lock compared a naive local time: a run under America/Los_Angeles took a
    5-second-old lock from a run on UTC as 8 hours stale. The host's clock decides now."""
    first = start("outage.yml", "-e", "outage_health_timeout=8", tz="UTC")
    try:
        wait_for(lambda: lock_owner() is not None, 60, "the first run to take the lock")
        holder = lock_owner()
        second = run("outage.yml", "-e", "runbook_lock_wait=3", tz="America/Los_Angeles")
        out = second.stdout + second.stderr
        assert second.returncode != 0
        assert "Refused: another runbook run holds the lock" in out
        assert "Took over a stale lock" not in out
        assert lock_owner() == holder  # still the first run's lock
    finally:
        on_host("docker", "kill", "-s", "CONT", "backend-api-1")
        first.wait(timeout=300)


def test_interrupted_direct_run_frees_the_lock_once_its_processes_end(api_hung):
    """ansible-playbook stopped with SIGINT skips `always:`: its lock stays, but its
    heartbeat stops once no process of the run is left on the host, so the lock goes
    stale and the next run takes it over (here with short timings)."""
    short = ("-e", "runbook_lock_idle=4", "-e", "runbook_lock_stale_after=4")
    first = start("outage.yml", "-e", "outage_health_timeout=30", *short)
    wait_for(lambda: lock_owner() is not None, 60, "the first run to take the lock")
    time.sleep(2)
    interrupt_playbook(first)
    assert lock_owner() is not None  # left behind by the interrupted run
    on_host("docker", "kill", "-s", "CONT", "backend-api-1")
    result = run("outage.yml", "-e", "runbook_lock_wait=60", *short)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Took over a stale lock" in result.stdout + result.stderr
    assert lock_owner() is None


def test_a_run_gives_back_only_its_own_lock(api_stopped):
    """release checks the token: the unlock playbook with another token leaves the lock alone."""
    plant_lock("0123abcd", heartbeat_age=0)
    result = run("internal/release_lock.yml", "-e", "runbook_lock_token=99999999")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "left the lock alone, it is not this run's" in result.stdout
    assert lock_owner()["token"] == "0123abcd"
    result = run("internal/release_lock.yml", "-e", "runbook_lock_stale_only=true")
    assert "it is not stale" in result.stdout
    assert lock_owner()["token"] == "0123abcd"
    result = run("internal/release_lock.yml", "-e", "runbook_lock_token=0123abcd")
    assert "gave the lock back" in result.stdout
    assert lock_owner() is None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_interrupted_gives_its_lock_back_at_once(api_hung, tmp_path, sig):
    """Through the CLI, an interrupt stops ansible-playbook, gives the lock back on the
    host by the run's token (no waiting for staleness) and finishes the record."""
    runs = tmp_path / "runs"
    cli = subprocess.Popen([sys.executable, "-m", "runbook", "run", "outage", "-i", INVENTORY],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=dict(os.environ, RUNBOOK_RUNS_DIR=str(runs)))
    try:
        wait_for(lambda: lock_owner() is not None, 60, "the run to take the lock")
        token = lock_owner()["token"]
        time.sleep(2)
        cli.send_signal(sig)
        out, _ = cli.communicate(timeout=180)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 130, out[-3000:]
    assert lock_owner() is None, out[-3000:]  # given back, not left to go stale
    assert not on_host("sh", "-c", f"grep -l RUNBOOK_RUN_TOKEN={token} /proc/[0-9]*/environ 2>/dev/null").stdout
    (record,) = [json.loads(path.read_text()) for path in runs.glob("*/run.json")]
    assert record["result"] == "interrupted"
    assert record["lock_token"] == token
