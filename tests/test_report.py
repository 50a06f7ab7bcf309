# SPDX-License-Identifier: GPL-3.0-or-later
"""The incident report follows the runbook's post-incident template."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.record import RunRecord
from runbook.redact import Redactor
from runbook.report import (GENERATED_FILE, append_step_summary, format_duration, kept_note, read_facts, step_summary,
                            write_report)

SECTIONS = ["## Summary", "## Timeline", "## Root Cause", "## Impact", "## Resolution",
            "## Prevention", "## Action Items", "## Lessons Learned"]


def event(counter: int, name: str, host: str, task: str, start: str, end: str, **res: object) -> dict:
    return {
        "counter": counter,
        "event": name,
        "created": f"2026-03-01T10:{end}+00:00",
        "event_data": {"host": host, "task": task, "play": "Runbook 1 | Outage",
                       "start": f"2026-03-01T10:{start}+00:00", "end": f"2026-03-01T10:{end}+00:00", "res": res},
    }


def make_run(tmp_path: Path) -> tuple[Path, RunRecord]:
    run_dir = tmp_path / "20260301-100000-outage"
    (run_dir / "job_events").mkdir(parents=True)
    events = [
        {"counter": 1, "event": "playbook_on_start", "event_data": {}},
        event(2, "runner_on_ok", "web1", "Diagnose the outage", "00:01.000", "00:02.500"),
        event(3, "runner_on_ok", "web1", "Restart the API container: backend", "00:02.600", "00:12.600", changed=True),
        event(4, "runner_on_skipped", "web1", "Restart nginx", "00:12.700", "00:12.710"),
        event(5, "runner_on_failed", "web2", "Check health", "00:01.000", "00:31.000",
              msg="Status code was -1", stderr="curl: (7) Failed to connect"),
        event(6, "runner_on_unreachable", "web3", "Diagnose the outage", "00:01.000", "00:04.000",
              msg="ssh: connect to host web3 port 22: Connection refused"),
    ]
    for item in events:
        (run_dir / "job_events" / f"{item['counter']}-x.json").write_text(json.dumps(item))
    (run_dir / "job_events" / "7-y-partial.json").write_text("{not json")
    record = RunRecord(
        run_id=run_dir.name, scenario="outage", title="Complete service outage", section="1", severity="P0",
        destructive=False, started="2026-03-01T10:00:00+00:00", command="runbook run outage -i hosts.yml",
        finished="2026-03-01T10:00:45+00:00", duration=45.0, result="unreachable", exit_code=3,
        hosts=["web1", "web2", "web3"],
        stats={"ok": {"web1": 2}, "changed": {"web1": 1}, "failures": {"web2": 1}, "dark": {"web3": 1},
               "skipped": {"web1": 1}},
        published={"commit_rolled_back_to": "abc1234", "bytes_freed": 1048576,
                   "cert_not_after": "2026-06-01", "api_token": "tok-leaked-123"},
    )
    return run_dir, record


def test_report_has_the_template_and_the_facts(tmp_path: Path) -> None:
    run_dir, record = make_run(tmp_path)
    path = write_report(run_dir, record)
    assert path == run_dir / "report.md"
    text = path.read_text()
    assert text.startswith("# Incident Report: Complete service outage\n")
    for section in SECTIONS:
        assert f"\n{section}\n" in text, section
    assert "**Date:** 2026-03-01" in text
    assert "**Automation's own time:** 45.0s (how long the run took, not how long the service was down)" in text
    assert "**Severity:** P0" in text
    assert "| Hosts | web1, web2, web3 |" in text
    assert "**Host unreachable (exit 3)**" in text
    # timeline: one line per task and host, in order, with times
    assert "- 10:00:00 - Run started: `runbook run outage -i hosts.yml`" in text
    assert "- 10:00:02 - web1: Restart the API container: backend - changed (10.0s)" in text
    assert "- 10:00:01 - web2: Check health - failed (30.0s): Status code was -1 | curl: (7) Failed to connect" in text
    assert "web3: Diagnose the outage - unreachable (3.0s): ssh: connect" in text
    assert "- 10:00:45 - Run finished: Host unreachable (exit 3)" in text
    # what the automation changed
    assert "- 10:00:02 web1: Restart the API container: backend" in text.split("## Resolution")[1]
    # human sections stay prompts
    assert "_To be filled in: the technical explanation" in text
    # set_stats values, secret-looking ones masked
    assert "| `commit_rolled_back_to` | abc1234 |" in text
    assert "| `bytes_freed` | 1048576 |" in text
    assert "| `cert_not_after` | 2026-06-01 |" in text
    assert "tok-leaked-123" not in text
    # per-host recap
    assert "| web2 | 0 | 0 | 1 | 0 | 0 |" in text


def test_gantt_block_shows_where_the_time_went(tmp_path: Path) -> None:
    run_dir, record = make_run(tmp_path)
    text = write_report(run_dir, record).read_text()
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block, "no mermaid block"
    gantt = block.group(1).splitlines()
    assert gantt[0] == "gantt"
    assert "    dateFormat x" in gantt
    assert "    section web1" in gantt and "    section web2" in gantt
    bars = [line for line in gantt if re.fullmatch(r"    [^:#;]+ :(done, |active, |crit, )?\d+, \d+", line)]
    assert len(bars) == 4  # skipped tasks are not drawn
    restart = next(line for line in bars if "Restart the API container" in line)
    start, end = (int(number) for number in re.findall(r"\d{13}", restart))
    assert end - start == 10_000
    assert "active, " in restart
    assert any("crit, " in line and "Check health" in line for line in bars)


def test_report_of_a_run_without_events(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    record = RunRecord(run_id="r", scenario="disk", title="Server out of disk space", section="5",
                       severity="P1", destructive=True, started="2026-03-01T10:00:00+00:00",
                       command="runbook run disk", result="interrupted", exit_code=130,
                       finished="2026-03-01T10:00:03+00:00", duration=3.0)
    text = write_report(run_dir, record).read_text()
    assert "**Interrupted (exit 130)**" in text
    assert "No task ran on a host." in text
    assert "The playbook published no other values" in text
    assert "**Time to recover:** not measured (no health check ran)" in text
    assert "No diagnosis was published by this run" in text


def test_format_duration() -> None:
    assert format_duration(None) == "unknown"
    assert format_duration(4.26) == "4.3s"
    assert format_duration(83) == "1m 23s"
    assert format_duration(3723) == "1h 2m 3s"


# The generated parts, human edits, evidence, recovery, escalation -------------------------------


def write_events(run_dir: Path, events: list[dict]) -> None:
    (run_dir / "job_events").mkdir(parents=True, exist_ok=True)
    for item in events:
        (run_dir / "job_events" / f"{item['counter']}-x.json").write_text(json.dumps(item))


def health_events(first: int, host: str, start: str, end: str, attempts: int, healthy: bool,
                  poll_action: str = "runbook_health") -> list[dict]:
    """The health_check role's argument check, poll, verdict (set_fact) and debug line, as ansible-runner keeps them."""
    check = event(first, "runner_on_ok", host, "Validating arguments against arg spec 'main'", start, start,
                  validate_args_context={"name": "health_check"})
    poll = event(first + 1, "runner_on_ok", host, "Poll the health check until it answers 200", start, end,
                 status=200 if healthy else -1, healthy=healthy, attempts=attempts)
    fact = event(first + 2, "runner_on_ok", host, "Record what the health check saw", end, end,
                 ansible_facts={"health_check_result": {"healthy": healthy, "attempts": attempts}})
    say = event(first + 3, "runner_on_ok", host, "Say what the health check saw", end, end,
                msg=f"after restart: GET http://localhost:3000/health answered ... {'healthy' if healthy else 'NOT healthy'}")
    for item, action in ((check, "ansible.builtin.validate_argument_spec"), (poll, poll_action),
                         (fact, "ansible.builtin.set_fact"), (say, "ansible.builtin.debug")):
        item["event_data"].update(role="health_check", resolved_action=action, task_action=action.split(".")[-1])
    return [check, poll, fact, say]


def outage_record(run_dir: Path, **changes: object) -> RunRecord:
    values: dict = dict(
        run_id=run_dir.name, scenario="outage", title="Complete service outage", section="1", severity="P0",
        destructive=False, started="2026-03-01T10:00:00+00:00", command="runbook run outage",
        finished="2026-03-01T10:00:40+00:00", duration=40.0, result="ok", exit_code=0, hosts=["web1"],
        operator="alice@controller1", incident="INC-42",
    )
    values.update(changes)
    return RunRecord(**values)


def recovery_published(**hosts: dict) -> dict:
    """The value the health_check role publishes with set_stats: {host: {checks, last_healthy, down_at, healthy_at}}."""
    return {"runbook_recovery": hosts}


AT = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc).timestamp()  # 10:00:00 UTC as epoch seconds


def test_time_to_recover_is_what_the_health_check_role_published(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # first check unhealthy (10:00:05), a restart, second check healthy after 2 attempts (ends 10:00:21)
    write_events(run_dir, [
        *health_events(1, "web1", "00:05.000", "00:08.000", attempts=3, healthy=False),
        event(5, "runner_on_ok", "web1", "Restart the stack", "00:09.000", "00:15.000", changed=True),
        *health_events(6, "web1", "00:16.000", "00:21.000", attempts=2, healthy=True, poll_action="ansible.builtin.uri"),
    ])
    published = recovery_published(web1={"checks": 2, "last_healthy": True, "down_at": AT + 5, "healthy_at": AT + 21})
    facts = read_facts(run_dir, published)
    assert facts.recovery.seconds == 16.0
    text = write_report(run_dir, outage_record(run_dir, published=published), facts).read_text()
    assert "**Time to recover:** 16.0s (first seen down 10:00:05, healthy again 10:00:21 UTC)" in text
    # the timeline shows the health verdicts and the change, not the poll or the set_fact
    timeline_part = text.split("## Timeline")[1].split("### Slowest steps")[0]
    assert "web1: Say what the health check saw - ok (0.0s): after restart: GET" in timeline_part
    assert "NOT healthy" in timeline_part and "web1: Restart the stack - changed" in timeline_part
    assert "Poll the health check" not in timeline_part and "Record what" not in timeline_part
    appendix_part = text.split("## Appendix")[1]
    assert "web1: Poll the health check until it answers 200 - ok (3.0s)" in appendix_part
    # the published value is the time to recover, not one more row of "other values"
    assert "`runbook_recovery`" not in text
    # without the published value the events alone measure nothing
    assert read_facts(run_dir).recovery.text() == "not measured (no health check ran)"


def test_a_first_healthy_answer_measures_nothing_and_a_still_failing_check_is_not_recovered(tmp_path: Path) -> None:
    healthy = recovery_published(web1={"checks": 1, "last_healthy": True, "down_at": "", "healthy_at": ""})
    assert read_facts(tmp_path, healthy).recovery.text() == "not measured (no health check failed)"

    down = recovery_published(
        web1={"checks": 1, "last_healthy": False, "down_at": AT + 5, "healthy_at": ""},
        web2={"checks": 1, "last_healthy": True, "down_at": str(AT + 5), "healthy_at": str(AT + 6)})
    recovery = read_facts(tmp_path, down).recovery
    assert recovery.seconds is None
    assert recovery.text() == "not recovered (first seen down 10:00:05 UTC, not healthy at the last check)"
    assert [host.seconds for host in recovery.hosts] == [None, 1.0]


def test_a_malformed_published_value_measures_nothing(tmp_path: Path) -> None:
    for value in ("text", ["web1"], {"web1": "down"}, {"web1": {"down_at": True, "healthy_at": "soon"}}):
        recovery = read_facts(tmp_path, {"runbook_recovery": value}).recovery
        assert recovery.seconds is None


def test_the_five_slowest_steps_as_a_table(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_events(run_dir, [event(n, "runner_on_ok", "web1", f"Step {n}", "00:00.000", f"00:{n:02d}.000")
                           for n in range(1, 8)])
    text = write_report(run_dir, outage_record(run_dir)).read_text()
    table = text.split("### Slowest steps")[1].split("## Evidence")[0]
    rows = [line for line in table.splitlines() if line.startswith("| Step ") and "Host" not in line]
    assert rows == [f"| Step {n} | web1 | ok | {n}.0s |" for n in (7, 6, 5, 4, 3)]


DIAGNOSIS = {
    "web1": {
        "containers": [{"name": "backend-api-1", "state": "exited", "since": "2026-03-01 09:58",
                        "restarts": 3, "health": "unhealthy"}],
        "services": [{"name": "nginx", "state": "active", "since": "2026-02-27"}],
        "disk": [{"mount": "/", "size": "40G", "used": "38G", "avail": "2G", "use_pct": "95%"}],
        "memory": {"total_mb": 3900, "used_mb": 3500, "available_mb": 400, "swap_used_mb": 12},
        "top_cpu": [{"pid": 812, "user": "root", "cpu": 97.5, "mem": 1.2, "command": "node server.js"}],
        "top_mem": [{"pid": 913, "user": "app", "cpu": 0.3, "mem": 61.0, "command": "python worker|x"}],
        "log_errors": {"api": ["2026-03-01T09:58:01 Error: connect ECONNREFUSED password=hunter22"],
                       "nginx": ["connect() failed (111) while connecting to upstream"]},
    },
    "web2": {"memory": {"total_mb": 1000}},
}


def test_evidence_before_the_fix_renders_the_diagnosis_as_tables(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    record = outage_record(run_dir, published={"diagnosis": DIAGNOSIS, "outage_recovered": True})
    text = write_report(run_dir, record).read_text()
    part = text.split("## Evidence before the fix")[1].split("## Result")[0]
    assert "### web1" in part and "### web2" in part
    assert "| Container | State | Since | Restarts | Health |" in part
    assert "| backend-api-1 | exited | 2026-03-01 09:58 | 3 | unhealthy |" in part
    assert "| nginx | active | 2026-02-27 |" in part
    assert "| / | 40G | 38G | 2G | 95% |" in part
    assert "Memory: total 3900 MB, used 3500 MB, available 400 MB, swap used 12 MB." in part
    assert "| 812 | root | 97.5 | 1.2 | node server.js |" in part
    assert "| 913 | app | 0.3 | 61.0 | python worker\\|x |" in part  # a '|' cannot break the table
    assert "Last error lines of api:" in part and "ECONNREFUSED" in part
    assert "hunter22" not in text
    assert "Memory: total 1000 MB." in part  # every key optional
    # the diagnosis is not repeated as one JSON cell under published values
    published_part = text.split("## Published values")[1]
    assert "backend-api-1" not in published_part and "| `outage_recovered` | true |" in published_part


def test_a_diagnosis_of_another_shape_is_tolerated(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    old = {"diagnosis": {"engine": "active", "proxy": "active", "containers": ["api running"]}}
    text = write_report(run_dir, outage_record(run_dir, published=old)).read_text()
    assert "No diagnosis was published by this run" in text
    assert "| `diagnosis` |" in text  # still shown, as a published value


def test_escalation_when_the_run_failed(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    text = write_report(run_dir, outage_record(run_dir, result="failed", exit_code=1)).read_text()
    part = text.split("## Escalation")[1].split("## Published values")[0]
    assert "| hosting provider | set runbook_escalation_contacts.hosting | the server cannot be reached" in part

    contacts = {"database": {"name": "Supabase support", "contact": "https://supabase.com/support",
                             "when": "the database does not answer for 15 min"}}
    record = outage_record(run_dir, scenario="database", result="failed", exit_code=1,
                           escalation_contacts=contacts)
    part = write_report(run_dir, record).read_text().split("## Escalation")[1].split("## Published values")[0]
    assert "| Supabase support | https://supabase.com/support | the database does not answer for 15 min |" in part
    assert "Set the contacts" not in part

    payments = outage_record(run_dir, scenario="payments", result="failed", exit_code=1)
    assert "| payment provider | set runbook_escalation_contacts.payments | payments fail for 30 min |" in \
        write_report(run_dir, payments).read_text()
    assert "Not needed: the run succeeded." in write_report(run_dir, outage_record(run_dir)).read_text()


def test_who_ran_it_and_the_incident_id(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    text = write_report(run_dir, outage_record(run_dir)).read_text()
    assert "| Run by | alice@controller1 |" in text
    assert "**Incident:** INC-42" in text and "| Incident | INC-42 |" in text


def test_human_edits_outside_the_markers_survive_a_rewrite(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    path = write_report(run_dir, outage_record(run_dir, result="running", exit_code=None))
    edited = path.read_text().replace(
        "_To be filled in: the technical explanation of what caused the issue._",
        "The API ran out of file descriptors after the 09:50 deploy.",
    ).replace("- [ ] _Item 1_", "- [ ] Raise the ulimit (Bob)")
    edited += "\nNotes from the call: customer support informed at 10:05.\n"
    path.write_text(edited)

    again = write_report(run_dir, outage_record(run_dir))
    assert again == path and not (run_dir / GENERATED_FILE).exists()
    assert kept_note(again) == ""
    text = path.read_text()
    assert "The API ran out of file descriptors after the 09:50 deploy." in text
    assert "- [ ] Raise the ulimit (Bob)" in text
    assert text.endswith("Notes from the call: customer support informed at 10:05.\n")
    assert "**Succeeded (exit 0)**" in text and "Did not finish" not in text  # the generated parts are new
    # and a third rewrite still recognises its parts
    assert write_report(run_dir, outage_record(run_dir)) == path


@pytest.mark.parametrize("edit", [
    lambda text: text.replace("| Run by | alice@controller1 |", "| Run by | alice (on call) |"),
    lambda text: re.sub(r"<!-- runbook:generated:(start|end)[^>]*-->\n", "", text),
])
def test_an_edit_inside_the_generated_parts_is_never_overwritten(tmp_path: Path, edit) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    path = write_report(run_dir, outage_record(run_dir))
    changed = edit(path.read_text())
    path.write_text(changed)

    written = write_report(run_dir, outage_record(run_dir, result="failed", exit_code=1))
    assert written == run_dir / GENERATED_FILE
    assert path.read_text() == changed
    assert "**Failed (exit 1)**" in written.read_text()
    assert kept_note(written).startswith("runbook: report.md was edited inside its generated parts")


def test_the_github_step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "run"
    write_events(run_dir, [
        *health_events(1, "web1", "00:05.000", "00:09.000", attempts=4, healthy=True),
        event(5, "runner_on_ok", "web1", "Start nginx if it is down", "00:02.000", "00:03.000", changed=True),
    ])
    published = recovery_published(web1={"checks": 1, "last_healthy": True, "down_at": AT + 5, "healthy_at": AT + 9})
    record = outage_record(run_dir, published=published)
    facts = read_facts(run_dir, published)
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    assert append_step_summary(step_summary(record, facts, run_dir / "report.md"), Redactor()) == ""
    text = summary_file.read_text()
    assert text.startswith("earlier step\n### runbook outage: Succeeded (exit 0)")
    assert "| `outage` (Complete service outage) | web1 | Succeeded (exit 0) | 4.0s (first seen down" in text
    assert "- web1: Start nginx if it is down" in text

    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert append_step_summary("x", Redactor()) == ""  # not in GitHub Actions: nothing written
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no" / "such" / "dir"))
    assert "could not write the step summary" in append_step_summary("x", Redactor())


# Through the CLI ---------------------------------------------------------------------------------


def test_runbook_report_keeps_an_edited_report(project: Path, runs: Path, inventory: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--incident", "INC-7"]) == 0
    folder = next(runs.iterdir())
    run = json.loads((folder / "run.json").read_text())
    assert run["incident"] == "INC-7" and re.fullmatch(r"[^@\s]+@\S+", run["operator"])
    report = folder / "report.md"
    assert "| Incident | INC-7 |" in report.read_text() and "--incident INC-7" in run["command"]

    report.write_text(report.read_text().replace("_To be filled in._", "We learned to watch the disk."))
    capsys.readouterr()
    assert main(["report", folder.name]) == 0
    captured = capsys.readouterr()
    assert "We learned to watch the disk." in report.read_text()
    assert captured.out == report.read_text() and captured.err == ""

    report.write_text(report.read_text().replace("**Severity:** P1", "**Severity:** P0 (raised by Bob)"))
    assert main(["report", folder.name]) == 0
    captured = capsys.readouterr()
    assert "P0 (raised by Bob)" in report.read_text()
    assert captured.out == (folder / GENERATED_FILE).read_text()
    assert captured.err.count("\n") == 1 and "report.generated.md" in captured.err


@pytest.mark.parametrize("bad", ["", "INC 42", "x" * 65, "INC-1;rm", "ünïcode"])
def test_a_bad_incident_id_is_one_line_exit_2(bad: str, project: Path, runs: Path, inventory: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "scenario", "-i", str(inventory), "--incident", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: --incident takes") and err.count("\n") == 1
    assert not runs.exists() or not any(runs.iterdir())


def test_escalation_contacts_come_from_the_inventory(project: Path, runs: Path, inventory: Path) -> None:
    group_vars = textwrap.indent(textwrap.dedent("""\
        vars:
          runbook_escalation_contacts:
            hosting:
              name: Hetzner support
              contact: "+49 000 0000 (placeholder)"
              when: the server cannot be reached
        """), "  ")  # under app_servers
    inventory.write_text(inventory.read_text() + group_vars)
    assert main(["run", "scenario", "-i", str(inventory), "-e", "fail_step=true"]) == 1
    folder = next(runs.iterdir())
    assert json.loads((folder / "run.json").read_text())["escalation_contacts"]["hosting"]["name"] == "Hetzner support"
    part = (folder / "report.md").read_text().split("## Escalation")[1]
    assert "| Hetzner support | +49 000 0000 (placeholder) | the server cannot be reached |" in part


def test_hosts_a_failed_batch_never_reached_are_listed(tmp_path: Path) -> None:
    """A rolling run (runbook_serial) stops after a failed batch: Ansible's recap lacks the
    later hosts, the lock step published every host of the play, the report names them."""
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    record = outage_record(run_dir, result="failed", exit_code=1, hosts=["web1", "web2", "web3"],
                           stats={"ok": {"web1": 9, "web2": 9, "web3": 4}, "failures": {"web3": 1}},
                           published={"runbook_play_hosts": ["web1", "web2", "web3", "web4", "web5"]})
    text = write_report(run_dir, record).read_text()
    assert "| Not reached | web4, web5 (an earlier batch failed, so the run stopped before them) |" in text
    assert "| web4 (not reached) | - | - | - | - | - |" in text
    assert "`runbook_play_hosts`" not in text  # not repeated in the published-values table
    record = outage_record(run_dir, published={"runbook_play_hosts": ["web1"]})
    assert "Not reached" not in write_report(run_dir, record).read_text()


def test_an_unverified_change_is_said_in_the_summary_and_the_step_summary(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_events(run_dir, [])
    published = {"payments": {"mode": "off", "verification": "unverified", "webhook_status": 200},
                 "database": {"verification": "checked"}}
    record = outage_record(run_dir, published=published)
    text = write_report(run_dir, record).read_text()
    summary_part = text.split("## Summary")[1].split("\n## ")[0]
    assert "Unverified: payments (done, but no answer of the app showed it" in summary_part
    assert "### runbook outage: " in step_summary(record, read_facts(run_dir, published), run_dir / "report.md")
    assert ", unverified: payments" in step_summary(record, read_facts(run_dir, published), run_dir / "report.md")
    verified = outage_record(run_dir, published={"payments": {"verification": "verified"}})
    assert "Unverified" not in write_report(run_dir, verified).read_text()
