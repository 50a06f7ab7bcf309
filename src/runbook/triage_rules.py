# SPDX-License-Identifier: GPL-3.0-or-later
"""The triage rules' language: reading playbooks/triage/rules.yml, and testing one rule on a diagnosis.

A rule reads named fields of a host's published diagnosis (paths such as
`guide.health.status` or `services[name=docker].state`), tests them with a fixed,
small set of tests (TESTS; nothing in the file is evaluated as code or as a
template) and quotes an evidence line. load_rules checks the whole file: a bad one
is BadInput, one line naming the file, the rule and what is wrong. What the
matching rules mean together (verdicts, ranking) is runbook.triage's concern.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runbook.catalog import SEVERITIES
from runbook.errors import BadInput

RULE_KEYS = ("id", "symptom", "for_each", "reads", "when", "scenario", "vars", "severity", "evidence", "explains",
             "report_only")
REQUIRED_KEYS = ("id", "symptom", "reads", "when", "scenario", "severity", "evidence")
TESTS = ("equals", "not_equals", "in", "not_in", "at_least", "below", "contains_any", "present")
LIST_TESTS = ("in", "not_in", "contains_any")
NUMBER_TESTS = ("at_least", "below")
ROW = "."  # a read of the row itself (for_each over a list of strings)
ROOT = "$."  # a read from the whole diagnosis, also in a for_each rule
# What a {READ} in a var's value may become: a plain word, never a template or a shell word.
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.,:-]{0,99}")

_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
# one step of a path: `key`, or `key[field=value]` (the row of the list `key` whose `field` is `value`)
_STEP = re.compile(rf"({_KEY})(?:\[({_KEY})=([^\]]+)\])?")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_VAR_NAME = re.compile(_KEY)


class _Missing:
    """What a path gives when the diagnosis has no such field."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True)
class Step:
    key: str
    where: tuple[str, str] | None = None  # (field, value) to pick one row of a list


@dataclass(frozen=True)
class Check:
    read: str
    test: str
    value: Any

    def holds(self, reads: dict[str, Any]) -> bool:
        return passes(self.test, reads[self.read], self.value)


@dataclass(frozen=True)
class Combined:
    kind: str  # all | any
    parts: tuple[Check | Combined, ...]

    def holds(self, reads: dict[str, Any]) -> bool:
        results = (part.holds(reads) for part in self.parts)
        return all(results) if self.kind == "all" else any(results)


@dataclass(frozen=True)
class Read:
    """A read: its steps, and whether they start at the whole diagnosis ($.) rather than the row."""

    steps: tuple[Step, ...]
    from_root: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    symptom: str
    reads: dict[str, Read]
    when: Check | Combined
    scenario: str
    severity: str
    evidence: str
    for_each: tuple[Step, ...] | None = None
    vars: dict[str, str] = field(default_factory=dict)
    explains: tuple[str, ...] = ()
    report_only: bool = False  # triage reports its verdict and never runs it

    def matching_reads(self, diagnosis: dict[str, Any]) -> list[dict[str, Any]]:
        """The reads of each row (or of the whole diagnosis) that matches; [] when the rule does not match."""
        rows = [diagnosis] if self.for_each is None else resolve(diagnosis, self.for_each)
        if not isinstance(rows, list):
            return []
        found = []
        for row in rows:
            reads = {name: resolve(diagnosis if path.from_root else row, path.steps)
                     for name, path in self.reads.items()}
            if self.when.holds(reads):
                found.append(reads)
        return found

    def evidence_lines(self, diagnosis: dict[str, Any]) -> list[str]:
        """One line per row (or for the whole diagnosis) that matches; [] when the rule does not match."""
        return [quote(self.evidence, reads) for reads in self.matching_reads(diagnosis)]

    def verdict_vars(self, diagnosis: dict[str, Any]) -> dict[str, str]:
        """The -e values of its verdict, each {READ} filled from the first matching row; a var whose value would not
        be a plain word (missing, or text with spaces or quotes) is left out, so the scenario's default applies."""
        matched = self.matching_reads(diagnosis)
        if not matched:
            return dict(self.vars)
        found = {}
        for name, template in self.vars.items():
            value = _PLACEHOLDER.sub(lambda match: _shown(matched[0][match.group(1)]), template)
            if _PLAIN_VALUE.fullmatch(value) and "unknown" not in value:
                found[name] = value
        return found


# reading the diagnosis ---------------------------------------------------


def parse_read(text: str) -> Read:
    """A read's path: `$.` first reads from the whole diagnosis."""
    if text.startswith(ROOT):
        return Read(parse_path(text[len(ROOT):]), from_root=True)
    return Read(parse_path(text))


def parse_path(text: str) -> tuple[Step, ...]:
    """`guide.health.status`, `services[name=docker].state`, or `.` (the row itself: no step)."""
    if text == ROW:
        return ()
    steps = []
    for part in text.split("."):
        match = _STEP.fullmatch(part)
        if not match:
            raise ValueError(f"{text!r} is not a path (dotted keys, a step may pick a row: key[field=value])")
        key, where_field, where_value = match.groups()
        steps.append(Step(key, (where_field, where_value) if where_field else None))
    return tuple(steps)


def resolve(data: Any, path: Sequence[Step]) -> Any:
    """The value at `path` in `data`, or MISSING."""
    value = data
    for step in path:
        if not isinstance(value, dict) or step.key not in value:
            return MISSING
        value = value[step.key]
        if step.where is not None:
            value = _row(value, *step.where)
            if value is MISSING:
                return MISSING
    return value


def _row(rows: Any, name: str, wanted: str) -> Any:
    """The first row of the list `rows` whose field `name` is `wanted` (compared as text), or MISSING."""
    if not isinstance(rows, list):
        return MISSING
    for row in rows:
        if isinstance(row, dict) and str(row.get(name)) == wanted:
            return row
    return MISSING


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(value: Any, wanted: Any) -> bool:
    """Equal, and true/false never equal to 1/0."""
    return isinstance(value, bool) == isinstance(wanted, bool) and value == wanted


def passes(test: str, value: Any, wanted: Any) -> bool:
    """One test of a rule on one value read from the diagnosis."""
    if test == "present":
        there = value is not MISSING and value is not None
        return there if wanted else not there
    if value is MISSING:
        return False
    if test == "equals":
        return _same(value, wanted)
    if test == "not_equals":
        return not _same(value, wanted)
    if test == "in":
        return any(_same(value, item) for item in wanted)
    if test == "not_in":
        return not any(_same(value, item) for item in wanted)
    if test == "at_least":
        return _number(value) and value >= wanted
    if test == "below":
        return _number(value) and value < wanted
    if test == "contains_any":
        return isinstance(value, str) and any(str(item).lower() in value.lower() for item in wanted)
    raise ValueError(f"unknown test {test}")


def _shown(value: Any) -> str:
    if value is MISSING:
        return "unknown"
    if value is None:
        return "no answer"
    return str(value)


def quote(template: str, reads: dict[str, Any]) -> str:
    """The evidence line: each {READ} replaced by what was read; a dangling ':' at the end dropped."""
    line = _PLACEHOLDER.sub(lambda match: _shown(reads[match.group(1)]), template)
    return " ".join(line.split()).rstrip(":").rstrip()


# reading and checking the rules file -------------------------------------


def load_rules(path: Path, scenarios: Collection[str]) -> list[Rule]:
    """The rules of `path`, checked; BadInput (one line) for a file that cannot be used."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"triage rules {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BadInput(f"triage rules {path}: not YAML{at}: {problem}") from None
    try:
        return parse_rules(data, scenarios)
    except ValueError as exc:
        raise BadInput(f"triage rules {path}: {exc}") from None


def parse_rules(data: Any, scenarios: Collection[str]) -> list[Rule]:
    """Rules from the file's data; ValueError saying which rule and what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data["rules"]:
        raise ValueError("expected a mapping with a non-empty list `rules`")
    rules: list[Rule] = []
    for number, item in enumerate(data["rules"], start=1):
        label = f"rule {item.get('id')}" if isinstance(item, dict) and isinstance(item.get("id"), str) \
            else f"rule #{number}"
        try:
            rule = _rule(item, scenarios)
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
        if any(seen.id == rule.id for seen in rules):
            raise ValueError(f"{label}: the id is used twice")
        rules.append(rule)
    _check_explains(rules)
    _check_report_only(rules)
    return rules


def _rule(item: Any, scenarios: Collection[str]) -> Rule:
    if not isinstance(item, dict):
        raise ValueError("expected a mapping")
    unknown = sorted(str(key) for key in item if key not in RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]} (keys: {', '.join(RULE_KEYS)})")
    missing = [key for key in REQUIRED_KEYS if key not in item]
    if missing:
        raise ValueError(f"{missing[0]} is missing")
    for key in ("id", "symptom", "scenario", "severity", "evidence"):
        if not isinstance(item[key], str) or not item[key].strip():
            raise ValueError(f"{key} must be a non-empty string")
    if not _ID.fullmatch(item["id"]):
        raise ValueError("id must be lowercase letters, digits and -")
    if item["scenario"] not in scenarios:
        raise ValueError(f"scenario {item['scenario']} is not a scenario (scenarios: {', '.join(sorted(scenarios))})")
    if item["severity"] not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    reads = _reads(item["reads"])
    for name in _PLACEHOLDER.findall(item["evidence"]):
        if name not in reads:
            raise ValueError(f"evidence quotes {{{name}}}, which is not one of its reads")
    rule_vars = _vars(item.get("vars"))
    for value in rule_vars.values():
        for name in _PLACEHOLDER.findall(value):
            if name not in reads:
                raise ValueError(f"vars fill {{{name}}}, which is not one of its reads")
    report_only = item.get("report_only", False)
    if not isinstance(report_only, bool):
        raise ValueError("report_only must be true or false")
    for_each = None
    if item.get("for_each") is not None:
        if not isinstance(item["for_each"], str):
            raise ValueError("for_each must be a path")
        for_each = parse_path(item["for_each"])
    explains = item.get("explains") or []
    if not isinstance(explains, list) or not all(isinstance(other, str) for other in explains):
        raise ValueError("explains must be a list of rule ids")
    return Rule(id=item["id"], symptom=item["symptom"], reads=reads, when=_condition(item["when"], reads),
                scenario=item["scenario"], severity=item["severity"], evidence=item["evidence"],
                for_each=for_each, vars=rule_vars, explains=tuple(explains), report_only=report_only)


def _reads(value: Any) -> dict[str, Read]:
    if not isinstance(value, dict) or not value:
        raise ValueError("reads must be a mapping of names to paths")
    reads = {}
    for name, path in value.items():
        if not isinstance(name, str) or not _VAR_NAME.fullmatch(name):
            raise ValueError(f"read name {name!r} must be a plain name (letters, digits, _)")
        if not isinstance(path, str):
            raise ValueError(f"read {name}: the path must be a string")
        reads[name] = parse_read(path)
    return reads


def _condition(value: Any, reads: dict[str, Read]) -> Check | Combined:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"a condition must be one of all:, any: or READ: {{TEST: VALUE}}, not {value!r}")
    ((key, body),) = value.items()
    if key in ("all", "any"):
        if not isinstance(body, list) or not body:
            raise ValueError(f"{key}: must be a non-empty list of conditions")
        return Combined(key, tuple(_condition(part, reads) for part in body))
    if key not in reads:
        raise ValueError(f"the condition tests {key}, which is not one of its reads")
    if not isinstance(body, dict) or len(body) != 1:
        raise ValueError(f"{key}: expected one test, {{TEST: VALUE}} (tests: {', '.join(TESTS)})")
    ((test, wanted),) = body.items()
    if test not in TESTS:
        raise ValueError(f"{key}: unknown test {test} (tests: {', '.join(TESTS)})")
    if test in LIST_TESTS and not isinstance(wanted, list):
        raise ValueError(f"{key}: {test} needs a list")
    if test in NUMBER_TESTS and not _number(wanted):
        raise ValueError(f"{key}: {test} needs a number")
    if test == "present" and not isinstance(wanted, bool):
        raise ValueError(f"{key}: present needs true or false")
    return Check(key, test, wanted)


def _vars(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("vars must be a mapping of -e names to values")
    found = {}
    for name, given in value.items():
        if not isinstance(name, str) or not _VAR_NAME.fullmatch(name):
            raise ValueError(f"vars: {name!r} is not a variable name")
        if isinstance(given, bool):
            given = "true" if given else "false"
        if not isinstance(given, (str, int)) or any(mark in str(given) for mark in ("{{", "{%", "{#")):
            raise ValueError(f"vars: {name} must be a plain string, number or true/false")
        found[name] = str(given)
    return found


def _check_report_only(rules: list[Rule]) -> None:
    """The rules of one scenario agree on report_only: a new rule for a scenario triage never runs cannot
    forget to say so (and make triage run it)."""
    for rule in rules:
        first = next(other for other in rules if other.scenario == rule.scenario)
        if rule.report_only != first.report_only:
            raise ValueError(f"rule {rule.id}: report_only is {str(rule.report_only).lower()}, but rule {first.id} of "
                             f"the same scenario {rule.scenario} has {str(first.report_only).lower()}")


def _check_explains(rules: list[Rule]) -> None:
    """Every id named in explains exists, and no rule explains itself, directly or around a circle."""
    by_id = {rule.id: rule for rule in rules}
    for rule in rules:
        for other in rule.explains:
            if other not in by_id:
                raise ValueError(f"rule {rule.id}: explains {other}, which is not a rule")
    for rule in rules:
        seen: set[str] = set()
        waiting = list(rule.explains)
        while waiting:
            other = waiting.pop()
            if other == rule.id:
                raise ValueError(f"rule {rule.id}: explains itself (through explains)")
            if other not in seen:
                seen.add(other)
                waiting += by_id[other].explains
