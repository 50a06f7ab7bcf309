# SPDX-License-Identifier: GPL-3.0-or-later
"""Acceptance: a team adopts the CLI as it is, with its own Ansible and a server laid out its own way.

From the wheel installed in a fresh venv outside the repository (the `installed`
fixture, built once per run), in a folder
holding only the team's files:
- the team's own `ansible.cfg` (found as `./ansible.cfg`): its inventory, `remote_user`
  (a non-root login), `become`, and `vault_password_file`;
- the team's inventory, with a vaulted `ansible_become_password` (sudo asks for it);
- a vaulted `-e @file`, which holds where the compose file is;
- a host of its own (this module starts and removes it) whose app lives in
  /srv/shop with its compose file in deploy/ and its services named web and jobs.
`runbook run outage` with no -i recovers the stopped web service; sudo's log proves the
run logged in as the config's user and went through sudo with the vaulted password;
neither password is written anywhere under the run's folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hostutil import healthy, on_host, run_testhost
from wheelutil import clean_env, run

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "runbook-int-team"
REPO, COMPOSE = "/srv/shop", "/srv/shop/deploy"
USER = "deployer"
BECOME_PASSWORD = "Team-sudo-Pl4nted"
VAULT_PASSWORD = "team-vault-Pl4nted"
SUDO_LOG = f"/var/log/sudo-{USER}.log"


@pytest.fixture(scope="module")
def team_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The host's inventory entry: the app at /srv/shop/deploy, services web and jobs, a sudo user with a password."""
    if not os.environ.get("RUNBOOK_TESTHOST_IMAGE"):
        pytest.skip("RUNBOOK_TESTHOST_IMAGE is not set (the test-host image: make images)")
    folder = tmp_path_factory.mktemp("team-host")
    inventory = folder / "host.yml"
    try:
        run_testhost("up", HOST, str(inventory))
        laid = subprocess.run([BIN / "ansible-playbook", "-i", inventory, "testbed/fixture/site.yml",
                               "-e", f"app_repo_dir={REPO}", "-e", f"app_compose_dir={COMPOSE}"],
                              cwd=ROOT, text=True, capture_output=True, timeout=900)
        assert laid.returncode == 0, laid.stdout[-3000:]
        # The team named its services otherwise: a commit of theirs, the stack brought up again.
        on_host(HOST, "sh", "-ec", f"""
            cd {COMPOSE}
            docker compose down
            sed -i 's/^  api:$/  web:/; s/^  worker:$/  jobs:/' docker-compose.yml
            git -C {REPO} -c user.name=Team -c user.email=team@shop.invalid commit -qam 'Name the services web and jobs'
            docker compose up -d
        """)
        on_host(HOST, "sh", "-ec", f"""
            useradd --create-home --shell /bin/bash {USER}
            echo '{USER}:{BECOME_PASSWORD}' | chpasswd
            printf '%s\\n' '{USER} ALL=(ALL) ALL' 'Defaults:{USER} logfile={SUDO_LOG}' > /etc/sudoers.d/team
            chmod 0440 /etc/sudoers.d/team && visudo -cf /etc/sudoers.d/team
        """)
        deadline = time.monotonic() + 120
        while not healthy(HOST):
            assert time.monotonic() < deadline, "the renamed stack never became healthy"
            time.sleep(1)
        (entry,) = yaml.safe_load(inventory.read_text())["app_servers"]["hosts"].items()
        yield {entry[0]: entry[1]}
    finally:
        run_testhost("down", HOST)


def vault(*args: str, cwd: Path) -> str:
    """ansible-vault in the team's folder: its ansible.cfg names the password file."""
    done = subprocess.run([BIN / "ansible-vault", *args], cwd=cwd,
                          text=True, capture_output=True, timeout=120, env=clean_env())
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def team_folder(team_host: dict, tmp_path: Path) -> Path:
    """The team's folder: ansible.cfg, inventory (vaulted become password), a vaulted vars file."""
    folder = tmp_path / "team"
    folder.mkdir()
    secret = folder / "vault-pass.txt"
    secret.write_text(VAULT_PASSWORD + "\n")
    secret.chmod(0o600)
    (folder / "ansible.cfg").write_text(textwrap.dedent(f"""\
        [defaults]
        inventory = hosts.yml
        remote_user = {USER}
        vault_password_file = vault-pass.txt

        [privilege_escalation]
        become = True
        become_method = sudo
        """))
    become = vault("encrypt_string", BECOME_PASSWORD, "--name", "ansible_become_password", cwd=folder)
    # the group's vars: where the app is, its service's name and the vaulted sudo password
    hosts = yaml.safe_dump({"app_servers": {"hosts": team_host,
                                            "vars": {"app_repo_dir": REPO, "app_service": "web"}}},
                           sort_keys=False)
    hosts += "".join(f"    {line}\n" for line in become.splitlines())
    (folder / "hosts.yml").write_text(hosts)
    assert yaml.safe_load(hosts.replace("!vault", ""))["app_servers"]["vars"]["ansible_become_password"]
    assert BECOME_PASSWORD not in hosts
    (folder / "shop.yml").write_text(f"app_compose_dir: {COMPOSE}\n")
    vault("encrypt", "shop.yml", cwd=folder)
    assert (folder / "shop.yml").read_text().startswith("$ANSIBLE_VAULT")
    return folder


def test_a_team_setup_recovers_an_outage_from_the_installed_wheel(installed: Path, team_folder: Path) -> None:
    on_host(HOST, "docker", "stop", "deploy-web-1")
    assert not healthy(HOST), "the host is not broken"
    runs = team_folder.parent / "runs"
    env = clean_env(RUNBOOK_RUNS_DIR=str(runs))

    config = run(installed / "runbook", "config", "--json", cwd=team_folder, env=env)
    assert config.returncode == 0, config.stderr
    settings = {(item["section"], item["key"]): item for item in json.loads(config.stdout)["settings"]}
    assert settings[("defaults", "remote_user")]["source"] == "user"
    assert settings[("defaults", "remote_user")]["value"] == USER

    result = run(installed / "runbook", "run", "outage", "-e", "@shop.yml", "--yes", cwd=team_folder, env=env,
                 timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert healthy(HOST)
    state = on_host(HOST, "docker", "inspect", "-f", "{{.State.Status}}", "deploy-web-1").stdout.strip()
    assert state == "running"

    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    record = json.loads((folder / "run.json").read_text())
    assert record["result"] == "ok" and record["hosts"] == [HOST]
    # logged in as the config's remote_user, through sudo with the vaulted password, this run's tasks
    entries = re.split(r"\n(?=\S)", on_host(HOST, "cat", SUDO_LOG).stdout)
    token = str(record["lock_token"])
    ours = [entry for entry in entries if f"RUNBOOK_RUN_TOKEN={token}" in entry]
    assert len(ours) >= 3, entries[-5:]
    assert all(re.search(rf": {USER} : .*USER=root ; COMMAND=", entry, re.S) for entry in ours), ours[:3]
    written = "\n".join(path.read_text(errors="replace") for path in folder.rglob("*") if path.is_file())
    assert BECOME_PASSWORD not in written and VAULT_PASSWORD not in written
