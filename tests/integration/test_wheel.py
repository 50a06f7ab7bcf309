# SPDX-License-Identifier: GPL-3.0-or-later
"""Install anywhere: the built wheel, in a fresh venv outside the repository.

Builds the wheel from a copy of the sources (as `pip wheel` would from a clone),
installs it into a new venv under tmp_path with the package index (pip's cache
makes a repeat quick), then, from a folder that is not the repository, runs
`runbook list` and `runbook run outage` against the prepared test host
(RUNBOOK_TEST_INVENTORY / RUNBOOK_TEST_HOST, as in tests/integration/test_outage.py).
The fresh venv has ansible-core but no collections of its own: the docker
connection and the callbacks can only come from the ones shipped in the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hostutil import HEALTH, on_host

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "requirements.yml", "ansible.cfg",
           "tools/fetch_collections.py", "src/runbook", "playbooks", "roles", "collections")
IN_WHEEL = ("runbook/_content/ansible.cfg", "runbook/_content/playbooks/outage.yml",
            "runbook/_content/playbooks/internal/release_lock.yml",
            "runbook/_content/playbooks/callback_plugins/runbook_guard.py",
            "runbook/_content/collections/ansible_collections/runbook/ops/plugins/modules/runbook_lock.py",
            "runbook/_content/collections/ansible_collections/runbook/ops/plugins/filter/runbook_redact.py",
            "runbook/_content/collections/ansible_collections/runbook/ops/plugins/callback/runbook_guard.py",
            "runbook/_content/collections/ansible_collections/community/docker/MANIFEST.json",
            "runbook/_content/collections/ansible_collections/ansible/posix/MANIFEST.json")


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything pointing back at the repository or its venv."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("RUNBOOK_PROJECT_DIR", "PYTHONPATH", "VIRTUAL_ENV", "ANSIBLE_CONFIG",
                          "ANSIBLE_ROLES_PATH", "ANSIBLE_COLLECTIONS_PATH")}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                  if not part.startswith(str(ROOT)))
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv holding the wheel built from this work tree."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    env = clean_env()
    bundle = next((ROOT / ".cache" / "wheels").glob("ansible-*.whl"), None)
    if bundle is not None:  # `make venv` kept it: no second download
        env["RUNBOOK_ANSIBLE_WHEEL"] = str(bundle)
    built = run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", base / "dist", source,
                cwd=base, env=env)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("runbook_incident-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in IN_WHEEL if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"

    venv = base / "venv"
    made = run(sys.executable, "-m", "venv", venv, cwd=base, env=clean_env())
    assert made.returncode == 0, made.stderr
    done = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, cwd=base, env=clean_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    site = run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
               cwd=base, env=clean_env()).stdout.strip()
    assert not (Path(site) / "ansible_collections").exists(), "the venv has collections besides the wheel's"
    return venv / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_installed_wheel_lists_the_scenarios_from_any_folder(installed: Path, elsewhere: Path) -> None:
    listed = run(installed / "runbook", "list", "--json", cwd=elsewhere, env=clean_env())
    assert listed.returncode == 0, listed.stderr
    names = {item["name"] for item in json.loads(listed.stdout)["scenarios"]}
    assert {"outage", "rollback", "deploy", "diagnose"} <= names




def test_installed_wheel_recovers_an_outage(installed: Path, elsewhere: Path,
                                            test_host: tuple[str, str]) -> None:
    inventory, container = test_host
    app = os.environ.get("RUNBOOK_TEST_APP_CONTAINER", "backend-api-1")
    runs = elsewhere / "runs"
    on_host(container, "docker", "stop", app)
    assert on_host(container, "python3", "-c", HEALTH, check=False).returncode != 0, "the host is not broken"

    result = run(installed / "runbook", "run", "outage", "-i", inventory, "--yes", cwd=elsewhere,
                 env=clean_env(RUNBOOK_RUNS_DIR=str(runs)), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert on_host(container, "python3", "-c", HEALTH).stdout.strip() == "200"

    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    record = json.loads((folder / "run.json").read_text())
    assert record["result"] == "ok" and record["exit_code"] == 0
    assert (folder / "report.md").read_text().startswith("# Incident Report: Complete service outage")
    # ansible-playbook ran the playbook shipped in the installed package
    command = json.loads((folder / "command").read_text())
    assert command["cwd"].startswith(str(installed.parent)) and command["cwd"].endswith("runbook/_content")


def test_installed_wheel_runs_a_clone_given_by_runbook_project_dir(installed: Path, elsewhere: Path,
                                                                  test_host: tuple[str, str]) -> None:
    """A clone holds runbook.ops only: community.docker (the test host's connection) comes from the wheel."""
    inventory, _container = test_host
    clone = installed.parents[1] / "source"  # the sources the wheel was built from, laid out as a clone
    assert not (clone / "collections" / "ansible_collections" / "community").exists()
    runs = elsewhere / "runs"
    result = run(installed / "runbook", "run", "diagnose", "-i", inventory, cwd=elsewhere,
                 env=clean_env(RUNBOOK_RUNS_DIR=str(runs), RUNBOOK_PROJECT_DIR=str(clone)), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    command = json.loads((folder / "command").read_text())
    assert Path(command["cwd"]) == clone.resolve()
