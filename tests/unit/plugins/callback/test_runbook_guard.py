# SPDX-License-Identifier: GPL-3.0-or-later
"""An -e value that carries a Jinja template is refused before anything is templated.

ansible-core 2.19 trusts every -e value as a template: `-e commit={{ lookup('pipe', ...) }}`
would run the lookup on the controller the first time `commit` is used. The
runbook_guard callback plugin (runbook.ops.runbook_guard, loaded next to the playbooks)
refuses such values with exit 2 and one line on stderr before any play starts.

These tests run the real ansible-playbook. The inventory is a Docker container
that does not exist (community.docker.docker, runbook-guard-nohost), so nothing
can act on this machine even if the guard failed to fire; a lookup payload would
still run on the controller and create the marker file, which the tests look for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.pywarnings import without_warnings

ROOT = Path(__file__).resolve().parents[4]
BIN = Path(sys.executable).parent
PLAYBOOK = str(BIN / "ansible-playbook")
HOST = "guard-target"
GUARD = re.compile(r"^runbook: refused -e (?P<names>.+?): (it|each) contains a template marker "
                   r"\(\{\{, \{% or \{#\); give (a plain value|plain values)$")
GUARD_TEXT = "runbook: refused -e"

INVENTORY = f"""\
app_servers:
  hosts:
    {HOST}:
      ansible_connection: community.docker.docker
      ansible_host: runbook-guard-nohost
"""

# {marker} is the path of the file the payload would create on the controller.
PAYLOADS = {
    "expression": "{{{{ lookup('ansible.builtin.pipe', 'touch {marker}') }}}}",
    "statement": "{{% if lookup('pipe', 'touch {marker}') %}}{{% endif %}}",
    "comment": "{{# x #}}",
    "query": "{{{{ query('pipe', 'touch {marker}') }}}}",
    "text_around": "main{{{{ lookup('pipe', 'touch {marker}') }}}}-x",
}

# Each variable in a playbook that uses it.
VARIABLES = {
    "commit": "rollback.yml",
    "ref": "deploy.yml",
    "no_cache": "rollback.yml",
    "runbook_state_dir": "rollback.yml",
    "app_repo_dir": "deploy.yml",
    "runbook_serial": "rollback.yml",
    "app_health_url": "outage.yml",
}


def ansible_env(**extra: str) -> dict[str, str]:
    """This environment without any ANSIBLE_* setting of the caller's, so the runs are reproducible."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANSIBLE_")}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env["ANSIBLE_NOCOLOR"] = "1"
    env.update(extra)
    return env


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PLAYBOOK, *args], cwd=cwd, env=env or ansible_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def inventory(tmp_path: Path) -> str:
    path = tmp_path / "inventory.yml"
    path.write_text(INVENTORY)
    return str(path)


@pytest.fixture()
def marker(tmp_path: Path) -> Path:
    return tmp_path / "marker"


def assert_refused(result: subprocess.CompletedProcess[str], names: str, marker: Path) -> None:
    """Exit 2 and the refusal's one line; a Python warning an upstream package prints
    on stderr (a header and its source line) is not ours and does not count."""
    lines = [line for line in without_warnings(result.stderr.splitlines()) if line.strip()]
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert len(lines) == 1, result.stderr
    match = GUARD.match(lines[0])
    assert match, lines[0]
    assert match["names"] == names
    assert "PLAY [" not in result.stdout
    assert not marker.exists(), "the payload ran on the controller"


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
@pytest.mark.parametrize("name", VARIABLES.keys())
def test_templated_value_is_refused(name: str, payload: str, inventory: str, marker: Path) -> None:
    value = payload.format(marker=marker)
    result = run("-i", inventory, f"playbooks/{VARIABLES[name]}", "-e", f"{name}={value}")
    assert_refused(result, name, marker)


def test_refused_from_a_json_argument(inventory: str, marker: Path) -> None:
    value = PAYLOADS["expression"].format(marker=marker)
    result = run("-i", inventory, "playbooks/rollback.yml", "-e", json.dumps({"commit": value}))
    assert_refused(result, "commit", marker)


def test_refused_from_a_vars_file(inventory: str, marker: Path, tmp_path: Path) -> None:
    value = PAYLOADS["expression"].format(marker=marker)
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(f"commit: HEAD~1\nref: {json.dumps(value)}\n")
    result = run("-i", inventory, "playbooks/deploy.yml", "-e", f"@{vars_file}")
    assert_refused(result, "ref", marker)


def test_refused_at_any_depth_and_in_keys(inventory: str, marker: Path) -> None:
    value = PAYLOADS["query"].format(marker=marker)
    nested = {"app_extra": {"list": [1, {"deep": value}]}}
    result = run("-i", inventory, "playbooks/outage.yml", "-e", json.dumps(nested))
    assert_refused(result, "app_extra", marker)

    result = run("-i", inventory, "playbooks/outage.yml", "-e", json.dumps({"{{ x }}": 1}))
    assert_refused(result, '"{{ x }}"', marker)


def test_several_refused_values_are_named_on_one_line(inventory: str, marker: Path) -> None:
    value = PAYLOADS["expression"].format(marker=marker)
    result = run("-i", inventory, "playbooks/deploy.yml", "-e", f"ref={value}", "-e", "no_cache=false",
                 "-e", f"runbook_serial={value}")
    assert_refused(result, "ref, runbook_serial", marker)


@pytest.mark.parametrize("playbook", ["rollback.yml", "deploy.yml"])
def test_refused_from_another_directory(playbook: str, inventory: str, marker: Path, tmp_path: Path) -> None:
    """No ansible.cfg of the repo: the plugin is found next to the playbook."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    value = PAYLOADS["text_around"].format(marker=marker)
    result = run("-i", inventory, str(ROOT / "playbooks" / playbook), "-e", f"runbook_state_dir={value}",
                 cwd=elsewhere)
    assert_refused(result, "runbook_state_dir", marker)


def test_refused_when_imported_from_another_directory(inventory: str, marker: Path, tmp_path: Path) -> None:
    """As molecule's converge does: a playbook elsewhere, its own ansible.cfg, importing ours (with the
    project's roles and collection on their paths, as molecule's provisioner sets them: the playbooks import
    roles statically, so their modules resolve when the playbook is parsed)."""
    scenario = tmp_path / "molecule" / "rollback"
    scenario.mkdir(parents=True)
    (scenario / "ansible.cfg").write_text("[defaults]\nforks = 50\nretry_files_enabled = False\n"
                                          "host_key_checking = False\ninterpreter_python = auto_silent\n")
    converge = scenario / "converge.yml"
    converge.write_text("---\n- name: Roll back\n  ansible.builtin.import_playbook: "
                        f"{ROOT / 'playbooks' / 'rollback.yml'}\n")
    value = PAYLOADS["expression"].format(marker=marker)
    env = ansible_env(ANSIBLE_CONFIG=str(scenario / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(ROOT / "roles"),
                      ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"))
    result = run("-i", inventory, str(converge), "-e", f"commit={value}", cwd=scenario, env=env)
    assert_refused(result, "commit", marker)


def test_refused_through_ansible_runner(inventory: str, marker: Path, tmp_path: Path) -> None:
    """The way the CLI runs a playbook: ansible-runner, -e @env/extravars, awx_display as stdout callback."""
    import ansible_runner

    from runbook.runner import envvars

    value = PAYLOADS["expression"].format(marker=marker)
    private = tmp_path / "private"
    private.mkdir()
    runner = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(ROOT),
        playbook=str(ROOT / "playbooks" / "rollback.yml"),
        inventory=inventory,
        extravars={"commit": value},
        envvars=envvars(ROOT),
        quiet=True,
        rotate_artifacts=0,
    )
    output = runner.stdout.read()
    assert runner.rc == 2, output
    assert [line for line in output.splitlines() if GUARD.match(line)] == [
        "runbook: refused -e commit: it contains a template marker ({{, {% or {#); give a plain value"]
    assert "PLAY [" not in output
    assert not marker.exists()


def test_cli_run_never_renders_the_payload(inventory: str, marker: Path, tmp_path: Path) -> None:
    """`runbook run` with a payload in a contract variable: refused by the CLI or by the guard, never run.

    Only the outcome is asserted (non-zero exit, no marker), not which of the two refuses.
    """
    value = PAYLOADS["expression"].format(marker=marker)
    env = ansible_env(RUNBOOK_PROJECT_DIR=str(ROOT), RUNBOOK_RUNS_DIR=str(tmp_path / "runs"))
    result = subprocess.run(
        [sys.executable, "-m", "runbook", "run", "rollback", "--yes", "-i", inventory,
         "-e", f"runbook_state_dir={value}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert not marker.exists(), "the payload ran on the controller"


def test_plain_value_is_not_refused(inventory: str) -> None:
    """A plain value goes through: the play starts and the playbook's own check accepts it.

    The exit code says nothing here (the unreachable container fails the run, and
    ansible-playbook exits 2 for a failed task too), so the test asserts that the
    guard said nothing and the first task of the play ran and passed.
    """
    result = run("-i", inventory, "playbooks/rollback.yml", "-e", "commit=HEAD~1")
    output = result.stdout + result.stderr
    assert GUARD_TEXT not in output
    assert re.search(r"TASK \[Check the inputs before anything changes\].*?\nok: \[" + HOST + r"\]",
                     result.stdout, re.S), output[-3000:]


def test_plain_value_from_another_directory_loads_the_guard_and_the_collection(
        inventory: str, tmp_path: Path) -> None:
    """No ansible.cfg of the repo (a team's own setup): the guard next to the playbooks loads
    without a warning, and the playbook finds runbook.ops through playbooks/collections."""
    result = run("-i", inventory, str(ROOT / "playbooks" / "rollback.yml"), "-e", "commit=HEAD~1", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "Failed to load callback plugin" not in output
    assert "runbook.ops" not in result.stderr, output[-3000:]
    assert re.search(r"TASK \[Check the inputs before anything changes\].*?\nok: \[" + HOST + r"\]",
                     result.stdout, re.S), output[-3000:]


def test_unsafe_vars_file_passes_and_stays_literal(inventory: str, marker: Path, tmp_path: Path) -> None:
    """The documented way to pass literal braces: an !unsafe value is never rendered, so it is let through."""
    value = PAYLOADS["expression"].format(marker=marker)
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(f"commit: !unsafe {json.dumps(value)}\n")
    result = run("-i", inventory, "playbooks/rollback.yml", "-e", f"@{vars_file}")
    output = result.stdout + result.stderr
    assert GUARD_TEXT not in output
    assert "Refused commit=" in result.stdout  # the playbook's own check refuses the literal text
    assert not marker.exists()


def test_the_refusal_is_one_line_whatever_python_warns(inventory: str, marker: Path, tmp_path: Path) -> None:
    """An upstream package that warns at import (as cryptography 51 does under ansible-core
    2.19) adds its lines to stderr; the refusal is still exactly one line of its own."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import warnings\nwarnings.warn('an upstream package is deprecated', UserWarning)\n")
    env = ansible_env(PYTHONPATH=str(site))
    value = PAYLOADS["expression"].format(marker=marker)
    result = run("-i", inventory, "playbooks/rollback.yml", "-e", f"commit={value}", env=env)
    assert "UserWarning: an upstream package is deprecated" in result.stderr  # the warning was there
    assert_refused(result, "commit", marker)
