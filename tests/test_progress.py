# SPDX-License-Identifier: GPL-3.0-or-later
"""The live progress, driven by job events recorded from real runs on a test host.

The recordings (tests/data/events-*.jsonl, see tests/data/README.md):
- outage: the demo's outage (api container and nginx stopped), recovered;
- diagnose: `runbook run diagnose` on the healthy host;
- outage-lock-failed: outage with a runbook_state_dir the lock cannot create;
- rollback-refused: rollback to a commit that does not exist.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from runbook.cli import main
from runbook.events import task_result
from runbook.progress import NOTE_LINES, Progress
from runbook.redact import Redactor

DATA = Path(__file__).parent / "data"
HOST = "hprog-1"
OTHER = "hprog-2"


def recorded(name: str) -> list[dict[str, Any]]:
    lines = (DATA / f"events-{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def replay(events: list[dict[str, Any]], verbose: bool = False, redactor: Redactor | None = None) -> list[str]:
    """Everything the CLI prints for a run: its first line, the events, its last line."""
    out = io.StringIO()
    progress = Progress(out, redactor or Redactor(), live=False, verbose=verbose)
    progress.start("runbook run outage: Complete service outage (section 1, P0), run 20261129-120345-outage")
    for event in events:
        progress.handle(copy.deepcopy(event))
    progress.finish("Succeeded (exit 0) after 9.1s; report: /tmp/runs/report.md", ok=True)
    return out.getvalue().splitlines()


def task_names(events: list[dict[str, Any]], **where: Any) -> set[str]:
    """Names of tasks whose host results match all of `where` (TaskResult fields)."""
    names = set()
    for event in events:
        result = task_result(event, argument_checks=True)
        if result and all(getattr(result, key) == value for key, value in where.items()):
            names.add(result.task)
    return names


def on_two_hosts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same run on two hosts: each host result twice, the stats per host twice."""
    doubled = []
    for event in events:
        data = event["event_data"]
        if event["event"] == "playbook_on_stats":
            event = copy.deepcopy(event)
            for key, per_host in event["event_data"].items():
                if isinstance(per_host, dict) and HOST in per_host:
                    per_host[OTHER] = per_host[HOST]
        doubled.append(event)
        if data.get("host") == HOST:
            twin = copy.deepcopy(event)
            twin["event_data"]["host"] = OTHER
            doubled.append(twin)
    return doubled


def debug_event(msg: Any, task: str = "Show the diagnosis", role: str = "diagnose") -> dict[str, Any]:
    return {"event": "runner_on_ok", "counter": 1, "event_data": {
        "host": HOST, "task": task, "role": role, "task_action": "ansible.builtin.debug",
        "resolved_action": "ansible.builtin.debug", "res": {"msg": msg, "changed": False}}}


def test_the_outage_recovery_fits_a_screen_and_says_what_was_done() -> None:
    events = recorded("outage")
    lines = replay(events)
    text = "\n".join(lines)
    assert len(lines) <= 20, text
    # what was wrong, what was done, whether it worked
    assert f"{HOST} diagnose: Show the diagnosis" in lines
    assert any(line.startswith("      nginx ") and "inactive (dead)" in line for line in lines)  # the table, indented
    assert any(line.startswith("      backend-api-1 ") and "exited (0)" in line for line in lines)
    assert any(line.startswith("    ... ") and line.endswith(" more lines (-v shows them)") for line in lines)
    assert f"{HOST}: Start every service of the stack that is not running - changed (1.5s)" in lines
    assert f"{HOST}: Start nginx if it is down - changed (0.7s)" in lines
    # a one-line debug message stands in place of its task's name
    assert any(line.startswith(f"{HOST} health_check: after bringing services back:") and line.endswith("healthy")
               for line in lines)
    assert not any("Say what the health check saw" in line for line in lines)
    assert f"RECAP {HOST}  ok=23 changed=2 failed=0 unreachable=0 skipped=4" in lines
    assert lines[-1].startswith("Succeeded (exit 0)")


def test_quiet_progress_hides_skipped_bookkeeping_and_lock_steps() -> None:
    events = recorded("outage")
    text = "\n".join(replay(events))
    skipped = task_names(events, status="skipped")
    bookkeeping = task_names(events, action="set_fact") | task_names(events, action="set_stats")
    includes = task_names(events, action="include_role")
    lock = task_names(events, role="runbook_lock")
    # the recording really has each kind of step
    assert "Restart the stack, then the engine and nginx, while still down" in skipped
    assert {"Decide whether the service is back", "Record what the health check saw"} <= bookkeeping
    assert {"Take the run lock", "Diagnose the outage", "Health check"} <= includes
    assert {"Take the run lock (a second run waits here)", "Give the run lock back"} <= lock
    for name in skipped | bookkeeping | includes | lock:
        assert f": {name}" not in text, name
    assert "Validating arguments" not in text
    for probe in task_names(events, status="ok", role="diagnose", action="runbook_diagnose"):
        assert probe not in text  # a probe that went well
    assert "Poll the health check until it answers 200" not in text
    assert "TASK" not in text and "PLAY" not in text


def test_verbose_shows_every_task_and_every_result() -> None:
    events = recorded("outage")
    lines = replay(events, verbose=True)
    text = "\n".join(lines)
    started = {event["event_data"]["task"] for event in events if event["event"] == "playbook_on_task_start"}
    assert len(started) >= 25
    for name in started:
        assert f"TASK {name}" in lines, name
    results = [event for event in events if task_result(event, argument_checks=True)]
    assert sum(1 for line in lines if line.startswith(f"  {HOST}: ")) == len(results)
    assert "PLAY Runbook 1 | Complete service outage" in lines
    assert f"  {HOST}: skipped" in text


def test_a_failed_lock_step_is_shown_with_its_message() -> None:
    lines = replay(recorded("outage-lock-failed"))
    failed = [line for line in lines if " - failed " in line]
    assert failed == [f"{HOST} runbook_lock: Take the run lock (a second run waits here) - failed (2.3s): "
                      "Task failed: Module failed: [Errno 2] No such file or directory: '/proc/hprog-lock'"]
    assert f"RECAP {HOST}  ok=2 changed=0 failed=1 unreachable=0 skipped=0" in lines


def test_a_refused_rollback_shows_why_and_nothing_else() -> None:
    lines = replay(recorded("rollback-refused"))
    assert len(lines) == 4, lines
    assert lines[1].startswith(f"{HOST} git_rollback: Refuse a target that names no commit or would overwrite "
                               'live untracked configuration - failed (0.2s): Refused target "0000000": no such commit')


def test_diagnose_shows_the_diagnosis_and_both_health_verdicts() -> None:
    lines = replay(recorded("diagnose"))
    prefix = f"{HOST} health_check: "
    verdicts = [line[len(prefix):] for line in lines if line.startswith(prefix) and line.endswith("healthy")]
    assert [line.split(":")[0].strip() for line in verdicts] == ["API health", "database health"]
    assert f"{HOST} diagnose: Show the diagnosis" in lines


def test_two_hosts_one_line_per_host_per_step_and_a_recap_each() -> None:
    events = on_two_hosts(recorded("outage"))
    lines = replay(events)
    for step in ("Start every service of the stack that is not running - changed",
                 "Start nginx if it is down - changed"):
        assert [line.split(":")[0] for line in lines if step in line] == [HOST, OTHER]
    assert [line for line in lines if "Show the diagnosis" in line] == [
        f"{HOST} diagnose: Show the diagnosis", f"{OTHER} diagnose: Show the diagnosis"]
    recaps = [line for line in lines if line.startswith("RECAP")]
    assert recaps == [f"RECAP {HOST}  ok=23 changed=2 failed=0 unreachable=0 skipped=4",
                      f"RECAP {OTHER}  ok=23 changed=2 failed=0 unreachable=0 skipped=4"]


def test_a_long_debug_message_is_cut_quietly_and_whole_with_verbose() -> None:
    table = "\n".join(f"row {number:02d} | api | running" for number in range(20))
    quiet = replay([debug_event([table])])
    assert quiet[1:2 + NOTE_LINES] == [f"{HOST} diagnose: Show the diagnosis"] + [
        f"    row {number:02d} | api | running" for number in range(NOTE_LINES)]
    assert quiet[2 + NOTE_LINES] == f"    ... {20 - NOTE_LINES} more lines (-v shows them)"
    verbose = replay([debug_event([table])], verbose=True)
    assert sum(1 for line in verbose if line.startswith("      row ")) == 20


def test_printed_messages_are_redacted() -> None:
    secret = "sk_live_PLANTEDprogress0123456789"
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    failed = {"event": "runner_on_failed", "counter": 2, "event_data": {
        "host": HOST, "task": "Start the API", "role": "", "resolved_action": "ansible.builtin.command",
        "res": {"msg": "non-zero return code", "stderr": f"STRIPE_SECRET_KEY={secret} rejected"}}}
    text = "\n".join(replay([debug_event(["Last api log lines:", f"api-1 | {key}", "done"]), failed],
                            redactor=Redactor(["tok-given-on-the-command-line"])))
    assert secret not in text and "MIIEvQIBADANBgkq" not in text and "hkiG9w0BAQEFAASC" not in text
    assert "Start the API - failed" in text and "STRIPE_SECRET_KEY=" in text


@pytest.mark.parametrize("action", ["ansible.builtin.validate_argument_spec", "runbook_lock"])
@pytest.mark.parametrize(("event_name", "shown"), [
    ("runner_on_unreachable", True),
    ("runner_on_failed", True),
    ("runner_on_skipped", False),
])
def test_problems_of_any_step_are_shown(action: str, event_name: str, shown: bool) -> None:
    """A lock step, hidden when it goes well, is shown once it fails or its host is unreachable."""
    events = recorded("outage")
    lock_step = next(event for event in events if event["event"] == "runner_on_ok"
                     and event["event_data"].get("role") == "runbook_lock"
                     and event["event_data"]["resolved_action"] == action)
    event = copy.deepcopy(lock_step)
    event["event"] = event_name
    event["event_data"]["res"] = {"msg": "ssh: connect to host hprog-1: Connection refused", "unreachable": True}
    text = "\n".join(replay([event]))
    assert (f"{HOST} runbook_lock: {lock_step['event_data']['task']}" in text) is shown
    assert ("Connection refused" in text) is shown


def test_an_ignored_failure_stays_out_of_sight() -> None:
    event = {"event": "runner_on_failed", "counter": 3, "event_data": {
        "host": HOST, "task": "Probe the old release", "ignore_errors": True,
        "resolved_action": "ansible.builtin.command", "res": {"msg": "non-zero return code"}}}
    assert len(replay([event])) == 2
    assert any("ignored" in line for line in replay([event], verbose=True))



def test_the_cli_is_quiet_by_default_and_shows_everything_with_v(
    project: Path, runs: Path, inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through `runbook run`: a real ansible-playbook against this machine, with the test project."""
    token = "tok-given-on-the-command-line-1234"
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"api_token={token}"]) == 0
    quiet = capsys.readouterr().out
    assert "localhost: lock token " in quiet  # a one-line debug message, in place of its task's name
    assert "localhost: Use the token - changed" in quiet
    for hidden in ("Read the app environment file", "Publish what the scenario did",
                   "Publish the commit and the bytes freed", "Wait a little", "TASK", "PLAY"):
        assert hidden not in quiet
    assert main(["run", "scenario", "-i", str(inventory), "-e", f"api_token={token}", "-v"]) == 0
    verbose = capsys.readouterr().out
    for shown in ("PLAY Runbook T | Test scenario", "TASK Read the app environment file",
                  "TASK Publish what the scenario did", "TASK Publish the commit and the bytes freed",
                  "TASK Wait a little", "  localhost: skipped"):
        assert shown in verbose
    assert token not in quiet + verbose
