# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by every scenario's testinfra verify (pytest loads this
conftest for all tests under molecule/): the app as the host really runs it,
read through the contract's variables with the runbook's defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest


@dataclass
class App:
    host: object
    repo: str
    compose_dir: str
    health_url: str
    state_dir: str

    def sha(self, rev: str) -> str:
        """The commit a revision names in the app's work tree."""
        return self.host.check_output("git -C %s rev-parse %s", self.repo, rev + "^{commit}")

    def http_status(self, url: str) -> str:
        return self.host.check_output("curl -s -o /dev/null -w '%%{http_code}' --max-time 5 %s", url)

    def health(self) -> tuple[str, str]:
        """(HTTP status, release version) of the health URL."""
        out = self.host.check_output("curl -s -w ' %%{http_code}' --max-time 5 %s", self.health_url)
        body, status = out.rsplit(" ", 1)
        return status, json.loads(body).get("version", "") if status == "200" else ""

    def container_id(self, service: str) -> str:
        return self.host.check_output("cd %s && docker compose ps -q %s", self.compose_dir, service)

    def label(self, service: str) -> str:
        """The commit label (org.runbook.commit) of a compose service's running container."""
        cid = self.container_id(service)
        return self.host.check_output("docker inspect -f '{{index .Config.Labels \"org.runbook.commit\"}}' %s", cid)

    def ledger(self) -> list[dict]:
        """The host's release ledger, oldest first."""
        text = self.host.file(self.state_dir + "/releases.jsonl").content_string
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def container(self, service: str) -> tuple[str, str]:
        """(state, release version) of a compose service's container."""
        cid = self.container_id(service)
        state = self.host.check_output("docker inspect -f '{{.State.Status}}' %s", cid)
        release = json.loads(self.host.check_output("docker exec %s cat /app/release.json", cid))
        return state, release["version"]


@pytest.fixture()
def app(host) -> App:
    v = host.ansible.get_variables()
    repo = v.get("app_repo_dir", "/root/echoelmusic")
    return App(
        host=host,
        repo=repo,
        compose_dir=v.get("app_compose_dir", repo + "/backend"),
        health_url=v.get("app_health_url", "http://localhost:3000/health"),
        state_dir=v.get("runbook_state_dir", "/var/lib/runbook"),
    )
