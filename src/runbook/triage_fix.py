# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook triage --fix`: what to fix on each host, when a diagnosis is too old to act on, what the circuit
breaker on the host decided, whether the symptom cleared, and the summary kept in the record.

The runs themselves (diagnosis, fix, re-diagnosis) go through the CLI's one run path (runbook.cli._run);
the breaker's record is playbooks/internal/triage_fix_log.yml (module runbook.ops.runbook_triage_fixes),
which decides on the host's clock.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.escalation import Contact, contacts_for
from runbook.triage_rules import Rule

FIX_LOG_PLAYBOOK = Path("playbooks") / "internal" / "triage_fix_log.yml"
PLAN_VAR = "runbook_triage_fix_plan"
MAX_FIXES_VAR = "runbook_triage_max_fixes"
WINDOW_VAR = "runbook_triage_window"
FRESH_FOR = 60.0  # seconds: a diagnosis older than this is never acted on
REPORT_ONLY = frozenset({"security"})  # reported, never run by triage, whatever the rules file says


def age(diagnosis_started: float, now: float) -> float:
    """How old a diagnosis is (monotonic seconds): counted from the start of its run, the oldest its data can be."""
    return max(0.0, now - diagnosis_started)


def is_fresh(diagnosis_started: float, now: float, limit: float = FRESH_FOR) -> bool:
    return age(diagnosis_started, now) <= limit


@dataclass
class HostFix:
    """One host's --fix: the verdict acted on, what stopped it or the fix run, and the re-diagnosis."""

    verdict: dict[str, Any] | None = None  # the top verdict (Verdict.to_dict), None: nothing to do
    refused: str = ""  # why it was not fixed (report-only scenario, breaker, fix log not written)
    breaker: dict[str, Any] = field(default_factory=dict)  # {recent, max_fixes, window_seconds} from the host
    escalate: list[Contact] = field(default_factory=list)  # when the breaker tripped
    fix: dict[str, Any] | None = None  # {scenario, run_id, exit_code}
    cleared: bool | None = None  # the verdict's rules no longer match the re-diagnosis
    next: dict[str, Any] | None = None  # the next proposal when not cleared
    time_to_recover_s: float | None = None


def plan(hosts: dict[str, dict[str, Any]]) -> dict[str, HostFix]:
    """Each diagnosed host's top verdict to act on; a report-only scenario (security) is refused, never run."""
    planned: dict[str, HostFix] = {}
    for host, found in hosts.items():
        if not found.get("diagnosed") or not found.get("verdicts"):
            continue
        top = found["verdicts"][0]
        entry = planned[host] = HostFix(verdict=top)
        if is_report_only(top):
            entry.refused = (f"{top['scenario']} is reported, never run by triage: read the evidence, then run "
                             f"it yourself: {top['command']}")
    return planned


def is_report_only(verdict: dict[str, Any]) -> bool:
    """A verdict a person acts on: its rules say `report_only`, or its scenario is security."""
    return bool(verdict.get("report_only")) or verdict["scenario"] in REPORT_ONLY


def to_run(planned: dict[str, HostFix]) -> dict[str, HostFix]:
    return {host: entry for host, entry in planned.items() if entry.verdict is not None and not entry.refused}


def scenarios(planned: dict[str, HostFix]) -> set[str]:
    """The scenarios the plan would run."""
    return {entry.verdict["scenario"] for entry in to_run(planned).values() if entry.verdict is not None}


def groups(planned: dict[str, HostFix]) -> list[tuple[str, dict[str, str], list[str]]]:
    """(scenario, vars, hosts): one fix run per distinct verdict, each host in exactly one (one scenario per host)."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}
    for host, entry in to_run(planned).items():
        assert entry.verdict is not None
        key = (entry.verdict["scenario"], tuple(sorted(entry.verdict["vars"].items())))
        found.setdefault(key, []).append(host)
    return [(scenario, dict(pairs), sorted(hosts)) for (scenario, pairs), hosts in found.items()]


def apply_breaker(planned: dict[str, HostFix], published: dict[str, Any], failures: Sequence[str],
                  configured_contacts: dict[str, Any]) -> None:
    """Mark the hosts whose breaker tripped (with the contacts to escalate to) or whose fix log was not written."""
    decided = published.get("triage_fix_log") if isinstance(published.get("triage_fix_log"), dict) else {}
    for host, entry in to_run(planned).items():
        assert entry.verdict is not None
        scenario = entry.verdict["scenario"]
        decision = decided.get(host)
        if not isinstance(decision, dict) or "allowed" not in decision:
            why = next((line.split(": ", 1)[1] for line in failures if line.startswith(f"{host}: ")), "no answer")
            entry.refused = f"the fix log on the host was not written, so {scenario} was not run: {why}"
            continue
        entry.breaker = {"recent": decision.get("recent") or [], "max_fixes": decision.get("max_fixes"),
                         "window_seconds": decision.get("window_seconds")}
        if not decision["allowed"]:
            entry.escalate = contacts_for(scenario, "failed", configured_contacts)
            entry.refused = breaker_line(host, scenario, entry.breaker, entry.escalate)


def breaker_line(host: str, scenario: str, breaker: dict[str, Any], contacts: Sequence[Contact]) -> str:
    """The one line said when the breaker trips: what, how often, and whom to call."""
    window = breaker.get("window_seconds") or 0
    shown = f"{window // 3600} h" if window and window % 3600 == 0 else f"{window // 60} min" if window % 60 == 0 \
        else f"{window} s"
    who = "; ".join(f"{item.name}: {item.contact}" for item in contacts)
    return (f"circuit breaker: {scenario} was already run {len(breaker.get('recent') or [])} times on {host} within "
            f"{shown} (limit {breaker.get('max_fixes')}), not again: escalate to {who}")


def matched_rules(rules: Sequence[Rule], diagnosis: dict[str, Any]) -> set[str]:
    """The ids of the rules a diagnosis matches (explained ones included: a symptom is a symptom)."""
    return {rule.id for rule in rules if rule.evidence_lines(diagnosis)}


def judge(planned: dict[str, HostFix], rules: Sequence[Rule], diagnoses: dict[str, dict[str, Any]],
          rehosts: dict[str, dict[str, Any]], fixed: Collection[str], recovered_at: float) -> None:
    """After the re-diagnosis: per fixed host, whether the verdict's symptom cleared, else the next proposal."""
    for host in fixed:
        entry = planned[host]
        assert entry.verdict is not None
        if host not in diagnoses:
            entry.cleared = False  # not diagnosed again (unreachable, the diagnosis failed): not known cleared
            continue
        entry.cleared = not matched_rules(rules, diagnoses[host]) & set(entry.verdict["rules"])
        if entry.cleared:
            entry.time_to_recover_s = recovered_at
            continue
        others = [verdict for verdict in rehosts.get(host, {}).get("verdicts", [])
                  if verdict["scenario"] != entry.verdict["scenario"]]
        entry.next = others[0] if others else None


def host_summary(found: dict[str, Any], entry: HostFix | None, time_to_detect: float) -> dict[str, Any]:
    """One host's JSON under --fix: the triage's own fields, then fix, cleared, times."""
    summary = dict(found)
    summary.update(fix=None, cleared=None, refused=None, next=None, breaker=None, escalate=[],
                   time_to_detect_s=round(time_to_detect, 1) if found.get("diagnosed") else None,
                   time_to_recover_s=None)
    if entry is None:
        return summary
    summary.update(fix=entry.fix, cleared=entry.cleared, refused=entry.refused or None, next=entry.next,
                   breaker=entry.breaker or None,
                   escalate=[{"name": item.name, "contact": item.contact, "when": item.when} for item in entry.escalate],
                   time_to_recover_s=None if entry.time_to_recover_s is None else round(entry.time_to_recover_s, 1))
    return summary


def fix_lines(host: str, summary: dict[str, Any]) -> list[str]:
    """What --fix did on one host, as text (after the host's verdict lines)."""
    if summary.get("refused"):
        return [f"  not fixed: {summary['refused']}"]
    fix = summary.get("fix")
    if fix is None:
        return []
    lines = [f"  fix: {fix['scenario']}, run {fix['run_id']}, exit {fix['exit_code']}"]
    detect = summary.get("time_to_detect_s")
    if summary.get("cleared"):
        lines.append(f"  cleared: the re-diagnosis no longer shows it (time to detect {detect} s, "
                     f"time to recover {summary['time_to_recover_s']} s)")
        return lines
    lines.append(f"  NOT cleared: the re-diagnosis still shows it (time to detect {detect} s)")
    proposal = summary.get("next")
    if proposal:
        lines.append(f"  next: {proposal['severity']} {proposal['scenario']}: {proposal['command']}")
    else:
        lines.append(f"  next: no other verdict; escalate (the incident report names whom to call)")
    return lines


def record_summary(diagnosis_run: str, rediagnosis_run: str | None, hosts: dict[str, dict[str, Any]],
                   diagnosis_age_s: float) -> dict[str, Any]:
    """What the diagnosis's run.json keeps under `triage` (small: per host the verdict acted on, not all evidence)."""
    kept: dict[str, Any] = {}
    for host, summary in hosts.items():
        verdicts = summary.get("verdicts") or []
        kept[host] = {
            "verdicts": [f"{verdict['severity']} {verdict['scenario']}" for verdict in verdicts],
            "acted_on": verdicts[0]["rules"] if verdicts else [],
            "fix": summary.get("fix"),
            "refused": summary.get("refused"),
            "cleared": summary.get("cleared"),
            "next": summary["next"]["command"] if summary.get("next") else None,
            "time_to_detect_s": summary.get("time_to_detect_s"),
            "time_to_recover_s": summary.get("time_to_recover_s"),
        }
    return {"diagnosis_run_id": diagnosis_run, "diagnosis_age_s": round(diagnosis_age_s, 1),
            "rediagnosis_run_id": rediagnosis_run, "hosts": kept}


def report_lines(summary: dict[str, Any]) -> list[str]:
    """The incident report's triage section (a Markdown table, one row per host)."""
    lines = [f"Diagnosis run `{summary['diagnosis_run_id']}` ({summary['diagnosis_age_s']} s old when acted on); "
             f"re-diagnosis run `{summary.get('rediagnosis_run_id') or '-'}`.", "",
             "| Host | Verdicts | Fix (run, exit) | Cleared | Time to detect | Time to recover |",
             "|---|---|---|---|---|---|"]
    for host, item in summary["hosts"].items():
        fix = item.get("fix")
        shown_fix = f"{fix['scenario']} (`{fix['run_id']}`, exit {fix['exit_code']})" if fix else \
            (item.get("refused") or "-")
        cleared = "-" if item.get("cleared") is None else ("yes" if item["cleared"] else "no")
        detect = "-" if item.get("time_to_detect_s") is None else f"{item['time_to_detect_s']} s"
        recover = "-" if item.get("time_to_recover_s") is None else f"{item['time_to_recover_s']} s"
        verdicts = ", ".join(item.get("verdicts") or []) or "nothing to do"
        lines.append(f"| {host} | {verdicts} | {shown_fix} | {cleared} | {detect} | {recover} |")
    return lines
