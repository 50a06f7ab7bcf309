# SPDX-License-Identifier: GPL-3.0-or-later
"""Tags: one per runbook step, documented in each playbook's runbook_scenario
header; no --tags/--skip-tags combination skips the input checks or the run lock.

ansible-playbook --list-tags/--list-tasks show what a tag selection runs
without any host; the guard (runbook.ops.runbook_guard, also next to the playbooks)
refuses the only selections that would skip `always` tasks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yml"))
BIN = Path(sys.executable).parent  # the venv running the tests (make venv, make compat)
ANSIBLE_PLAYBOOK = str(BIN / "ansible-playbook") if (BIN / "ansible-playbook").exists() else "ansible-playbook"
# A task line of --list-tasks: "      Task name\tTAGS: [a, b]"
TASK_LINE = re.compile(r"^\s+(?P<name>.+?)\tTAGS: \[(?P<tags>[^\]]*)\]$")


def documented_tags(playbook: Path) -> dict[str, str]:
    plays = yaml.safe_load(playbook.read_text())
    return plays[0]["vars"]["runbook_scenario"].get("tags") or {}


def ansible(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, ANSIBLE_NOCOLOR="1"))


def listed_tasks(playbook: Path, *selection: str) -> list[tuple[str, set[str]]]:
    result = ansible("--list-tasks", *selection, str(playbook))
    assert result.returncode == 0, result.stderr
    tasks = []
    for line in result.stdout.splitlines():
        match = TASK_LINE.match(line)
        if match:
            tasks.append((match["name"], {tag.strip() for tag in match["tags"].split(",") if tag.strip()}))
    return tasks


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.name)
def test_every_step_tag_is_documented_and_every_documented_tag_exists(playbook):
    documented = documented_tags(playbook)
    assert documented, f"{playbook.name}: no `tags` in its runbook_scenario header"
    assert all(isinstance(text, str) and text for text in documented.values())
    result = ansible("--list-tags", str(playbook))
    assert result.returncode == 0, result.stderr
    found = set(re.search(r"TASK TAGS: \[([^\]]*)\]", result.stdout)[1].replace(" ", "").split(","))
    assert found - {"always"} == set(documented)


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.name)
def test_no_tag_selection_skips_the_input_checks_or_the_lock(playbook):
    everything = listed_tasks(playbook)
    # Tagged `always` alone: the checks and the lock. (The argument checks of a step's
    # imported role carry `always` and the step's tag: they go with the step.)
    always = [name for name, tags in everything if tags == {"always"}]
    steps = list(documented_tags(playbook))
    selections = [("--tags", tag) for tag in steps] + [("--skip-tags", tag) for tag in steps]
    selections += [("--tags", steps[0], "--skip-tags", ",".join(steps)), ("--skip-tags", "all"), ("--tags", "untagged")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda selection: (selection, listed_tasks(playbook, *selection)), selections))
    for selection, tasks in runs:
        names = [name for name, _ in tasks]
        missing = [name for name in always if name not in names]
        assert not missing, f"{playbook.name} {' '.join(selection)} skips {missing}"
    if playbook.name in ("rollback.yml", "deploy.yml", "outage.yml"):
        assert any("run lock" in name for name in always), always
    if playbook.name in ("rollback.yml", "deploy.yml"):
        assert "Check the inputs before anything changes" in always


@pytest.mark.parametrize("skip", ["always", "tagged,rollback"])
@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.name)
def test_the_guard_refuses_skipping_always_tasks(playbook, skip):
    """The only selections that skip `always` tasks; refused before any host is contacted."""
    result = ansible("--skip-tags", skip, str(playbook))
    assert result.returncode == 2
    assert "refused --skip-tags" in result.stderr
    assert "PLAY [" not in result.stdout  # nothing ran


def test_a_step_selection_runs_only_that_step_and_the_always_tasks():
    """--tags rollback: the checks, the lock and the release transaction, nothing else at top level."""
    tasks = listed_tasks(ROOT / "playbooks" / "rollback.yml", "--tags", "rollback")
    assert {tag for _, tags in tasks for tag in tags} <= {"always", "rollback"}
    assert any("rollback" in tags for _, tags in tasks)


@pytest.mark.parametrize("options", [("--start-at-task", "Build the release and swap it in"), ("--step",),
                                     ("--step", "--start-at-task", "x")],
                         ids=["start-at-task", "step", "both"])
@pytest.mark.parametrize("playbook", [ROOT / "playbooks" / "rollback.yml", ROOT / "playbooks" / "security.yml"],
                         ids=lambda p: p.name)
def test_the_guard_refuses_starting_past_or_stepping_over_the_checks(playbook, options):
    """--start-at-task skips the always tasks before it, --step lets a prompt skip them: one line, exit 2."""
    result = ansible(*options, str(playbook))
    assert result.returncode == 2, result.stdout[-1000:] + result.stderr[-1000:]
    refusal = [line for line in result.stderr.splitlines() if line.startswith("runbook: refused")]
    named = " and ".join(option for option in ("--start-at-task", "--step") if option in options)
    assert refusal == [f"runbook: refused {named}: it would skip "
                       "the input checks and the run lock; run one step with --tags instead "
                       "(ansible-playbook --list-tags PLAYBOOK)"]
    assert "PLAY [" not in result.stdout  # nothing ran
