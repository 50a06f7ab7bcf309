"""The incident report follows the runbook's post-incident template."""

from __future__ import annotations

import json
import re
from pathlib import Path

from runbook.record import RunRecord
from runbook.report import format_duration, write_report

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
    assert "**Duration:** 45.0s" in text
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
    assert "The playbook published no values" in text


def test_format_duration() -> None:
    assert format_duration(None) == "unknown"
    assert format_duration(4.26) == "4.3s"
    assert format_duration(83) == "1m 23s"
    assert format_duration(3723) == "1h 2m 3s"
