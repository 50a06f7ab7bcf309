# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures: a throwaway project (playbooks/, roles/, ansible.cfg), an
inventory for this machine (connection local) and a private runs directory.

The CLI finds them through RUNBOOK_PROJECT_DIR and RUNBOOK_RUNS_DIR, so the
tests run the real ansible-runner and ansible-playbook against localhost.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ANSIBLE_CFG = """\
[defaults]
roles_path = roles
stdout_callback = ansible.builtin.default
retry_files_enabled = False
interpreter_python = auto_silent
host_key_checking = False
"""

SCENARIO_PLAYBOOK = """\
- name: Runbook T | Test scenario
  hosts: app_servers
  gather_facts: false
  vars:
    runbook_scenario:
      title: Test scenario
      section: "T"
      severity: P1
      destructive: false
      extra_vars:
        api_token:
          description: A token the scenario uses
          default: ""
        fail_step:
          description: Fail on purpose
          default: false
          type: bool
        sleep_seconds:
          description: Seconds to wait in the middle
          default: 0
          type: int
        payments:
          description: Turn payments off or on
          default: "off"
          choices: ["off", "on"]
        commit:
          description: Target commit, a 7-40 hex SHA or HEAD~N
          default: HEAD~1
          pattern: '^([0-9a-fA-F]{7,40}|HEAD~[0-9]+)$'
    test_env_file: "{{ app_env_file | default('/nonexistent/.env') }}"
  tasks:
    - name: Note the run lock token
      ansible.builtin.debug:
        msg: "lock token {{ runbook_lock_token | default('none') }}"

    - name: Read the app environment file
      ansible.builtin.slurp:
        src: "{{ test_env_file }}"
      register: test_env
      no_log: true

    - name: Use the environment file (secret, hidden)
      ansible.builtin.debug:
        msg: "{{ test_env.content | b64decode }}"
      no_log: true

    - name: Use the token
      ansible.builtin.command: echo "token={{ api_token }}"
      changed_when: true
      when: (api_token | default('')) | length > 0

    - name: Wait a little
      ansible.builtin.wait_for:
        timeout: "{{ sleep_seconds | default(0) | int }}"
      when: (sleep_seconds | default(0) | int) > 0

    - name: Publish what the scenario did
      ansible.builtin.include_role:
        name: publish

    - name: Fail on purpose
      ansible.builtin.fail:
        msg: planned failure in the test scenario
      when: fail_step | default(false) | bool
"""

PUBLISH_ROLE = """\
- name: Publish the commit and the bytes freed
  ansible.builtin.set_stats:
    data:
      commit_rolled_back_to: abc1234
      bytes_freed: 4096
"""

DESTRUCTIVE_PLAYBOOK = """\
- name: Runbook D | Destructive test scenario
  hosts: app_servers
  gather_facts: false
  vars:
    runbook_scenario:
      title: Destructive test scenario
      section: "D"
      severity: P3
      destructive: true
      extra_vars: {}
  tasks:
    - name: Pretend to prune volumes
      ansible.builtin.debug:
        msg: pruned
"""

# Stands in for the project's playbooks/internal/release_lock.yml: records, one JSON line
# per release, the token and mode it received under runbook_state_dir (default: the
# `released` file under the test's tmp dir), and says so in a debug message.
RELEASE_PLAYBOOK = """\
- name: Give the run lock back
  hosts: all
  gather_facts: false
  vars:
    release_state_dir: "{{{{ runbook_state_dir | default('{state_dir}') }}}}"
  tasks:
    - name: Record the release
      ansible.builtin.lineinfile:
        path: "{{{{ release_state_dir }}}}/released"
        line: "{{{{ {{'token': runbook_lock_token | default(None), 'stale_only': runbook_lock_stale_only | default(false), 'host': inventory_hostname}} | to_json }}}}"
        create: true
        mode: "0600"

    - name: Say what was released
      ansible.builtin.debug:
        msg: "released the run lock of token {{{{ runbook_lock_token | default('none') }}}} (stale only: {{{{ runbook_lock_stale_only | default(false) }}}})"
"""


def released(state_dir: Path) -> list[dict[str, object]]:
    """What the fixture's release playbook recorded under state_dir, one entry per release."""
    path = state_dir / "released"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


PLANTED_DOTENV_SECRET = "sk_live_PLANTEDdotenv0123456789"
PLANTED_EXTRA_VAR_SECRET = "tok-PLANTEDextravar-9876543210"
PLANTED_ENVIRONMENT_SECRET = "env-PLANTEDprocess-5555555555"


def readable_events(runs: Path) -> Iterator[dict[str, Any]]:
    """The job events written so far; a partial one renamed or half-written meanwhile is skipped."""
    for path in runs.glob("*/job_events/*.json"):
        try:
            yield json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            continue



@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "playbooks").mkdir(parents=True)
    (root / "roles" / "publish" / "tasks").mkdir(parents=True)
    (root / "ansible.cfg").write_text(ANSIBLE_CFG)
    (root / "playbooks" / "scenario.yml").write_text(SCENARIO_PLAYBOOK)
    (root / "playbooks" / "wipe.yml").write_text(DESTRUCTIVE_PLAYBOOK)
    (root / "playbooks" / "helper.yml").write_text("- name: Not a scenario\n  hosts: all\n  tasks: []\n")
    (root / "playbooks" / "internal").mkdir()
    (root / "playbooks" / "internal" / "release_lock.yml").write_text(
        RELEASE_PLAYBOOK.format(state_dir=tmp_path / "state"))
    (root / "roles" / "publish" / "tasks" / "main.yml").write_text(PUBLISH_ROLE)
    monkeypatch.setenv("RUNBOOK_PROJECT_DIR", str(root))
    # No ansible.cfg of the user's: a test that wants one puts it here (or sets ANSIBLE_CONFIG).
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("RUNBOOK_RUNS_DIR", str(folder))
    return folder


@pytest.fixture
def dotenv(tmp_path: Path) -> Path:
    path = tmp_path / "app" / ".env"
    path.parent.mkdir()
    path.write_text(f"NODE_ENV=production\nSTRIPE_SECRET_KEY={PLANTED_DOTENV_SECRET}\n")
    return path


@pytest.fixture
def inventory(tmp_path: Path, dotenv: Path) -> Path:
    path = tmp_path / "inventory.yml"
    path.write_text(textwrap.dedent(f"""\
        app_servers:
          hosts:
            localhost:
              ansible_connection: local
              ansible_python_interpreter: {sys.executable}
              app_env_file: {dotenv}
        """))
    return path


@pytest.fixture
def unreachable_inventory(tmp_path: Path) -> Path:
    path = tmp_path / "unreachable.yml"
    path.write_text(textwrap.dedent("""\
        app_servers:
          hosts:
            ghost:
              ansible_host: 127.0.0.1
              ansible_port: 1
              ansible_connection: ssh
              ansible_ssh_common_args: -o ConnectTimeout=3 -o StrictHostKeyChecking=no
        """))
    return path


@pytest.fixture
def test_host() -> tuple[str, str]:
    """(inventory, container) of the prepared test host; skips when none is given."""
    inventory = os.environ.get("RUNBOOK_TEST_INVENTORY")
    if not inventory:
        pytest.skip("RUNBOOK_TEST_INVENTORY is not set (inventory of a prepared test host in app_servers)")
    container = os.environ.get("RUNBOOK_TEST_HOST")
    assert container, "RUNBOOK_TEST_HOST must name the test host's container when RUNBOOK_TEST_INVENTORY is set"
    return inventory, container


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv outside the repository holding the wheel built from this
    work tree (tests/wheelutil.py): built once per run, for every integration test that installs it."""
    from wheelutil import installed_wheel

    return installed_wheel(tmp_path_factory.mktemp("wheel"))
