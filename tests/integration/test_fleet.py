# SPDX-License-Identifier: GPL-3.0-or-later
"""Four real test hosts: the playbooks run them in parallel (forks) and in rolling batches
(runbook_serial from the inventory), and a failed batch stops the rest.

The module starts its own hosts fleet-1..fleet-4 (testbed/testhost.py, the image in
RUNBOOK_TESTHOST_IMAGE; skipped without it), lays the app out on all four in one
ansible-playbook run of testbed/fixture/site.yml (release v4 running, healthy) and
removes them at the end, also when a test fails. The hosts live only in this module:
they are never the one host testbed/integration.sh prepares.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from hostutil import on_host, run_testhost

from runbook.events import read_events, task_result

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOSTS = ("fleet-1", "fleet-2", "fleet-3", "fleet-4")
API = "backend-api-1"
# Run inside a host: the status and release version /health answers ("000 -" when nothing answers).
VERSION = ("import json, urllib.request, urllib.error\n"
           "try:\n"
           "    r = urllib.request.urlopen('http://localhost:3000/health', timeout=10)\n"
           "    print(r.status, json.loads(r.read())['version'])\n"
           "except urllib.error.HTTPError as e:\n"
           "    print(e.code, json.loads(e.read() or b'{}').get('version', '-'))\n"
           "except Exception:\n"
           "    print('000 -')\n")
# The outage's step that starts the stopped API: it runs on every host and takes long
# enough (docker compose up) to tell "at once" from "one after the other".
BRING_BACK_TASK = "Start every service of the stack that is not running"


@dataclass(frozen=True)
class Fleet:
    inventory: Path  # all four hosts in app_servers
    hosts_file: dict  # that inventory's content, to derive others from
    folder: Path


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if not os.environ.get("RUNBOOK_TESTHOST_IMAGE"):
        pytest.skip("RUNBOOK_TESTHOST_IMAGE is not set (the test-host image: make images)")
    folder = tmp_path_factory.mktemp("fleet")
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=len(HOSTS)) as pool:
            list(pool.map(lambda name: run_testhost("up", name, str(folder / f"{name}.yml")), HOSTS))
        hosts: dict = {}
        for name in HOSTS:
            hosts.update(yaml.safe_load((folder / f"{name}.yml").read_text())["app_servers"]["hosts"])
        content = {"app_servers": {"hosts": hosts}}
        inventory = folder / "fleet.yml"
        inventory.write_text(yaml.safe_dump(content, sort_keys=False))
        booted = time.monotonic()
        log = folder / "site.log"
        with log.open("w") as out:
            done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(len(HOSTS)),
                                   "testbed/fixture/site.yml"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=900)
        assert done.returncode == 0, log.read_text()[-3000:]
        print(f"\nfleet: 4 hosts up in {booted - started:.1f} s, app laid out in {time.monotonic() - booted:.1f} s")
        yield Fleet(inventory, content, folder)
    finally:
        for name in HOSTS:
            subprocess.run([sys.executable, "testbed/testhost.py", "down", name], cwd=ROOT, capture_output=True)


def runbook(*args: str, runs: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RUNBOOK_RUNS_DIR=str(runs))
    return subprocess.run([sys.executable, "-m", "runbook", *args], env=env, text=True, cwd=ROOT,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=1200)


def version(host: str) -> tuple[str, str]:
    """(status, release) that /health answers on the host."""
    status, release = on_host(host, "python3", "-c", VERSION).stdout.split()
    return status, release


def api_container(host: str) -> str:
    """The id of the API container that runs on the host: it changes when anything recreates it."""
    return on_host(host, "docker", "inspect", "-f", "{{.Id}}", API).stdout.strip()


def only_run(runs: Path) -> Path:
    (folder,) = [path for path in runs.iterdir() if path.is_dir()]
    return folder


def results_of(run_folder: Path, task: str) -> dict[str, tuple[datetime, datetime]]:
    """{host: (start, end)} of one task, from the run's kept ansible-runner events."""
    (events_dir,) = {path.parent for path in run_folder.rglob("job_events/*.json")}
    found = {}
    for event in read_events(events_dir.parent):
        result = task_result(event)
        if result is not None and result.task == task and result.start and result.end:
            found[result.host] = (result.start, result.end)
    return found


def test_outage_over_four_hosts_runs_them_at_once(fleet: Fleet, tmp_path: Path) -> None:
    for host in HOSTS:
        on_host(host, "docker", "stop", API)
        assert version(host)[0] == "000", f"{host} is not broken"
    runs = tmp_path / "runs"

    started = time.monotonic()
    run = runbook("run", "outage", "-i", str(fleet.inventory), "-f", "4", runs=runs)
    took = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    print(f"\nfleet: outage over 4 hosts in {took:.1f} s")

    assert [version(host) for host in HOSTS] == [("200", "v4")] * 4
    folder = only_run(runs)
    record = json.loads((folder / "run.json").read_text())
    assert record["result"] == "ok" and record["hosts"] == list(HOSTS)
    # At once: every host had started the step before any host had finished it.
    spans = results_of(folder, BRING_BACK_TASK)
    assert sorted(spans) == list(HOSTS)
    last_start = max(start for start, _ in spans.values())
    first_end = min(end for _, end in spans.values())
    assert last_start < first_end, spans
    report = (folder / "report.md").read_text()
    for host in HOSTS:
        assert f"\n| {host} | " in report, host


def test_rolling_rollback_from_the_inventory_stops_at_the_failed_batch(fleet: Fleet, tmp_path: Path) -> None:
    """runbook_serial: 1 in the inventory; fleet-3's target is the release whose /health answers 500."""
    content = json.loads(json.dumps(fleet.hosts_file))
    group = content["app_servers"]
    group["vars"] = {"runbook_serial": 1, "commit": "HEAD~1"}  # v4 -> v3, healthy
    # HEAD~2 is v2: its health gate fails and the rollback restores v4. The bad release
    # answers 500 at once: a 10 s gate says the same as the default 60 s.
    group["hosts"]["fleet-3"].update(commit="HEAD~2", compose_deploy_health_timeout=10)
    inventory = tmp_path / "rolling.yml"
    inventory.write_text(yaml.safe_dump(content, sort_keys=False))
    assert [version(host) for host in HOSTS] == [("200", "v4")] * 4
    untouched_api = api_container("fleet-4")
    runs = tmp_path / "runs"

    started = time.monotonic()
    run = runbook("run", "rollback", "-i", str(inventory), "-f", "4", "--yes", runs=runs)
    took = time.monotonic() - started
    print(f"\nfleet: rolling rollback (3 batches run, the 4th not) in {took:.1f} s")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]

    assert version("fleet-1") == ("200", "v3")
    assert version("fleet-2") == ("200", "v3")
    assert version("fleet-3") == ("200", "v4"), "fleet-3 was not restored to the release that ran"
    assert version("fleet-4") == ("200", "v4")
    assert api_container("fleet-4") == untouched_api, "fleet-4 was touched after the failed batch"

    folder = only_run(runs)
    record = json.loads((folder / "run.json").read_text())
    assert record["result"] == "failed"
    assert record["stats"]["failures"] == {"fleet-3": 1}
    # One batch at a time: each host's rollback ended before the next host's began.
    spans = results_of(folder, "Check the inputs before anything changes")
    assert sorted(spans) == ["fleet-1", "fleet-2", "fleet-3"]
    assert spans["fleet-1"][1] < spans["fleet-2"][0] and spans["fleet-2"][1] < spans["fleet-3"][0]
    report = (folder / "report.md").read_text()
    assert "- fleet-3: Fail, naming both releases failed: Rollback to " in report
    assert "failed its health gate" in report
    # The hosts the run reached, each with its counts, and fleet-4, which no batch
    # reached (the lock step published every host of the play).
    for host in ("fleet-1", "fleet-2", "fleet-3"):
        assert f"\n| {host} | " in report, host
    assert "| Not reached | fleet-4 (an earlier batch failed" in report
    assert "\n| fleet-4 (not reached) | " in report
