# SPDX-License-Identifier: GPL-3.0-or-later
"""Install anywhere: the built wheel, in a fresh venv outside the repository.

The wheel is built and installed once per run (tests/wheelutil.py, the `installed`
fixture of tests/conftest.py); from a folder that is not the repository, runs
`runbook list` and `runbook run outage` against the prepared test host
(RUNBOOK_TEST_INVENTORY / RUNBOOK_TEST_HOST, as in tests/integration/test_outage.py).
The fresh venv has ansible-core but no collections of its own: the docker
connection and the callbacks can only come from the ones shipped in the wheel.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostutil import HEALTH, on_host
from wheelutil import clean_env, run

pytestmark = pytest.mark.integration


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
