# SPDX-License-Identifier: GPL-3.0-or-later
"""One postmortem per incident: every run kept under the same `--incident ID`, merged.

`runbook report --incident INC-42` writes <runs>/incidents/INC-42.md in the
shape of the runbook's post-incident template (Date, Duration, Severity,
Summary, Timeline, Root Cause, Impact, Resolution, Prevention, Action Items,
Lessons Learned) plus the runs themselves. The parts the tool knows are
generated blocks (the same markers and digests as a run's report.md); a second
call rewrites only those, so what a person wrote outside them stays. A block a
person edited is never overwritten: the fresh text goes beside it instead.

What the runs say: the impact start (the first time a health check saw the
service down), when the automation first looked (the first run's start), every
run's result, when the service answered healthy again, and the changes made.
What only a person knows (acknowledged, users affected, cost, root cause,
owners of action items) is left as a field to fill in, never made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from runbook import record as records
from runbook import report
from runbook.errors import BadInput
from runbook.record import RunRecord
from runbook.recovery import seconds_text
from runbook.redact import Redactor

FOLDER = "incidents"
_SEVERITIES = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True)
class IncidentRun:
    record: RunRecord
    facts: report.RunFacts
    folder: Path


def runs_of(runs_dir: Path, incident: str) -> list[IncidentRun]:
    """Every kept run of this incident, oldest first; BadInput when there is none."""
    if not records.INCIDENT_PATTERN.fullmatch(incident):
        raise BadInput(f"--incident {incident!r}: use 1-64 letters, digits or -_.#")
    found = []
    for rec in records.history(runs_dir):
        if rec.incident != incident:
            continue
        folder = records.find(runs_dir, rec.run_id)
        found.append(IncidentRun(rec, report.read_facts(folder, rec.published), folder))
    if not found:
        raise BadInput(f"no kept run has --incident {incident} in {runs_dir} (runbook history --incident {incident})")
    return found


def write(runs_dir: Path, incident: str, redactor: Redactor | None = None) -> Path:
    """(Re)write the incident's report; returns the file written (beside an edited one when it was kept)."""
    runs = runs_of(runs_dir, incident)
    folder = runs_dir / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return report.write_kept(folder / f"{_file_name(incident)}.md", render(incident, runs, redactor or Redactor()))


def render(incident: str, runs: list[IncidentRun], redactor: Redactor) -> str:
    title = _title(runs)
    parts = [
        f"# Incident Report: {title}",
        "",
        report.generated_block("header", header(incident, runs), redactor),
        "",
        "**Status:** draft (write `final` here once the postmortem is reviewed)",
        "**Incident commander:** _To be filled in._",
        "**Users affected:** _~XXX users_",
        "",
        "## Summary",
        "",
        "_One paragraph: what users saw, how it was detected, what brought it back._",
        "",
        report.generated_block("timeline", timeline(runs), redactor),
        "",
        "- _HH:MM acknowledged by ... (add when known)_",
        "",
        "## Root Cause",
        "",
        report.TODO,
        "",
        "## Impact",
        "",
        report.generated_block("impact", [f"- Downtime: {_downtime(runs)}"], redactor),
        "- Users affected: _~XXX_",
        "- Data loss: _Yes/No_",
        "- Financial impact: _To be filled in._",
        "",
        report.generated_block("resolution", resolution(runs), redactor),
        "",
        "## Prevention",
        "",
        report.TODO,
        "",
        "## Action Items",
        "",
        "| Item | Owner | Due |",
        "|---|---|---|",
        "| _To be filled in._ | _name_ | _YYYY-MM-DD_ |",
        "",
        "## Lessons Learned",
        "",
        report.TODO,
        "",
        report.generated_block("runs", run_table(runs), redactor),
        "",
    ]
    return "\n".join(parts)


def header(incident: str, runs: list[IncidentRun]) -> list[str]:
    first = runs[0].record.started_at.astimezone(timezone.utc)
    versions = sorted({f"runbook {run.record.runbook_version or '?'} (ansible-core {run.record.ansible_core_version or '?'})"
                       for run in runs})
    return [
        f"<!-- Written by `runbook report --incident {incident}` from {len(runs)} run(s). It rewrites only "
        "the parts between runbook:generated markers; write outside them. -->",
        "",
        f"**Incident:** {incident}",
        f"**Date:** {first:%Y-%m-%d}",
        f"**Duration:** {_duration(runs)}",
        f"**Severity:** {_severity(runs)}",
        f"**Runs:** {len(runs)} ({', '.join(sorted({run.record.scenario for run in runs}))})",
        f"**Tool:** {', '.join(versions)}",
    ]


def timeline(runs: list[IncidentRun]) -> list[str]:
    """Impact start, first look, every run and the recovery, in time order (UTC)."""
    moments: list[tuple[datetime, str]] = []
    down = _down_at(runs)
    if down is not None:
        moments.append((down, "Impact start: a health check first saw the service down"))
    moments.append((runs[0].record.started_at, "Detected: the first `runbook` run started"))
    for run in runs:
        rec = run.record
        mode = ", check mode" if rec.check else ""
        moments.append((rec.started_at, f"Run `{rec.run_id}`: `{rec.scenario}` on {', '.join(rec.hosts) or 'no host'}"
                                        f"{mode}: {report.result_text(rec)} after {report.format_duration(rec.duration)}"))
    healthy = _healthy_at(runs)
    if healthy is not None:
        moments.append((healthy, "Resolved: the service answered healthy again"))
    lines = ["## Timeline", ""]
    lines += [f"- {moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC: {text}"
              for moment, text in sorted(moments, key=lambda item: item[0])]
    return lines


def resolution(runs: list[IncidentRun]) -> list[str]:
    lines = ["## Resolution", ""]
    for run in runs:
        lines += [f"Run `{run.record.run_id}` (`{run.record.scenario}`):", "",
                  *report.resolution(run.facts.results), ""]
    return lines[:-1]


def run_table(runs: list[IncidentRun]) -> list[str]:
    lines = ["## Runs", "", "| Run | Scenario | Hosts | Started (UTC) | Result | Time to recover | Report |",
             "|---|---|---|---|---|---|---|"]
    for run in runs:
        rec = run.record
        lines.append(f"| `{rec.run_id}` | `{rec.scenario}` | {', '.join(rec.hosts) or '-'} | "
                     f"{rec.started_at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} | {report.result_text(rec)} | "
                     f"{run.facts.recovery.text()} | `{run.folder / records.REPORT_FILE}` |")
    return lines


def _title(runs: list[IncidentRun]) -> str:
    """The scenario that acted first (diagnose only looks), else the first run's."""
    acting = [run.record for run in runs if run.record.scenario != "diagnose" and not run.record.check]
    return (acting or [runs[0].record])[0].title


def _severity(runs: list[IncidentRun]) -> str:
    found = {run.record.severity for run in runs if run.record.scenario != "diagnose"}
    ranked = [severity for severity in _SEVERITIES if severity in found]
    return ranked[0] if ranked else "unknown (only diagnoses ran)"


def _down_at(runs: list[IncidentRun]) -> datetime | None:
    moments = [moment for run in runs if (moment := run.facts.recovery.down_at) is not None]
    return min(moments) if moments else None


def _healthy_at(runs: list[IncidentRun]) -> datetime | None:
    """When the last run that saw the service down saw it healthy again; None if it never did."""
    seen = [run.facts.recovery for run in runs if run.facts.recovery.down_at is not None]
    if not seen or seen[-1].healthy_at is None:
        return None
    return seen[-1].healthy_at


def _duration(runs: list[IncidentRun]) -> str:
    """From the impact start (else the first run's start) to the recovery (else the last run's end)."""
    start = _down_at(runs) or runs[0].record.started_at
    end = _healthy_at(runs)
    basis = "impact start to healthy again"
    if end is None:
        last = runs[-1].record
        end = datetime.fromisoformat(last.finished) if last.finished else None
        basis = "first look to the last run's end; no health check saw it recover"
    if end is None:
        return "unknown (the last run did not finish)"
    return f"{seconds_text(max((end - start).total_seconds(), 0.0))} ({basis})"


def _downtime(runs: list[IncidentRun]) -> str:
    down, healthy = _down_at(runs), _healthy_at(runs)
    if down is None:
        return "not measured (no health check saw the service down)"
    if healthy is None:
        return "not recovered by the runs (see the timeline)"
    return f"{seconds_text((healthy - down).total_seconds())} (from the health checks)"


def _file_name(incident: str) -> str:
    return incident.replace("#", "_").replace("/", "_")
