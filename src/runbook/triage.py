# SPDX-License-Identifier: GPL-3.0-or-later
"""Triage: from one host's published diagnosis to the scenarios to run, ranked.

The rules are data (playbooks/triage/rules.yml, described at its top; read and
checked by runbook.triage_rules). This module tests every rule on a host's
diagnosis (the shape of runbook.diagnosis), drops the rules another matching rule
explains, and groups what is left into verdicts: scenario, vars, severity and
evidence lines, most severe first, then in the file's order (causes first); each
with the exact `runbook run` command, and the text a person reads.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.catalog import SEVERITIES
from runbook.triage_rules import Rule

RULES_FILE = Path("playbooks") / "triage" / "rules.yml"
DIAGNOSE = "diagnose"  # the scenario whose published diagnosis the rules read


@dataclass
class Verdict:
    """One scenario to run on a host, with why."""

    scenario: str
    severity: str
    vars: dict[str, str]
    evidence: list[str]
    rules: list[str]
    explained: list[str] = field(default_factory=list)  # evidence of the symptoms this cause explains
    report_only: bool = False  # a rule says triage reports it and never runs it

    def command(self, host: str, inventories: Sequence[str], options: Sequence[str] = ()) -> str:
        """The `runbook run` command line for this verdict on this host."""
        words = ["runbook", "run", self.scenario]
        for inventory in inventories:
            words += ["-i", inventory]
        words += ["--limit", host]
        for name, value in self.vars.items():
            words += ["-e", f"{name}={value}"]
        return shlex.join([*words, *options])

    def to_dict(self, host: str, inventories: Sequence[str], options: Sequence[str] = ()) -> dict[str, Any]:
        return {"scenario": self.scenario, "severity": self.severity, "vars": dict(self.vars),
                "evidence": list(self.evidence), "rules": list(self.rules), "explained": list(self.explained),
                "report_only": self.report_only, "command": self.command(host, inventories, options)}


def per_host(rules: Sequence[Rule], diagnoses: dict[str, dict[str, Any]], hosts: Collection[str],
             unreachable: Collection[str], inventories: Sequence[str],
             options: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Each host's triage, by name: {diagnosed, verdicts (as to_dict)}, or {diagnosed: false, reason}
    for a host the run could not reach or that published no diagnosis."""
    found: dict[str, dict[str, Any]] = {}
    for host in sorted(set(hosts) | set(diagnoses)):
        if host in unreachable or host not in diagnoses:
            why = "unreachable" if host in unreachable else "the diagnosis failed"
            found[host] = {"diagnosed": False, "reason": why, "verdicts": []}
            continue
        verdicts = triage(rules, diagnoses[host])
        found[host] = {"diagnosed": True, "verdicts": [verdict.to_dict(host, inventories, options)
                                                       for verdict in verdicts]}
    return found


def host_lines(host: str, found: dict[str, Any], titles: dict[str, str]) -> list[str]:
    """One host's triage as text: its verdicts (from Verdict.to_dict), nothing to do, or why it was not diagnosed."""
    if not found["diagnosed"]:
        return [f"{host}: not diagnosed ({found['reason']})"]
    if not found["verdicts"]:
        return [f"{host}: nothing to do (no triage rule matched its diagnosis)"]
    count = len(found["verdicts"])
    lines = [f"{host}: {count} verdict{'' if count == 1 else 's'}, most urgent first"]
    for number, verdict in enumerate(found["verdicts"], start=1):
        title = titles.get(verdict["scenario"], verdict["scenario"])
        lines.append(f"  {number}. {verdict['severity']} {verdict['scenario']}: {title}")
        lines += [f"     evidence: {line}" for line in verdict["evidence"]]
        lines += [f"     explains: {line}" for line in verdict["explained"]]
        if verdict.get("report_only"):
            lines.append(f"     triage never runs this; a person decides: {verdict['command']}")
        else:
            lines.append(f"     run: {verdict['command']}")
    return lines


# the mapping -------------------------------------------------------------


def triage(rules: Sequence[Rule], diagnosis: dict[str, Any]) -> list[Verdict]:
    """The verdicts for one host's diagnosis, most urgent first; [] when nothing is wrong."""
    matched = {rule.id: lines for rule in rules if (lines := rule.evidence_lines(diagnosis))}
    explained_by: dict[str, str] = {}
    for rule in rules:
        if rule.id in matched:
            for other in rule.explains:
                if other in matched:
                    explained_by.setdefault(other, rule.id)
    verdicts: dict[tuple[str, tuple[tuple[str, str], ...]], Verdict] = {}
    for rule in rules:
        if rule.id not in matched or rule.id in explained_by:
            continue
        rule_vars = rule.verdict_vars(diagnosis)
        key = (rule.scenario, tuple(sorted(rule_vars.items())))
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = Verdict(rule.scenario, rule.severity, rule_vars, [], [])
        verdict.report_only = verdict.report_only or rule.report_only
        verdict.evidence += matched[rule.id]
        verdict.rules.append(rule.id)
        verdict.severity = min(verdict.severity, rule.severity, key=SEVERITIES.index)
    for other, cause in explained_by.items():
        holder = next((verdict for verdict in verdicts.values() if cause in verdict.rules), None)
        if holder is not None:
            holder.explained += matched[other]
    # verdicts holds them in the order of their first rule; a stable sort keeps it within a severity
    return sorted(verdicts.values(), key=lambda verdict: SEVERITIES.index(verdict.severity))
