# SPDX-License-Identifier: GPL-3.0-or-later
"""The user's ansible.cfg is honoured: found as Ansible finds it, the project's settings layered in
where the user has none, the project's paths and callbacks merged; `runbook config` says what applies."""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path

import pytest

from runbook import ansible_config
from runbook.ansible_config import MERGED, PROJECT, USER, effective, find_user_config
from runbook.cli import main
from runbook.runner import envvars

PROJECT_CFG = """\
[defaults]
inventory = inventory/production.yml
roles_path = roles
collections_path = collections:~/.ansible/collections
callbacks_enabled = ansible.posix.timer, runbook.ops.runbook_guard
callback_plugins = playbooks/callback_plugins
forks = 10
timeout = 30

[ssh_connection]
pipelining = True
"""

USER_CFG = """\
[defaults]
remote_user = deployer
forks = 3
roles_path = team-roles:/opt/shared-roles
callbacks_enabled = community.general.yaml
vault_identity_list = prod@~/.vault-prod
galaxy_token = tok-PLANTEDgalaxy

[ssh_connection]
ssh_args = -o ProxyJump=bastion.example.com

[privilege_escalation]
become_method = doas
"""


def write(folder: Path, text: str, name: str = "ansible.cfg") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def ini(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


@pytest.fixture
def own(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    write(project, PROJECT_CFG)
    return project


# finding the user's file ---------------------------------------------------------


def test_ansible_config_wins_then_the_current_folder_then_home(tmp_path: Path) -> None:
    env_file = write(tmp_path / "env", "[defaults]\n")
    here = write(tmp_path / "here", "[defaults]\n")
    home = write(tmp_path / "home", "[defaults]\n", ".ansible.cfg")
    cwd, home_dir = here.parent, home.parent
    assert find_user_config({"ANSIBLE_CONFIG": str(env_file)}, cwd, home_dir) == env_file
    assert find_user_config({"ANSIBLE_CONFIG": str(env_file.parent)}, cwd, home_dir) == env_file  # a folder
    assert find_user_config({}, cwd, home_dir) == here
    assert find_user_config({}, tmp_path / "empty", home_dir) == home
    assert find_user_config({"ANSIBLE_CONFIG": str(tmp_path / "missing.cfg")}, cwd, home_dir) == here


def test_a_world_writable_current_folder_is_not_trusted(tmp_path: Path) -> None:
    here = write(tmp_path / "shared", "[defaults]\n")
    here.parent.chmod(0o777)
    assert find_user_config({}, here.parent, tmp_path / "nohome") != here


# the merge ---------------------------------------------------------------------


def test_the_users_settings_win_and_every_one_is_kept(own: Path, tmp_path: Path) -> None:
    user = write(tmp_path / "team", USER_CFG)
    merged = ini(effective(own, user, env={}).ini_text())
    assert merged.get("defaults", "remote_user") == "deployer"
    assert merged.get("defaults", "forks") == "3"  # the user's, not the project's 10
    assert merged.get("defaults", "timeout") == "30"  # the project's: the user has none
    assert merged.get("ssh_connection", "ssh_args") == "-o ProxyJump=bastion.example.com"
    assert merged.get("ssh_connection", "pipelining") == "True"
    assert merged.get("privilege_escalation", "become_method") == "doas"
    assert merged.get("defaults", "vault_identity_list") == "prod@~/.vault-prod"
    assert merged.get("defaults", "galaxy_token") == "tok-PLANTEDgalaxy"


def test_the_projects_paths_come_first_and_relative_paths_are_made_absolute(own: Path, tmp_path: Path) -> None:
    user = write(tmp_path / "team", USER_CFG)
    config = effective(own, user, env={})
    merged = ini(config.ini_text())
    assert merged.get("defaults", "roles_path") == f"{own / 'roles'}:{tmp_path / 'team' / 'team-roles'}:/opt/shared-roles"
    assert merged.get("defaults", "collections_path") == f"{own / 'collections'}:~/.ansible/collections"
    assert merged.get("defaults", "inventory") == str(own / "inventory" / "production.yml")
    assert merged.get("defaults", "callbacks_enabled") == (
        "ansible.posix.timer, runbook.ops.runbook_guard, community.general.yaml")
    sources = {(s.section, s.key): s.source for s in config.settings}
    assert sources[("defaults", "roles_path")] == MERGED
    assert sources[("defaults", "callbacks_enabled")] == MERGED
    assert sources[("defaults", "collections_path")] == PROJECT  # the user set none
    assert sources[("defaults", "forks")] == USER
    assert sources[("defaults", "timeout")] == PROJECT


def test_the_users_environment_variable_is_merged_too(own: Path, tmp_path: Path) -> None:
    user = write(tmp_path / "team", "[defaults]\n")
    config = effective(own, user, env={"ANSIBLE_ROLES_PATH": "/srv/roles"})
    assert config.value("defaults", "roles_path") == f"{own / 'roles'}:/srv/roles"


def test_the_projects_own_file_changes_nothing(own: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = effective(own, own / "ansible.cfg", env={})
    assert not config.layered
    assert config.write(tmp_path) == (own / "ansible.cfg").resolve()
    monkeypatch.chdir(own)
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    assert envvars(own, tmp_path)["ANSIBLE_CONFIG"] == str((own / "ansible.cfg").resolve())
    assert not (tmp_path / "ansible.cfg").exists()


def test_a_run_points_ansible_config_at_the_merged_private_file(own: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "team", USER_CFG)
    monkeypatch.chdir(tmp_path / "team")
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.delenv("ANSIBLE_ROLES_PATH", raising=False)
    private = tmp_path / "private"
    private.mkdir()
    env = envvars(own, private)
    assert env["ANSIBLE_CONFIG"] == str(private / "ansible.cfg")
    assert (private / "ansible.cfg").stat().st_mode & 0o777 == 0o600
    assert ini((private / "ansible.cfg").read_text()).get("defaults", "remote_user") == "deployer"
    assert env["ANSIBLE_ROLES_PATH"].startswith(f"{own / 'roles'}:")
    assert env["ANSIBLE_CALLBACKS_ENABLED"].endswith("community.general.yaml")
    assert (tmp_path / "team" / "ansible.cfg").read_text() == USER_CFG  # the user's file is left alone


def test_a_broken_user_file_is_bad_input(project: Path, runs: Path, inventory: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "remote_user = nobody-without-a-section\n")
    assert main(["run", "scenario", "-i", str(inventory)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("runbook: error: ansible.cfg does not parse: ") and err.count("\n") == 1
    assert not runs.exists() or not list(runs.iterdir())


# runbook config ------------------------------------------------------------------


def test_runbook_config_names_where_each_value_comes_from(project: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    user = write(tmp_path, USER_CFG)  # the fixture's current folder
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert f"remote_user = deployer  # user: {user}" in out
    assert f"roles_path = {project / 'roles'}:{tmp_path / 'team-roles'}:/opt/shared-roles  # merged" in out
    assert f"interpreter_python = auto_silent  # project: {project / 'ansible.cfg'}" in out
    assert "PLANTEDgalaxy" not in out  # a secret-looking setting is masked
    assert "[ssh_connection]" in out


def test_runbook_config_json(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    user = write(tmp_path, USER_CFG)
    assert main(["config", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["user_config"] == str(user) and data["layered"] is True
    rows = {(row["section"], row["key"]): row for row in data["settings"]}
    assert rows[("defaults", "forks")]["source"] == "user"
    assert rows[("defaults", "roles_path")]["source"] == "merged"
    assert rows[("defaults", "stdout_callback")]["source"] == "project"
    assert rows[("defaults", "galaxy_token")]["value"] == "********"


def test_runbook_config_without_a_user_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["user_config"] is None and data["layered"] is False
    assert {row["source"] for row in data["settings"]} == {"project"}


# the real thing: ansible-playbook reads the user's settings ------------------------------

CONFIG_PLAYBOOK = """\
- name: Runbook C | Show the configuration
  hosts: app_servers
  gather_facts: false
  vars:
    runbook_scenario:
      title: Show the configuration
      section: "C"
      severity: P3
      destructive: false
      extra_vars: {}
  tasks:
    - name: Say what Ansible was configured with
      ansible.builtin.debug:
        msg: >-
          remote_user={{ lookup('ansible.builtin.config', 'DEFAULT_REMOTE_USER') }}
          forks={{ lookup('ansible.builtin.config', 'DEFAULT_FORKS') }}
          timeout={{ lookup('ansible.builtin.config', 'DEFAULT_TIMEOUT') }}
    - name: Use a role the user's roles_path holds (the project's roles stay found too)
      ansible.builtin.include_role:
        name: team_role
    - name: Use a role of the project
      ansible.builtin.include_role:
        name: publish
"""


def test_ansible_playbook_uses_the_users_remote_user_and_forks(project: Path, runs: Path, inventory: Path,
                                                               tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (project / "playbooks" / "showconfig.yml").write_text(CONFIG_PLAYBOOK)
    role = tmp_path / "team-roles" / "team_role" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text("- name: Team role\n  ansible.builtin.debug:\n    msg: team role ran\n")
    write(tmp_path, "[defaults]\nremote_user = cfg-user-planted\nforks = 7\nroles_path = team-roles\n")
    assert main(["run", "showconfig", "-i", str(inventory)]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "remote_user=cfg-user-planted forks=7 timeout=10" in out, out  # timeout: Ansible's default
    assert "team role ran" in out


def test_without_a_user_file_the_projects_settings_apply(project: Path, runs: Path, inventory: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    (project / "playbooks" / "showconfig.yml").write_text(CONFIG_PLAYBOOK.split("    - name: Use a role the")[0])
    with (project / "ansible.cfg").open("a") as handle:
        handle.write("forks = 9\n")
    assert main(["run", "showconfig", "-i", str(inventory)]) == 0
    assert "forks=9" in capsys.readouterr().out


def test_path_settings_come_from_ansible_itself() -> None:
    kinds = ansible_config.path_settings()
    assert kinds[("defaults", "roles_path")] == "pathspec"
    assert kinds[("defaults", "inventory")] == "pathlist"
    assert kinds[("defaults", "vault_password_file")] == "path"
