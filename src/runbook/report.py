# SPDX-License-Identifier: GPL-3.0-or-later
"""The incident report (report.md), in the runbook's post-incident template.

Filled from the run record and its events. The generated parts live between
markers, `<!-- runbook:generated:start NAME sha256=... -->` and
`<!-- runbook:generated:end NAME -->`; the digest is that of the part as
written. Everything outside them (root cause, impact, prevention, action
items, lessons: the sections only a person can write) is kept when the report
is rewritten. When a person edited inside a generated part, or removed its
markers, report.md is left alone and the fresh report goes to
report.generated.md beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook import deadline, diagnosis, escalation, triage_fix
from runbook import recovery as recovery_values
from runbook.events import TaskResult, read_events, task_result
from runbook.record import REPORT_FILE, RunRecord
from runbook.recovery import HEALTH_ROLE, Recovery, seconds_text
from runbook.redact import Redactor

GENERATED_SUFFIX = ".generated.md"
GENERATED_FILE = "report" + GENERATED_SUFFIX
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
TODO = "_To be filled in._"
INCIDENT, DRY_RUN, DIAGNOSIS = "incident", "dry_run", "diagnosis"
# Read-only scenarios: their record is a diagnosis, not an incident report.
DIAGNOSIS_SCENARIOS = frozenset({"diagnose"})
SLOWEST = 5
PLAY_HOSTS = "runbook_play_hosts"  # published by runbook_lock's acquire step: every host of the play
_START = "<!-- runbook:generated:start {name} sha256={digest} -->"
_END = "<!-- runbook:generated:end {name} -->"
_BLOCK = re.compile(
    r"<!-- runbook:generated:start (?P<name>[a-z]+) sha256=(?P<digest>[0-9a-f]{64}) -->\n"
    r"(?P<body>.*?)\n<!-- runbook:generated:end (?P=name) -->",
    re.S,
)
_ANY_MARKER = re.compile(r"<!-- runbook:generated:(start|end)\b")
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
_DEBUG_ACTIONS = {"ansible.builtin.debug", "ansible.legacy.debug", "debug"}
_SHOWN_STATUSES = ("changed", "failed", "unreachable", "ignored")


@dataclass(frozen=True)
class Step:
    """One task result with the event fields that decide where it is shown."""

    result: TaskResult
    role: str = ""
    action: str = ""

    @property
    def is_health(self) -> bool:
        """The health_check role's verdict (its debug line) or its failure."""
        return self.role == HEALTH_ROLE and (self.action in _DEBUG_ACTIONS or self.result.status == "failed")

    @property
    def in_timeline(self) -> bool:
        return self.result.status in _SHOWN_STATUSES or self.is_health


@dataclass(frozen=True)
class RunFacts:
    """What a run's kept events say: its steps and the time to recover."""

    steps: list[Step]
    recovery: Recovery

    @property
    def results(self) -> list[TaskResult]:
        return [step.result for step in self.steps]


def read_facts(run_dir: Path, published: dict[str, Any] | None = None) -> RunFacts:
    """The run's steps from its kept events; its time to recover from what it published."""
    events = read_events(run_dir)
    steps = []
    for event in events:
        result = task_result(event)
        if result is None:
            continue
        data = event.get("event_data") or {}
        steps.append(Step(result, str(data.get("role") or ""),
                          str(data.get("resolved_action") or data.get("task_action") or "")))
    return RunFacts(steps, recovery_values.from_published(published or {}))


def write_report(run_dir: Path, record: RunRecord, facts: RunFacts | None = None,
                 redactor: Redactor | None = None) -> Path:
    """(Re)write the report; returns the file written: report.md, or report.generated.md beside an edited one."""
    facts = facts or read_facts(run_dir, record.published)
    return write_kept(run_dir / REPORT_FILE, render(record, facts, redactor or Redactor()))


def write_kept(path: Path, fresh: str) -> Path:
    """Write a report whose generated parts are rewritten and whose human parts are kept: into
    `path` when it is new or only its generated parts changed, else into NAME.generated.md
    beside it (a person edited inside a generated part). Returns the file written."""
    text = fresh
    if path.is_file():
        merged = merge(path.read_text(encoding="utf-8", errors="replace"), fresh)
        if merged is None:
            path = path.with_name(path.stem + GENERATED_SUFFIX)
        else:
            text = merged
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def kept_note(path: Path) -> str:
    """The one line to print when the report was left alone (`path` is the fresh one beside it), else ""."""
    if not path.name.endswith(GENERATED_SUFFIX):
        return ""
    kept = path.name[: -len(GENERATED_SUFFIX)] + ".md"
    return (f"runbook: {kept} was edited inside its generated parts (or their markers are gone): "
            f"left as it is, the fresh report is {path}")


def merge(existing: str, fresh: str) -> str | None:
    """The existing report with its generated parts replaced by the fresh ones; None when a person edited them."""
    new_blocks = {match["name"]: match[0] for match in _BLOCK.finditer(fresh)}
    old = list(_BLOCK.finditer(existing))
    names = [match["name"] for match in old]
    if sorted(names) != sorted(new_blocks) or len(_ANY_MARKER.findall(existing)) != 2 * len(old):
        return None
    if any(_digest(match["body"]) != match["digest"] for match in old):
        return None
    return _BLOCK.sub(lambda match: new_blocks[match["name"]], existing)


def generated_block(name: str, lines: list[str], redactor: Redactor) -> str:
    """Lines the tool writes (redacted) between markers that carry their digest, so a later
    rewrite replaces them only while nobody edited them."""
    body = redactor.text("\n".join(lines)).strip("\n")
    return "\n".join([_START.format(name=name, digest=_digest(body)), body, _END.format(name=name)])


def render(record: RunRecord, facts: RunFacts, redactor: Redactor) -> str:
    """The whole report: generated blocks (redacted, with their digests) between the human sections."""
    def block(name: str, lines: list[str]) -> str:
        return generated_block(name, lines, redactor)

    parts = [
        f"# {heading(record)}: {record.title}",
        "",
        block("header", header(record, facts)),
        "",
        "_Add what users saw and how the incident was detected._",
        "",
        block("body", body(record, facts)),
        "",
        "## Root Cause",
        "",
        "_To be filled in: the technical explanation of what caused the issue._",
        "",
        "## Impact",
        "",
        "- Downtime: _XX minutes_ (the time to recover above is what the health checks saw)",
        "- Users affected: _~XXX_",
        "- Data loss: _Yes/No_",
        "- Financial impact: _To be filled in._",
        "",
        block("resolution", ["## Resolution", "", *resolution(facts.results)]),
        "",
        "_Add anything that was done by hand._",
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
        block("appendix", appendix(record, facts.results)),
        "",
    ]
    return "\n".join(parts)


def kind(record: RunRecord) -> str:
    """What the record is: an incident, a dry run (--check) or a diagnosis (read-only scenario)."""
    if record.check:
        return DRY_RUN
    if record.scenario in DIAGNOSIS_SCENARIOS:
        return DIAGNOSIS
    return INCIDENT


def heading(record: RunRecord) -> str:
    return {DRY_RUN: "Dry run", DIAGNOSIS: "Diagnosis"}.get(kind(record), "Incident Report")


def _severity(record: RunRecord) -> list[str]:
    """An incident's severity; a dry run or a diagnosis is no incident and has none."""
    if kind(record) == DRY_RUN:
        return [f"**Record:** dry run (`--check`): nothing was changed; not an incident "
                f"(the scenario is {record.severity} when run for real)"]
    if kind(record) == DIAGNOSIS:
        return ["**Record:** diagnosis (read-only): nothing was changed; not an incident"]
    return [f"**Severity:** {record.severity}"]


def header(record: RunRecord, facts: RunFacts) -> list[str]:
    started = record.started_at.astimezone(timezone.utc)
    rows = [
        ("Scenario", f"`{record.scenario}`: runbook section {record.section}, {record.title}"),
        ("Run", f"`{record.run_id}`"),
        *([("Incident", record.incident)] if record.incident else []),
        ("Run by", record.operator or "unknown"),
        ("Command", f"`{record.command}`"),
        ("Hosts", ", ".join(record.hosts) or "none"),
        *([("Not reached", ", ".join(missed) + " (an earlier batch failed, so the run stopped before them)")]
          if (missed := not_reached(record)) else []),
        ("Started", f"{started:%Y-%m-%d %H:%M:%S} UTC"),
        ("Mode", "check (dry run, nothing changed)" if record.check else "live"),
        ("Result", f"**{result_text(record)}**"),
        ("Tool", f"runbook {record.runbook_version or 'unknown'} (ansible-core {record.ansible_core_version or 'unknown'})"),
    ]
    return [
        f"<!-- Written by `runbook` from run {record.run_id}. `runbook report {record.run_id}` rewrites "
        "only the parts between runbook:generated markers; write outside them. -->",
        "",
        f"**Date:** {started:%Y-%m-%d}",
        *([f"**Incident:** {record.incident}"] if record.incident else []),
        f"**Duration:** {_duration(facts)}",
        f"**Time to recover:** {facts.recovery.text()}",
        f"**Automation's own time:** {format_duration(record.duration)} (how long the run took, "
        "not how long the service was down)",
        *_severity(record),
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {_cell(value)} |" for name, value in rows),
        "",
        "## Summary",
        "",
        summary(record),
        *_preceded_by_blank(deadline.section(record.published)),
    ]


def _duration(facts: RunFacts) -> str:
    """The template's Duration: how long the service was down, as far as this run saw it."""
    seconds = facts.recovery.seconds
    if seconds is None:
        return facts.recovery.text()
    return f"{seconds_text(seconds)} (from the health checks)"


def not_reached(record: RunRecord) -> list[str]:
    """Hosts of the play (published by the run lock's step) that Ansible's recap lacks."""
    planned = record.published.get(PLAY_HOSTS)
    if not isinstance(planned, list):
        return []
    return [str(host) for host in planned if str(host) not in record.hosts]


def body(record: RunRecord, facts: RunFacts) -> list[str]:
    triage = ["## Triage and fix", "", *triage_fix.report_lines(record.triage), ""] if record.triage else []
    return [
        *triage,
        "## Timeline",
        "",
        *timeline(record, facts.steps),
        "",
        "### Slowest steps",
        "",
        *slowest(facts.results),
        "",
        "## Evidence before the fix",
        "",
        *evidence(record.published),
        "",
        "## Result",
        "",
        *result_section(record, facts.results),
        "",
        "## Escalation",
        "",
        *escalation_section(record),
        "",
        "## Published values",
        "",
        *published(record.published),
    ]


def appendix(record: RunRecord, results: list[TaskResult]) -> list[str]:
    return [
        "## Appendix",
        "",
        "### Every task",
        "",
        *every_task(results),
        "",
        "### Where the time went",
        "",
        *gantt(record, results),
    ]


def result_text(record: RunRecord) -> str:
    text = _RESULT_TEXT.get(record.result, record.result)
    return f"{text} (exit {record.exit_code})" if record.exit_code is not None else text


def summary(record: RunRecord) -> str:
    totals = {key: sum(record.stats.get(key, {}).values()) for key in ("ok", "changed", "failures", "dark", "skipped")}
    hosts = ", ".join(record.hosts) or "no host"
    mode = " in check mode" if record.check else ""
    who = f" for {record.operator}" if record.operator else ""
    return (
        f"`runbook` ran the playbook for runbook section {record.section} ({record.title}){mode} "
        f"on {hosts}{who}. {result_text(record)} after {format_duration(record.duration)}: "
        f"{totals['ok']} ok, {totals['changed']} changed, {totals['failures']} failed, "
        f"{totals['dark']} unreachable, {totals['skipped']} skipped.{unverified_text(record.published)}"
    )


def unverified(published: dict[str, Any]) -> list[str]:
    """The published values (payments, database) whose role could not verify its work from the app's answers."""
    return sorted(key for key, value in published.items()
                  if isinstance(value, dict) and value.get("verification") == "unverified")


def unverified_text(published: dict[str, Any]) -> str:
    names = unverified(published)
    if not names:
        return ""
    return (f" Unverified: {', '.join(names)} (done, but no answer of the app showed it; "
            "see the values below and check by hand).")


def timeline(record: RunRecord, steps: list[Step]) -> list[str]:
    lines = ["All times UTC. Changed, failed and health-check steps; every task is in the appendix.", "",
             f"- {_clock(record.started_at)} - Run started: `{record.command}`"]
    for step in steps:
        if step.in_timeline:
            lines.append(_task_line(step.result))
    if record.finished:
        ended = datetime.fromisoformat(record.finished)
        lines.append(f"- {_clock(ended)} - Run finished: {result_text(record)}")
    return lines


def every_task(results: list[TaskResult]) -> list[str]:
    if not results:
        return ["No task ran on a host."]
    return [_task_line(result) for result in results]


def slowest(results: list[TaskResult]) -> list[str]:
    timed = [result for result in results if result.status != "skipped" and result.start and result.end]
    if not timed:
        return ["No task ran on a host."]
    ranked = sorted(timed, key=lambda result: result.duration, reverse=True)[:SLOWEST]
    lines = ["| Step | Host | Status | Time |", "|---|---|---|---|"]
    lines += [f"| {_cell(result.task)} | {_cell(result.host)} | {result.status} | {result.duration:.1f}s |"
              for result in ranked]
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


def evidence(values: dict[str, Any]) -> list[str]:
    """The diagnose role's `diagnosis` (per host) as small tables; every key optional."""
    hosts = diagnosis_hosts(values)
    if not hosts:
        return ["No diagnosis was published by this run (the diagnose role publishes `diagnosis`)."]
    lines: list[str] = []
    for host, found in hosts.items():
        lines += [f"### {_cell(host)}", ""]
        for title, key, columns in diagnosis.TABLES:
            lines += _table(title, found.get(key), list(columns))
            if key == "disk":
                lines += _memory(found.get("memory"))
        lines += _log_errors(found.get("log_errors"))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def diagnosis_hosts(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{host: diagnosis} from the published `diagnosis`, only hosts whose value has a known key."""
    published = values.get("diagnosis")
    if not isinstance(published, dict):
        return {}
    return {str(host): found for host, found in sorted(published.items())
            if isinstance(found, dict) and any(key in found for key in diagnosis.KEYS)}


def _table(title: str, rows: Any, columns: list[tuple[str, str]]) -> list[str]:
    if not isinstance(rows, list) or not rows:
        return []
    lines = [f"{title}:", "", "| " + " | ".join(name for name, _ in columns) + " |",
             "|" + "---|" * len(columns)]
    for row in rows:
        if isinstance(row, dict):
            lines.append("| " + " | ".join(_value(row.get(key)) for _, key in columns) + " |")
    return lines + [""]


def _memory(memory: Any) -> list[str]:
    if not isinstance(memory, dict) or not memory:
        return []
    parts = [f"{label} {_value(memory[key])} MB" for label, key in diagnosis.MEMORY if key in memory]
    return [f"Memory: {', '.join(parts)}.", ""] if parts else []


def _log_errors(logs: Any) -> list[str]:
    if not isinstance(logs, dict):
        return []
    lines: list[str] = []
    for source, found in sorted(logs.items()):
        if not isinstance(found, list) or not found:
            continue
        lines += [f"Last error lines of {_cell(str(source))}:", "", "```text"]
        lines += [_one_line(str(line)).replace("```", "'''")[:300] for line in found[-10:]]
        lines += ["```", ""]
    return lines


def published(values: dict[str, Any]) -> list[str]:
    shown = {key: value for key, value in values.items()
             if key not in (PLAY_HOSTS, recovery_values.KEY)
             and not (key == "diagnosis" and diagnosis_hosts(values))
             and not (key == deadline.KEY and deadline.deadlines(values))}
    if not shown:
        return ["The playbook published no other values (`ansible.builtin.set_stats`)."]
    lines = ["Values the playbook published with `ansible.builtin.set_stats`:", "", "| Value | |", "|---|---|"]
    for key, value in sorted(Redactor().data(shown).items()):
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"| `{key}` | {_cell(text)} |")
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
    for host in not_reached(record):
        lines.append(f"| {host} (not reached) | - | - | - | - | - |")
    return lines


def escalation_section(record: RunRecord) -> list[str]:
    if record.result == "ok":
        return ["Not needed: the run succeeded."]
    contacts = escalation.contacts_for(record.scenario, record.result, record.escalation_contacts)
    lines = [f"The run did not succeed ({result_text(record)}). If the service is still down, escalate "
             "(the runbook's \"When to Escalate\"):", "", "| Who | Contact | When |", "|---|---|---|"]
    lines += [f"| {_cell(item.name)} | {_cell(item.contact)} | {_cell(item.when)} |" for item in contacts]
    if any(item == escalation.DEFAULTS[item.kind] for item in contacts):
        lines += ["", f"Set the contacts in the inventory variable `{escalation.CONTACTS_VAR}` "
                      "(keys hosting, database, payments; each name, contact, when)."]
    return lines


def resolution(results: list[TaskResult]) -> list[str]:
    changed = [result for result in results if result.status == "changed"]
    if not changed:
        return ["The automation changed nothing."]
    lines = ["What the automation changed:", ""]
    lines += [_one_line(f"- {_clock(result.start)} {result.host}: {result.task}") for result in changed]
    return lines


def step_summary(record: RunRecord, facts: RunFacts, report_path: Path) -> str:
    """A short Markdown summary for CI ($GITHUB_STEP_SUMMARY)."""
    lines = [
        f"### runbook {record.scenario}: {result_text(record)}"
        + (f", unverified: {', '.join(unverified(record.published))}" if unverified(record.published) else ""),
        "",
        "| Scenario | Hosts | Result | Time to recover | Automation's own time |",
        "|---|---|---|---|---|",
        f"| `{record.scenario}` ({_cell(record.title)}) | {_cell(', '.join(record.hosts) or 'none')} "
        f"| {result_text(record)} | {_cell(facts.recovery.text())} | {format_duration(record.duration)} |",
        "",
    ]
    changed = [result for result in facts.results if result.status == "changed"]
    failed = [result for result in facts.results if result.status in ("failed", "unreachable")]
    for title, items in (("Changed", changed), ("Failed", failed)):
        if items:
            lines.append(f"{title}:")
            lines += [_one_line(f"- {item.host}: {item.task}" + (f": {item.message}" if item.message else ""))
                      for item in items]
            lines.append("")
    lines += [f"Run `{record.run_id}`; report: `{report_path}`", ""]
    return "\n".join(lines)


def append_step_summary(text: str, redactor: Redactor) -> str:
    """Append to $GITHUB_STEP_SUMMARY when set (GitHub Actions); "" or one line saying why not."""
    target = os.environ.get(SUMMARY_ENV)
    if not target:
        return ""
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(redactor.text(text) + "\n")
    except OSError as exc:
        return f"runbook: warning: could not write the step summary to {target}: {exc.strerror or exc}"
    return ""


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


def _task_line(result: TaskResult) -> str:
    line = f"- {_clock(result.start)} - {result.host}: {result.task} - {result.status} ({result.duration:.1f}s)"
    if result.message:
        line += f": {result.message}"
    elif result.note:
        line += f": {result.note}"
    line = _one_line(line)
    return line[:400] + ("..." if len(line) > 400 else "")


def _preceded_by_blank(lines: list[str]) -> list[str]:
    return ["", *lines] if lines else []


def _digest(body: str) -> str:
    return hashlib.sha256(body.strip().encode("utf-8")).hexdigest()


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


def _value(value: Any) -> str:
    return "-" if value in (None, "") else _cell(str(value))


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def _one_line(text: str) -> str:
    return " ".join(text.split())
