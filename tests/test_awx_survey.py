# SPDX-License-Identifier: GPL-3.0-or-later
"""AWX job templates and surveys generated from the catalog (src/runbook/awx_survey.py):
the same extra vars, choices, defaults and patterns the CLI checks, a required
confirmation for destructive scenarios, and specs AWX's own rules accept.

No AWX runs here (it needs Kubernetes and images from registries): the specs are
checked against the catalog, the CLI's validation and the rules of AWX's API
(awx/api/views JobTemplateSurveySpec._validate_spec_data), restated below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbook import awx_survey
from runbook.catalog import Scenario, load_catalog
from runbook.errors import BadInput
from runbook.validate import coerce

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT)
SCENARIOS = sorted(CATALOG.scenarios.values(), key=lambda scenario: scenario.name)
# AWX's survey question types and the Python type of a non-empty default of each.
AWX_TYPES: dict[str, type] = {"text": str, "textarea": str, "password": str, "integer": int, "float": float,
                              "multiplechoice": str, "multiselect": str}


def awx_refusals(survey: dict[str, Any]) -> list[str]:
    """Why AWX's API would refuse this survey_spec (its _validate_spec_data); [] when it accepts it."""
    problems = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            problems.append(f"{field} missing or not a {kind.__name__}")
    if problems or not survey["spec"]:
        return problems or ["spec has no question"]
    seen: set[str] = set()
    for index, item in enumerate(survey["spec"]):
        for field, kind in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
            if not isinstance(item.get(field), kind):
                problems.append(f"question {index}: {field} missing or not a {kind.__name__}")
        if item.get("variable") in seen:
            problems.append(f"question {index}: variable {item['variable']} twice")
        seen.add(item.get("variable"))
        if item.get("type") not in AWX_TYPES:
            problems.append(f"question {index}: type {item.get('type')!r}")
            continue
        default = item.get("default", "")
        if default != "" and not isinstance(default, AWX_TYPES[item["type"]]):
            problems.append(f"question {index}: default {default!r} is not a {item['type']}")
        for limit in ("min", "max"):
            if item.get(limit) is not None and not isinstance(item[limit], int):
                problems.append(f"question {index}: {limit} is not an integer")
        if item["type"] in ("multiplechoice", "multiselect"):
            choices = item.get("choices")
            if not choices:
                problems.append(f"question {index}: {item['type']} without choices")
            elif default != "" and default not in choices:
                problems.append(f"question {index}: default {default!r} is not one of the choices")
    return problems


def questions(scenario: Scenario) -> dict[str, dict[str, Any]]:
    return {item["variable"]: item for item in awx_survey.survey_spec(scenario).get("spec", [])}


def cli_accepts(scenario: Scenario, name: str, value: str) -> bool:
    try:
        coerce(scenario.extra_vars[name], value)
    except BadInput:
        return False
    return True


def test_one_job_template_per_scenario_with_its_playbook() -> None:
    templates = awx_survey.job_templates(CATALOG)
    assert len(templates) == len(CATALOG.scenarios) >= 10
    assert len({template["name"] for template in templates}) == len(templates)
    for template in templates:
        assert (ROOT / template["playbook"]).is_file(), template["playbook"]
    assert {template["playbook"] for template in templates} == {
        f"playbooks/{scenario.path.name}" for scenario in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_the_survey_asks_exactly_the_declared_extra_vars(scenario: Scenario) -> None:
    asked = questions(scenario)
    confirm = {awx_survey.CONFIRM_VARIABLE} if scenario.destructive else set()
    assert set(asked) == set(scenario.extra_vars) | confirm
    template = awx_survey.job_template(scenario)
    assert template["survey_enabled"] is bool(asked)
    if asked:
        assert awx_refusals(template["survey_spec"]) == []
    else:
        assert template["survey_spec"] == {}  # AWX refuses an empty spec; {} removes a survey


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_choices_defaults_and_patterns_are_the_catalogs(scenario: Scenario) -> None:
    asked = questions(scenario)
    for name, spec in scenario.extra_vars.items():
        item = asked[name]
        assert item["required"] is False, name  # every declared var has the playbook's default
        if spec.choices:
            assert (item["type"], item["choices"]) == ("multiplechoice", list(spec.choices)), name
        elif spec.type == "bool":
            assert (item["type"], item["choices"]) == ("multiplechoice", ["true", "false"]), name
        elif spec.type == "int":
            assert item["type"] == "integer", name
        else:
            assert item["type"] == "text", name
        assert str(item["default"]) == spec.default_text or (item["default"] == "" and spec.default is None), name
        if spec.pattern:
            assert spec.pattern in item["question_description"], name


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_every_answer_the_survey_offers_is_one_the_cli_accepts(scenario: Scenario) -> None:
    for name, item in questions(scenario).items():
        if name == awx_survey.CONFIRM_VARIABLE:
            continue
        offered = list(item.get("choices", [])) + ([str(item["default"])] if item["default"] != "" else [])
        for value in offered:
            assert cli_accepts(scenario, name, value), f"{scenario.name}: {name}={value!r}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_destructive_scenarios_ask_for_a_confirmation_awx_requires(scenario: Scenario) -> None:
    confirm = questions(scenario).get(awx_survey.CONFIRM_VARIABLE)
    if not scenario.destructive:
        assert confirm is None
        return
    assert confirm is not None
    assert confirm["required"] is True
    assert confirm["type"] == "multiplechoice"
    assert confirm["choices"] == [awx_survey.confirm_answer(scenario)]
    assert confirm["default"] == ""  # no default: a person has to pick the answer
    assert "destructive" in confirm["question_description"]
    assert "destructive" in awx_survey.job_template(scenario)["description"]


def test_the_catalog_has_destructive_and_pattern_checked_scenarios() -> None:
    """The tests above would pass vacuously on a catalog without them."""
    assert {"rollback", "deploy"} <= {scenario.name for scenario in SCENARIOS if scenario.destructive}
    assert any(spec.pattern for scenario in SCENARIOS for spec in scenario.extra_vars.values())


def test_every_var_type_maps_to_an_awx_question(tmp_path: Path) -> None:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    header = {"title": "Demo", "section": "1", "severity": "P1", "destructive": False, "extra_vars": {
        "mode": {"choices": ["a", "b"], "default": "b"},
        "flag": {"type": "bool"},
        "count": {"type": "int", "default": 3},
        "limit": {"type": "int"},
        "name": {"pattern": "^[a-z]+$", "description": "A name"},
    }}
    (playbooks / "demo.yml").write_text(yaml.safe_dump([{"hosts": "all", "vars": {"runbook_scenario": header}}]))
    (scenario,) = load_catalog(tmp_path).scenarios.values()
    asked = questions(scenario)
    assert (asked["mode"]["type"], asked["mode"]["choices"], asked["mode"]["default"]) == ("multiplechoice", ["a", "b"], "b")
    assert (asked["flag"]["choices"], asked["flag"]["default"]) == (["true", "false"], "")
    assert (asked["count"]["type"], asked["count"]["default"]) == ("integer", 3)
    assert (asked["limit"]["type"], asked["limit"]["default"]) == ("integer", "")
    assert asked["name"]["question_description"].startswith("A name. Must match ^[a-z]+$")
    assert awx_refusals(awx_survey.survey_spec(scenario)) == []


def test_the_awx_rules_restated_here_do_refuse_a_bad_spec() -> None:
    bad = {"name": "x", "description": "", "spec": [
        {"type": "multiplechoice", "question_name": "q", "variable": "v", "required": False,
         "choices": ["a"], "default": "b"},
        {"type": "integer", "question_name": "q", "variable": "v", "required": "no", "default": "3"},
        {"type": "bool", "question_name": "q", "variable": "w", "required": False},
    ]}
    assert len(awx_refusals(bad)) == 5
    assert awx_refusals({"name": "x", "description": "", "spec": []}) == ["spec has no question"]


def test_the_entry_point_prints_the_templates_as_json() -> None:
    """As playbooks/internal/awx.yml runs it: the clone's src/ on PYTHONPATH, the project as argument."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, "-m", "runbook.awx_survey", str(ROOT)], capture_output=True,
                            text=True, env=env, timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == awx_survey.job_templates(CATALOG)


@pytest.mark.parametrize("argv", [[], ["/nonexistent"], ["a", "b"]])
def test_the_entry_point_refuses_a_wrong_call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert awx_survey.main(argv) == 2
    assert capsys.readouterr().out == ""


def test_the_playbook_runs_that_entry_point_and_loops_over_its_output() -> None:
    (play,) = yaml.safe_load((ROOT / "playbooks" / "internal" / "awx.yml").read_text())
    tasks = {task["name"]: task for task in play["tasks"]}
    read = tasks["Read the job templates and surveys from the scenario catalog"]
    assert read["ansible.builtin.command"]["argv"][1:3] == ["-m", "runbook.awx_survey"]
    assert read["changed_when"] is False and read["check_mode"] is False
    create = tasks["Create or update the job template of each scenario"]
    assert create["loop"] == "{{ awx_catalog.stdout | from_json }}"
    module = create["awx.awx.job_template"]
    assert module["survey_spec"] == "{{ item.survey_spec }}" and module["playbook"] == "{{ item.playbook }}"
    assert module["ask_variables_on_launch"] is False


def test_the_playbook_refuses_to_start_without_project_and_inventory() -> None:
    binary = Path(sys.executable).parent / "ansible-playbook"
    result = subprocess.run([str(binary), "playbooks/internal/awx.yml"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert result.returncode == 2, result.stdout[-2000:]
    assert "Give -e awx_project=NAME" in result.stdout
    assert "Read the job templates" not in result.stdout
