# SPDX-License-Identifier: GPL-3.0-or-later
"""The project as an AWX project: collections/requirements.yml (what AWX installs
when it syncs the project) lists what requirements.yml lists, the execution
environment definition is one `ansible-builder create` accepts, with the lock's
pins, and no playbook prompts.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ANSIBLE_BUILDER = Path(sys.executable).parent / "ansible-builder"  # this venv's


def collections(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {item["name"]: str(item["version"]) for item in data["collections"]}


def pinned(package: str) -> str:
    """The `package==X` pin of requirements.lock, the tested set the venv and CI install."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==(\S+)", text, re.MULTILINE)
    assert match, package
    return f"{package}=={match[1]}"


def ee_definition() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))


def test_awx_and_the_venv_get_the_same_collections() -> None:
    assert collections(ROOT / "collections" / "requirements.yml") == collections(ROOT / "requirements.yml")
    assert "awx.awx" in collections(ROOT / "requirements.yml")


def test_the_execution_environment_pins_what_the_project_pins() -> None:
    dependencies = ee_definition()["dependencies"]
    assert ee_definition()["version"] == 3
    assert dependencies["ansible_core"]["package_pip"] == pinned("ansible-core")
    assert dependencies["ansible_runner"]["package_pip"] == pinned("ansible-runner")
    assert dependencies["galaxy"] == "collections/requirements.yml"
    assert set(dependencies["python"]) == {pinned("jinja2"), pinned("pyyaml")}


def test_ansible_builder_creates_the_build_context(tmp_path: Path) -> None:
    assert ANSIBLE_BUILDER.exists(), "ansible-builder is in the test extra: make venv"
    context = tmp_path / "context"
    result = subprocess.run(
        [str(ANSIBLE_BUILDER), "create", "-f", "execution-environment.yml", "-c", str(context),
         "--output-filename", "Containerfile"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert pinned("ansible-core") in containerfile and pinned("ansible-runner") in containerfile
    assert collections(context / "_build" / "requirements.yml") == collections(ROOT / "requirements.yml")
    assert (context / "_build" / "exclude-collections.txt").read_text().split() == ["awx.awx"]


def test_ansible_builder_refuses_a_definition_outside_schema_v3(tmp_path: Path) -> None:
    broken = tmp_path / "execution-environment.yml"
    definition = ee_definition()
    definition["dependencies"]["ansible_core"] = {"package": "ansible-core"}
    broken.write_text(yaml.safe_dump(definition))
    result = subprocess.run([str(ANSIBLE_BUILDER), "create", "-f", str(broken), "-c", str(tmp_path / "context")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "package" in result.stdout + result.stderr


def test_ansible_cfg_resolves_roles_and_the_guard_from_the_project_root() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "ansible.cfg")
    assert config["defaults"]["roles_path"] == "roles"
    assert "playbooks/callback_plugins" in config["defaults"]["callback_plugins"]


def test_nothing_prompts() -> None:
    """AWX jobs have nobody to answer: no vars_prompt, no pause module (it waits for Enter)."""
    files = [*(ROOT / "playbooks").rglob("*.yml"), *(ROOT / "roles").rglob("*.yml")]
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(- )?(vars_prompt|ansible\.builtin\.pause|pause):", text, re.MULTILINE), path


# The execution environment built on these machines (`make ee`): testbed/ee/.
LOCAL_EE = ROOT / "testbed" / "ee"


def local_ee_definition() -> dict[str, Any]:
    return yaml.safe_load((LOCAL_EE / "execution-environment.yml").read_text(encoding="utf-8"))


def test_the_local_execution_environment_carries_what_production_carries() -> None:
    local, production = local_ee_definition(), ee_definition()
    assert local["version"] == 3
    for key in ("ansible_core", "ansible_runner", "python", "exclude"):
        assert local["dependencies"][key] == production["dependencies"][key], key
    assert local["dependencies"]["ansible_core"]["package_pip"] == pinned("ansible-core")
    # what the test bed's community.docker.docker connection and real servers' ssh need
    assert {"docker-cli [platform:dpkg]", "openssh-client [platform:dpkg]"} <= set(local["dependencies"]["system"])
    assert local["options"]["package_manager_path"] == "/usr/local/sbin/pkgmgr-apt"
    assert "--offline" in local["build_arg_defaults"]["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"]


def test_the_local_execution_environment_installs_requirements_yml_and_runbook_ops() -> None:
    data = yaml.safe_load((LOCAL_EE / "requirements.yml").read_text(encoding="utf-8"))
    assert {item["type"] for item in data["collections"]} == {"dir"}
    installed = {".".join(item["name"].split("/")[-2:]) for item in data["collections"]}
    assert installed == set(collections(ROOT / "requirements.yml")) | {"runbook.ops"}
    prefix = "/build/collections/ansible_collections/"
    assert all(item["name"].startswith(prefix) for item in data["collections"])


def test_ansible_builder_creates_the_local_build_context(tmp_path: Path) -> None:
    context = tmp_path / "context"
    result = subprocess.run(
        [str(ANSIBLE_BUILDER), "create", "-f", str(LOCAL_EE / "execution-environment.yml"), "-c", str(context),
         "--output-filename", "Dockerfile"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (context / "Dockerfile").read_text()
    assert 'ARG PKGMGR="/usr/local/sbin/pkgmgr-apt"' in dockerfile
    assert 'ARG ANSIBLE_GALAXY_CLI_COLLECTION_OPTS="--offline"' in dockerfile
    # Debian's python3 has no ensurepip: ansible-builder's pip_install step is not there.
    assert "/output/scripts/pip_install" not in dockerfile.split("# Builder build stage")[0]
    assert (context / "_build" / "scripts" / "pkgmgr-apt").exists()
    assert pinned("ansible-runner") in dockerfile


def test_pkgmgr_apt_refuses_what_it_does_not_translate() -> None:
    result = subprocess.run(["sh", str(LOCAL_EE / "pkgmgr-apt"), "upgrade"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2
    assert "not 'upgrade'" in result.stderr
