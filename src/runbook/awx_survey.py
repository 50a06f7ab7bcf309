# SPDX-License-Identifier: GPL-3.0-or-later
"""AWX job templates from the scenario catalog: one per scenario, its survey built
from the extra vars the playbook's header declares (the ones the CLI checks).

    python -m runbook.awx_survey PROJECT_DIR    # JSON list, read by playbooks/internal/awx.yml

A survey question per extra var: `multiplechoice` for choices and booleans
(`true`/`false`, as `-e` takes them), `integer` for whole numbers, `text`
otherwise. AWX surveys cannot check a pattern: a text question names its
pattern, and the playbook's first task refuses a value that does not match it
before anything changes, as it does for `ansible-playbook -e`. A destructive
scenario gets one more, required question whose only answer is the
confirmation (the CLI's --yes): AWX does not launch the job without it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runbook.catalog import Catalog, Scenario, VarSpec, by_severity, load_catalog

CONFIRM_VARIABLE = "runbook_confirm"
TEMPLATE_PREFIX = "runbook"


def confirm_answer(scenario: Scenario) -> str:
    """The one answer of a destructive scenario's confirmation question."""
    return f"yes, run {scenario.name}"


def question(spec: VarSpec) -> dict[str, Any]:
    """The survey question of one declared extra var."""
    item: dict[str, Any] = {
        "question_name": spec.name,
        "question_description": _description(spec),
        "variable": spec.name,
        "required": False,
    }
    if spec.choices or spec.type == "bool":
        choices = list(spec.choices) or ["true", "false"]
        item.update(type="multiplechoice", choices=choices, default=spec.default_text)
    elif spec.type == "int":
        item.update(type="integer", default=spec.default if isinstance(spec.default, int) else "")
    else:
        item.update(type="text", default=spec.default_text)
    return item


def confirm_question(scenario: Scenario) -> dict[str, Any]:
    return {
        "question_name": "Confirm",
        "question_description": f"{scenario.title} is destructive: it changes the hosts. Pick the answer to run it.",
        "variable": CONFIRM_VARIABLE,
        "required": True,
        "type": "multiplechoice",
        "choices": [confirm_answer(scenario)],
        "default": "",
    }


def survey_spec(scenario: Scenario) -> dict[str, Any]:
    """AWX's survey_spec for the scenario; {} when it asks nothing (AWX refuses an empty spec)."""
    questions = [question(spec) for spec in scenario.extra_vars.values()]
    if scenario.destructive:
        questions.append(confirm_question(scenario))
    if not questions:
        return {}
    return {"name": f"{TEMPLATE_PREFIX} {scenario.name}", "description": scenario.title, "spec": questions}


def job_template(scenario: Scenario) -> dict[str, Any]:
    """What awx.awx.job_template needs to know about one scenario."""
    spec = survey_spec(scenario)
    destructive = ", destructive" if scenario.destructive else ""
    return {
        "name": f"{TEMPLATE_PREFIX} {scenario.name}: {scenario.title}",
        "description": f"Runbook {_section(scenario)}, {scenario.severity}{destructive}",
        "playbook": f"playbooks/{scenario.path.name}",
        "survey_enabled": bool(spec),
        "survey_spec": spec,
    }


def job_templates(catalog: Catalog) -> list[dict[str, Any]]:
    """One job template per scenario, most severe first (the order of `runbook list`)."""
    return [job_template(scenario) for scenario in by_severity(catalog.scenarios.values())]


def _section(scenario: Scenario) -> str:
    return f"section {scenario.section}" if scenario.section.isdigit() else scenario.section


def _description(spec: VarSpec) -> str:
    text = spec.description or spec.name
    if spec.pattern:
        return f"{text}. Must match {spec.pattern} (the playbook refuses anything else before it changes a host)."
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m runbook.awx_survey PROJECT_DIR", file=sys.stderr)
        return 2
    project = Path(args[0])
    if not (project / "playbooks").is_dir():
        print(f"runbook.awx_survey: no playbooks/ directory in {project}", file=sys.stderr)
        return 2
    print(json.dumps(job_templates(load_catalog(project)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
