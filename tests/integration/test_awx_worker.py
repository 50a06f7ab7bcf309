# SPDX-License-Identifier: GPL-3.0-or-later
"""Scenarios run as AWX runs a job: ansible-runner transmit | worker | process, the
worker inside the execution environment runbook-ee:latest (`make ee`), against the
prepared test host (RUNBOOK_TEST_INVENTORY / RUNBOOK_TEST_HOST, as for every integration
test). testbed/awx_worker.py lays out the private data dir as AWX does and runs the pipe.

Skips when the image runbook-ee:latest does not exist (`make ee` builds it; `make
integration`, so `make test`, builds it first). The rollback leaves the host as it found it:
on the release it ran, and without a state dir when it had none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hostutil import HEALTH, healthy, on_host

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "runbook-ee:latest"
APP = "backend-api-1"
APP_DIR = "/root/echoelmusic"
STATE_DIR = "/var/lib/runbook"


@pytest.fixture(scope="module")
def execution_environment() -> str:
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        pytest.skip(f"the execution environment {IMAGE} does not exist: `make ee` builds it")
    return IMAGE


def through_the_worker(private_data_dir: Path, inventory: str, playbook: str, image: str,
                       extravars: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], Path]:
    command = [sys.executable, str(ROOT / "testbed" / "awx_worker.py"), str(private_data_dir), "-i", inventory,
               "-p", playbook, "--image", image, "-e", json.dumps(extravars or {})]
    run = subprocess.run(command, text=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=1200)
    return run, private_data_dir / "artifacts" / "job"


def events(artifacts: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((artifacts / "job_events").glob("*.json"))]


def stats(artifacts: Path) -> dict:
    (recap,) = [event["event_data"] for event in events(artifacts) if event["event"] == "playbook_on_stats"]
    return recap


def test_outage_recovers_a_broken_host_through_the_worker(test_host: tuple[str, str], execution_environment: str,
                                                         tmp_path: Path) -> None:
    inventory, container = test_host
    on_host(container, "docker", "stop", APP)
    assert on_host(container, "python3", "-c", HEALTH, check=False).returncode != 0, "the host is not broken"

    run, artifacts = through_the_worker(tmp_path / "outage", inventory, "playbooks/outage.yml", execution_environment)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert healthy(container)
    assert (artifacts / "status").read_text().strip() == "successful"
    assert (artifacts / "rc").read_text().strip() == "0"
    recap = stats(artifacts)
    assert not recap["failures"] and not recap["dark"] and recap["changed"].get(container)
    # The events came back from the worker in the EE: the task that started the api ran on the host.
    started = [event for event in events(artifacts) if event["event"] == "runner_on_ok"
               and event["event_data"]["task"] == "Start every service of the stack that is not running"]
    assert started and started[0]["event_data"]["host"] == container
    assert "PLAY RECAP" in (artifacts / "stdout").read_text()


def test_rollback_with_survey_answers_through_the_worker(test_host: tuple[str, str], execution_environment: str,
                                                        tmp_path: Path) -> None:
    """The survey's answers as AWX passes them: strings, the booleans as multiple choice, the confirmation."""
    inventory, container = test_host
    before = on_host(container, "git", "-C", APP_DIR, "rev-parse", "HEAD").stdout.strip()
    target = on_host(container, "git", "-C", APP_DIR, "rev-parse", "HEAD~1").stdout.strip()
    answers = {"commit": target, "no_cache": "false", "snapshot": "true", "runbook_confirm": "yes, run rollback"}
    fresh = on_host(container, "test", "-e", STATE_DIR, check=False).returncode != 0
    try:
        run, artifacts = through_the_worker(tmp_path / "rollback", inventory, "playbooks/rollback.yml",
                                            execution_environment, answers)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert (artifacts / "status").read_text().strip() == "successful"
        assert on_host(container, "git", "-C", APP_DIR, "rev-parse", "HEAD").stdout.strip() == target
        assert healthy(container)
        recap = stats(artifacts)
        assert not recap["failures"] and recap["changed"].get(container)

        # A value outside the commit's pattern is refused before the host changes: status failed.
        bad, refused = through_the_worker(tmp_path / "refused", inventory, "playbooks/rollback.yml",
                                          execution_environment, {**answers, "commit": "main; rm -rf /"})
        assert bad.returncode == 1
        assert (refused / "status").read_text().strip() == "failed"
        assert 'Refused commit="main; rm -rf /"' in (refused / "stdout").read_text()
        assert on_host(container, "git", "-C", APP_DIR, "rev-parse", "HEAD").stdout.strip() == target
    finally:
        # Leave the host on the release it ran, for the tests after this one.
        back, _ = through_the_worker(tmp_path / "back", inventory, "playbooks/rollback.yml", execution_environment,
                                     {**answers, "commit": before})
        assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
        if fresh:  # and as fresh as it was: later tests (tests/test_bad_input.py) need a host with no state
            on_host(container, "rm", "-rf", STATE_DIR)
