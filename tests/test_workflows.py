# SPDX-License-Identifier: GPL-3.0-or-later
"""The GitHub Actions workflows (.github/workflows/): their inputs are the scenario's
declared extra vars, their shell check uses the catalog's patterns and decides as
the CLI does, and their steps really run here (bash, as GitHub runs `shell: bash`).

GitHub's schema check of the same files is `make lint` (check-jsonschema).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbook.catalog import Scenario, load_catalog
from runbook.errors import BadInput
from runbook.record import INCIDENT_PATTERN
from runbook.validate import coerce

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent  # the venv running the tests (make venv, make compat)
CHECK_JSONSCHEMA = BIN / "check-jsonschema"
# The scenarios a person starts from the Actions tab: workflow file stem = scenario name.
DISPATCHED = ("rollback", "deploy")
CHECK_STEP = "Check the inputs before Ansible starts"
# GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
# Values for the pattern-checked inputs: accepted and refused ones, tricky ones included.
VALUES = [
    "abc1234", "ABCDEF0123456789abcdef0123456789abcdef01", "HEAD~1", "HEAD~12", "last-good",
    "main", "release/2026.11", "v4", "feature_x-1",
    "abc123", "HEAD~", "HEAD~-1", "last-good ", " main", "abc1234\n", "main\nx", "a" * 101,
    "main..x", "a//b", "a@{1}", "x.lock", "main/", "main.", "-rf", "$(id)", "main;id",
    "{{ lookup('pipe','id') }}", "ａｂｃ1234", "",
]


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), name
    # YAML 1.1 reads the key `on` as true.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(name: str) -> list[dict[str, Any]]:
    (job,) = workflow(name)["jobs"].values()
    return job["steps"]


def step(name: str, title: str) -> dict[str, Any]:
    found = [item for item in steps(name) if item.get("name") == title]
    assert len(found) == 1, f"{name}.yml: no single step named {title!r}"
    return found[0]


def scenario(name: str) -> Scenario:
    return load_catalog(ROOT).get(name)


def run_step(item: dict[str, Any], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a step's script with its own env (inputs filled in by `env`), as GitHub would."""
    step_env = {name: env.get(name, "") for name in item.get("env", {})}
    full = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", **step_env)
    full.update({name: value for name, value in env.items() if name not in step_env})
    return subprocess.run([*BASH, item["run"]], cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


def check_inputs(name: str, **given: str) -> subprocess.CompletedProcess[str]:
    item = step(name, CHECK_STEP)
    defaults = {key.upper(): _text(spec.default) for key, spec in scenario(name).extra_vars.items()}
    env = {**defaults, **{key.upper(): value for key, value in given.items()}}
    env.update({key: value for key, value in item["env"].items() if key.endswith("_PATTERN")})
    return run_step(item, env)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def cli_accepts(spec_name: str, scenario_name: str, value: str) -> bool:
    try:
        coerce(scenario(scenario_name).extra_vars[spec_name], value)
    except BadInput:
        return False
    return True


def test_every_workflow_is_there() -> None:
    assert sorted(path.stem for path in WORKFLOWS.glob("*.yml")) == sorted(["ci", *DISPATCHED])


@pytest.mark.parametrize("name", DISPATCHED)
def test_inputs_are_the_scenarios_extra_vars_and_the_incident(name: str) -> None:
    inputs = workflow(name)["on"]["workflow_dispatch"]["inputs"]
    declared = scenario(name).extra_vars
    assert set(inputs) == set(declared) | {"incident"}
    for var, spec in declared.items():
        given = inputs[var]
        if spec.type == "bool":
            assert (given["type"], given["default"]) == ("boolean", spec.default), var
        elif spec.choices:
            assert (given["type"], given["options"]) == ("choice", list(spec.choices)), var
        else:
            assert (given["type"], given["default"]) == ("string", _text(spec.default)), var
    assert inputs["incident"]["type"] == "string"
    assert inputs["incident"].get("required", False) is False


@pytest.mark.parametrize("name", DISPATCHED)
def test_the_check_uses_the_catalogs_patterns(name: str) -> None:
    env = step(name, CHECK_STEP)["env"]
    patterns = {var: spec.pattern for var, spec in scenario(name).extra_vars.items() if spec.pattern}
    assert patterns, f"{name}: no pattern-checked extra var"
    assert {key for key in env if key.endswith("_PATTERN")} == {f"{var.upper()}_PATTERN" for var in patterns} | {
        "INCIDENT_PATTERN"}
    for var, pattern in patterns.items():
        assert env[f"{var.upper()}_PATTERN"] == pattern
    assert env["INCIDENT_PATTERN"] == INCIDENT_PATTERN.pattern
    # Every input reaches the check through env.
    assert {f"{var.upper()}" for var in scenario(name).extra_vars} | {"INCIDENT"} <= set(env)


@pytest.mark.parametrize("name", DISPATCHED)
def test_the_check_decides_like_the_cli(name: str) -> None:
    (var,) = [var for var, spec in scenario(name).extra_vars.items() if spec.pattern]
    wrong = []
    for value in VALUES:
        result = check_inputs(name, **{var: value})
        # An empty optional input is not passed at all (the playbook's default).
        expected = cli_accepts(var, name, value) or (value == "" and not _required(name, var))
        if (result.returncode == 0) != expected:
            wrong.append((value, result.returncode, result.stdout + result.stderr))
        if result.returncode:
            assert result.returncode == 2 and f"::error::Refused {var}" in result.stdout, result
    assert not wrong, wrong
    assert check_inputs(name).returncode == 0 or _required(name, var)


def _required(name: str, var: str) -> bool:
    return bool(workflow(name)["on"]["workflow_dispatch"]["inputs"][var].get("required", False))


@pytest.mark.parametrize("name", DISPATCHED)
@pytest.mark.parametrize(("incident", "accepted"), [
    ("", True), ("INC-1234", True), ("ops#7.b_c", True), ("x" * 64, True),
    ("x" * 65, False), ("INC 1", False), ("INC-1\n", False), ("$(id)", False),
])
def test_the_check_takes_the_clis_incident_ids(name: str, incident: str, accepted: bool) -> None:
    result = check_inputs(name, ref="main", incident=incident)
    assert (result.returncode == 0) is accepted, result


@pytest.mark.parametrize("name", DISPATCHED)
def test_the_check_refuses_a_flag_that_is_not_a_boolean(name: str) -> None:
    assert check_inputs(name, ref="main", no_cache="true", snapshot="false").returncode == 0
    result = check_inputs(name, ref="main", no_cache="yes please")
    assert result.returncode == 2 and "Refused no_cache" in result.stdout


@pytest.mark.parametrize("name", DISPATCHED)
def test_the_check_comes_before_anything_is_installed_or_run(name: str) -> None:
    titles = [item.get("name") for item in steps(name)]
    assert titles[0] == CHECK_STEP
    runs = [item["run"] for item in steps(name) if "run" in item]
    assert any(f"run {name} " in script for script in runs)


@pytest.mark.parametrize("name", ["ci", *DISPATCHED])
def test_no_expression_is_spliced_into_a_script(name: str) -> None:
    """Inputs and secrets reach scripts through env: `${{ }}` in `run:` would be script injection."""
    for item in steps(name):
        assert "${{" not in item.get("run", ""), item.get("name")


@pytest.mark.parametrize("name", DISPATCHED)
def test_secrets_are_written_0600_and_removed_always(name: str, tmp_path: Path) -> None:
    secrets_dir = tmp_path / "runbook-secrets"
    write = step(name, "Write the SSH key, known hosts and inventory from secrets (0600)")
    values = {"SSH_PRIVATE_KEY": "key", "KNOWN_HOSTS": "host ssh-ed25519 AAAA", "INVENTORY": "all: {}"}
    missing = run_step(write, {**values, "INVENTORY": "", "SECRETS_DIR": str(secrets_dir)})
    assert missing.returncode == 2 and "RUNBOOK_INVENTORY is not set" in missing.stdout
    result = run_step(write, {**values, "SECRETS_DIR": str(secrets_dir)})
    assert result.returncode == 0, result.stderr
    files = {path.name: path for path in secrets_dir.iterdir()}
    assert sorted(files) == ["id", "inventory.yml", "known_hosts"]
    for path in files.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert files["id"].read_text() == "key\n"
    remove = step(name, "Remove the SSH key, known hosts and inventory")
    assert remove["if"] == "always()"
    assert run_step(remove, {"SECRETS_DIR": str(secrets_dir)}).returncode == 0
    assert not secrets_dir.exists()


def test_the_run_step_passes_the_checked_inputs_and_writes_the_report_to_the_job_summary(tmp_path: Path) -> None:
    """The rollback step with the real CLI against a host nobody answers on (own loopback, port 1):
    exit 3 (unreachable) is the job's, and the job summary gets the CLI's summary and the report."""
    secrets_dir = tmp_path / "runbook-secrets"
    secrets_dir.mkdir()
    (secrets_dir / "inventory.yml").write_text(
        "app_servers:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n")
    (secrets_dir / "id").write_text("not a key\n")
    (secrets_dir / "known_hosts").write_text("")
    summary = tmp_path / "summary.md"
    env = {
        "COMMIT": "HEAD~1", "NO_CACHE": "false", "SNAPSHOT": "true", "INCIDENT": "INC-42",
        "SECRETS_DIR": str(secrets_dir), "RUNBOOK_RUNS_DIR": str(tmp_path / "runs"),
        "ANSIBLE_SSH_COMMON_ARGS": f"-o UserKnownHostsFile={secrets_dir}/known_hosts -o StrictHostKeyChecking=yes",
        "RUNNER_TEMP": str(tmp_path), "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = run_step(step("rollback", "Roll back"), env)
    assert result.returncode == 3, result.stderr[-2000:]
    text = summary.read_text()
    assert text.startswith("### runbook rollback:"), text[:300]
    (run_dir,) = (tmp_path / "runs").iterdir()
    report = (run_dir / "report.md").read_text()
    assert report.strip() in text
    assert "INC-42" in report
    kept = json.loads((run_dir / "run.json").read_text())
    assert kept["extra_vars"] == {"commit": "HEAD~1", "no_cache": False, "snapshot": True}
    assert kept["incident"] == "INC-42"


def test_ci_runs_make_test_through_ci_run() -> None:
    (script,) = [item["run"] for item in steps("ci") if "run" in item]
    assert "bash .ci/run" in script
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    triggers = workflow("ci")["on"]
    assert {"push", "pull_request"} <= set(triggers)


def test_githubs_schema_accepts_the_workflows_and_refuses_a_broken_one(tmp_path: Path) -> None:
    assert CHECK_JSONSCHEMA.exists(), "check-jsonschema is in the test extra: make venv"
    command = [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows"]
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    good = subprocess.run([*command, *files], capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "rollback.yml").read_text().replace("timeout-minutes:", "timeout-minute:"))
    bad = subprocess.run([*command, str(broken)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "timeout-minute" in bad.stdout, bad.stdout

