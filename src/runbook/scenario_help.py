# SPDX-License-Identifier: GPL-3.0-or-later
"""`runbook run SCENARIO --help`: the scenario's variables (defaults, patterns), tags, an example and the exit codes."""

from __future__ import annotations

import re
import shlex

from runbook.catalog import Scenario, VarSpec
from runbook.validate import CONTRACT_VARS

_LITERAL = re.compile(r"[A-Za-z0-9_.-]+")
EXIT_CODES = (
    (0, "success"),
    (1, "the scenario failed on a host"),
    (2, "bad input, nothing run"),
    (3, "a host unreachable"),
    (4, "refused: destructive scenario without --yes and no terminal to confirm"),
    (130, "interrupted (Ctrl-C, SIGTERM, SIGHUP)"),
)


def scenario_help(scenario: Scenario, options_help: str) -> str:
    """The whole help text; `options_help` is argparse's list of `run`'s options."""
    kind = "destructive: asks on a terminal, else needs --yes" if scenario.destructive else "not destructive"
    lines = [
        f"usage: runbook run {scenario.name} [-i INVENTORY] [-e KEY=VALUE ...] [options]",
        "",
        f"{scenario.name}: {scenario.title}",
        f"runbook section {scenario.section}, {scenario.severity}, {kind}; acts on hosts: {scenario.hosts}",
        f"playbook: playbooks/{scenario.path.name}",
        "",
        "variables (-e NAME=VALUE):",
    ]
    if scenario.extra_vars:
        for spec in scenario.extra_vars.values():
            lines += _variable(spec)
    else:
        lines.append("  none of its own (the contract variables and Ansible's connection variables are taken)")
    lines += ["", "contract variables (-e NAME=VALUE, or the inventory; README: What your server needs):",
              *_wrapped(sorted(CONTRACT_VARS))]
    if scenario.tags:
        lines += ["", f"tags (--tags, --skip-tags): {', '.join(scenario.tags)}"]
    lines += ["", "example:", f"  {example(scenario)}", "", "exit codes:"]
    lines += [f"  {code:<4} {meaning}" for code, meaning in EXIT_CODES]
    options = options_help.split("\n\n", 1)[-1].strip("\n")  # without argparse's own usage line
    return "\n".join([*lines, "", options, ""])


def _wrapped(names: list[str], width: int = 96) -> list[str]:
    lines, line = [], ""
    for name in names:
        if line and len(line) + 2 + len(name) > width:
            lines.append("  " + line + ",")
            line = name
        else:
            line = f"{line}, {name}" if line else name
    return lines + ["  " + line] if line else lines


def _variable(spec: VarSpec) -> list[str]:
    facts = [spec.type]
    if spec.choices:
        facts.append("one of " + "|".join(spec.choices))
    if spec.pattern:
        facts.append(f"matches {spec.pattern}")
    default = spec.default_text
    facts.append(f"default {default}" if default else "default: chosen by the playbook")
    lines = [f"  {spec.name}={spec.accepted}  ({'; '.join(facts)})"]
    if spec.description.strip():
        lines.append(f"      {' '.join(spec.description.split())}")
    return lines


def example(scenario: Scenario) -> str:
    """One command that runs the scenario, with its first variable set to an accepted value."""
    words = ["runbook", "run", scenario.name, "-i", "inventory/production.yml"]
    for spec in scenario.extra_vars.values():
        value = _example_value(spec)
        if value:
            words += ["-e", f"{spec.name}={value}"]
            break
    if scenario.destructive:
        words.append("--yes")
    return shlex.join(words)


def _example_value(spec: VarSpec) -> str:
    if spec.choices:
        return spec.choices[-1] if spec.default_text == spec.choices[0] else spec.choices[0]
    if spec.type == "bool":
        return "false" if spec.default_text == "true" else "true"
    if spec.default_text or not spec.pattern:
        return spec.default_text
    # a pattern without a default: one of its literal alternatives, when it has one (e.g. last-good)
    for word in re.split(r"[|()^$]", spec.pattern):
        if _LITERAL.fullmatch(word) and re.fullmatch(spec.pattern, word):
            return word
    return ""
