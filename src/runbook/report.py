"""The incident report (report.md), in the runbook's post-incident template.

Filled from the run record and its events; the sections only a human can
write (root cause, impact, prevention, lessons) are left as prompts.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook.events import TaskResult, read_events, task_result
from runbook.record import REPORT_FILE, RunRecord
from runbook.redact import Redactor

TODO = "_To be filled in._"
_RESULT_TEXT = {
    "ok": "Succeeded",
    "failed": "Failed",
    "unreachable": "Host unreachable",
    "interrupted": "Interrupted",
    "error": "Error",
    "running": "Did not finish",
}
_GANTT_TAG = {
    "ok": "done, ",
    "changed": "active, ",
    "failed": "crit, ",
    "unreachable": "crit, ",
    "ignored": "",
}


def write_report(run_dir: Path, record: RunRecord) -> Path:
    """(Re)write report.md in the run folder from the record and kept events."""
    results = [result for event in read_events(run_dir) if (result := task_result(event))]
    text = Redactor().text(render(record, results))
    path = run_dir / REPORT_FILE
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def render(record: RunRecord, results: list[TaskResult]) -> str:
    started = record.started_at.astimezone(timezone.utc)
    lines = [
        f"# Incident Report: {record.title}",
        "",
        f"<!-- Written by `runbook` from run {record.run_id}; "
        f"`runbook report {record.run_id}` rewrites this file. -->",
        "",
        f"**Date:** {started:%Y-%m-%d}",
        f"**Duration:** {format_duration(record.duration)} (automated run)",
        f"**Severity:** {record.severity}",
        "**Users Affected:** _~XXX users (to be filled in)_",
        "",
        "| | |",
        "|---|---|",
        f"| Scenario | `{record.scenario}`: runbook section {record.section}, {record.title} |",
        f"| Run | `{record.run_id}` |",
        f"| Command | `{record.command}` |",
        f"| Hosts | {', '.join(record.hosts) or 'none'} |",
        f"| Started | {started:%Y-%m-%d %H:%M:%S} UTC |",
        f"| Mode | {'check (dry run, nothing changed)' if record.check else 'live'} |",
        f"| Result | **{result_text(record)}** |",
        "",
        "## Summary",
        "",
        summary(record),
        "",
        "_Add what users saw and how the incident was detected._",
        "",
        "## Timeline",
        "",
        *timeline(record, results),
        "",
        "### Where the time went",
        "",
        *gantt(record, results),
        "",
        "## Published values",
        "",
        *published(record.published),
        "",
        "## Result",
        "",
        *result_section(record, results),
        "",
        "## Root Cause",
        "",
        "_To be filled in: the technical explanation of what caused the issue._",
        "",
        "## Impact",
        "",
        "- Downtime: _XX minutes_",
        "- Users affected: _~XXX_",
        "- Data loss: _Yes/No_",
        "- Financial impact: _EUR XXX_",
        "",
        "## Resolution",
        "",
        *resolution(results),
        "",
        "## Prevention",
        "",
        "_To be filled in: what will be done to prevent this in future._",
        "",
        "## Action Items",
        "",
        "- [ ] _Item 1_",
        "- [ ] _Item 2_",
        "",
        "## Lessons Learned",
        "",
        TODO,
        "",
    ]
    return "\n".join(lines)


def result_text(record: RunRecord) -> str:
    text = _RESULT_TEXT.get(record.result, record.result)
    return f"{text} (exit {record.exit_code})" if record.exit_code is not None else text


def summary(record: RunRecord) -> str:
    totals = {key: sum(record.stats.get(key, {}).values()) for key in ("ok", "changed", "failures", "dark", "skipped")}
    hosts = ", ".join(record.hosts) or "no host"
    mode = " in check mode" if record.check else ""
    return (
        f"`runbook` ran the playbook for runbook section {record.section} ({record.title}){mode} "
        f"on {hosts}. {result_text(record)} after {format_duration(record.duration)}: "
        f"{totals['ok']} ok, {totals['changed']} changed, {totals['failures']} failed, "
        f"{totals['dark']} unreachable, {totals['skipped']} skipped."
    )


def timeline(record: RunRecord, results: list[TaskResult]) -> list[str]:
    lines = ["All times UTC.", "", f"- {_clock(record.started_at)} - Run started: `{record.command}`"]
    for result in results:
        line = f"- {_clock(result.start)} - {result.host}: {result.task} - {result.status} ({result.duration:.1f}s)"
        if result.message:
            line += f": {result.message}"
        lines.append(_one_line(line))
    if record.finished:
        ended = datetime.fromisoformat(record.finished)
        lines.append(f"- {_clock(ended)} - Run finished: {result_text(record)}")
    return lines


def gantt(record: RunRecord, results: list[TaskResult]) -> list[str]:
    bars = [result for result in results if result.status != "skipped" and result.start and result.end]
    if not bars:
        return ["No task ran on a host."]
    lines = [
        "```mermaid",
        "gantt",
        f"    title {_gantt_text(record.scenario)} run {record.run_id}",
        "    dateFormat x",
        "    axisFormat %H:%M:%S",
    ]
    for host in sorted({result.host for result in bars}):
        lines.append(f"    section {_gantt_text(host)}")
        for result in (bar for bar in bars if bar.host == host):
            start = _epoch_ms(result.start)
            end = max(_epoch_ms(result.end), start + 1)
            tag = _GANTT_TAG.get(result.status, "")
            lines.append(f"    {_gantt_text(result.task)} :{tag}{start}, {end}")
    lines.append("```")
    return lines


def published(values: dict[str, Any]) -> list[str]:
    if not values:
        return ["The playbook published no values (`ansible.builtin.set_stats`)."]
    lines = ["Values the playbook published with `ansible.builtin.set_stats`:", "", "| Value | |", "|---|---|"]
    for key, value in sorted(Redactor().data(values).items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"| `{key}` | {_cell(shown)} |")
    return lines


def result_section(record: RunRecord, results: list[TaskResult]) -> list[str]:
    lines = [f"**{result_text(record)}.**", ""]
    problems = [result for result in results if result.status in ("failed", "unreachable")]
    for result in problems:
        lines.append(_one_line(f"- {result.host}: {result.task} {result.status}: {result.message or 'no message'}"))
    if problems:
        lines.append("")
    lines += ["| Host | ok | changed | failed | unreachable | skipped |", "|---|---|---|---|---|---|"]
    for host in record.hosts:
        counts = [record.stats.get(key, {}).get(host, 0) for key in ("ok", "changed", "failures", "dark", "skipped")]
        lines.append(f"| {host} | " + " | ".join(str(count) for count in counts) + " |")
    return lines


def resolution(results: list[TaskResult]) -> list[str]:
    changed = [result for result in results if result.status == "changed"]
    lines = ["What the automation changed:", ""] if changed else ["The automation changed nothing.", ""]
    lines += [_one_line(f"- {_clock(result.start)} {result.host}: {result.task}") for result in changed]
    if changed:
        lines.append("")
    lines.append("_Add anything that was done by hand._")
    return lines


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    whole = int(round(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{seconds:.1f}s"


def _clock(moment: datetime | None) -> str:
    if moment is None:
        return "--:--:--"
    return f"{moment.astimezone(timezone.utc):%H:%M:%S}"


def _epoch_ms(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1000) if moment else 0


def _gantt_text(text: str) -> str:
    """Task names safe inside a Mermaid gantt line (no ':', '#', ';')."""
    cleaned = "".join(" " if char in ":#;`" else char for char in text)
    cleaned = " ".join(cleaned.split())
    return cleaned[:60] or "task"


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _one_line(text: str) -> str:
    return " ".join(text.split())
